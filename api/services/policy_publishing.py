"""Publishing a draft the one way both the API and the console do it: its conversation
scripts (packaged and stored in the app database) first (when the app has a runner), then
the store's checks and the write, then the published set is told to reload."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from api.services import policy_store
from api.services.policy_scripts import policy_scripts
from api.services.published_policies import ApiPublishedSet
from policies.library import PolicyLibrary
from policies.plan import Plan

#: Plays a policy's conversation scripts (its packaged ones and the stored YAML sources
#: given) against a draft plan (with the published set for the rest); returns each failed
#: expectation, [] when they pass.
PolicyScripts = Callable[[str, Plan, PolicyLibrary, list[str]], Awaitable[list[str]]]


class ScriptFailures(Exception):
    """The draft fails its policy's conversation scripts; nothing was published."""

    def __init__(self, policy_id: str, failures: list[str]) -> None:
        super().__init__(
            f"the draft of {policy_id!r} fails its conversation scripts; nothing was published"
        )
        self.failures = failures


async def publish_draft(
    engine: Engine,
    published: ApiPublishedSet,
    scripts: PolicyScripts | None,
    policy_id: str,
    *,
    message: str,
    author: str,
    expected_version: str | None,
    default_platforms: list[str] | None = None,
) -> str:
    """The published version hash; `StoreError` or `ScriptFailures` when refused.
    `default_platforms`: the deployment's, for a role the draft names no platform for."""
    defaults = default_platforms or []
    tested: str | None = None
    if scripts is not None:
        plan = await run_in_threadpool(
            functools.partial(
                policy_store.draft_plan,
                engine,
                policy_id,
                expected_version,
                default_platforms=defaults,
            )
        )
        stored = await run_in_threadpool(policy_scripts, engine, policy_id)
        sources = [script.source for script in stored]
        failures = await scripts(policy_id, plan, published.current(), sources)
        if failures:
            raise ScriptFailures(policy_id, failures)
        tested = plan.version
    version = await run_in_threadpool(
        functools.partial(
            policy_store.publish,
            engine,
            policy_id,
            message=message,
            author=author,
            expected_version=expected_version,
            tested_version=tested,
            default_platforms=defaults,
        )
    )
    published.invalidate()
    return version
