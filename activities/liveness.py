"""A tool activity tells Temporal it is alive while its platform call is in flight.

With a heartbeat timeout on the call (`workflows.activity_options.TOOL_HEARTBEAT`), a
worker that dies mid-call (kill -9, a lost node) is noticed once the heartbeats stop and
the call is retried on another worker at once, instead of after the whole start-to-close
timeout; the customer waits seconds, not half a minute. A call that answers within the
first beat sends no heartbeat at all (no extra request for the usual call).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio import activity

P = ParamSpec("P")
R = TypeVar("R")

#: Seconds between beats; well inside TOOL_HEARTBEAT, so a busy event loop is not taken
#: for a dead worker.
BEAT_EVERY = 2.0


async def _beat() -> None:
    while True:
        await asyncio.sleep(BEAT_EVERY)
        activity.heartbeat()


def heartbeating(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Heartbeat every `BEAT_EVERY` seconds while `fn` runs (put it under `@activity.defn`)."""

    @functools.wraps(fn)
    async def alive(*args: P.args, **kwargs: P.kwargs) -> R:
        beats = asyncio.create_task(_beat())
        try:
            return await fn(*args, **kwargs)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats

    return alive
