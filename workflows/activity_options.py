"""How the ticket workflows call activities: timeouts and retries that match the platforms.

429 and 5xx retry (honouring Retry-After); the platforms' named 4xx errors, and input that
cannot decode, fail at once so the policy decides (tell the customer, escalate).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import TimeoutError as TemporalTimeout

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.platforms.base import NON_RETRYABLE_ERROR_TYPES

R = TypeVar("R", bound=BaseModel)

# Errors that retrying cannot fix: the platforms' named ones, and input that cannot decode.
NON_RETRYABLE = [*NON_RETRYABLE_ERROR_TYPES, "ValidationError"]


def platform_retry(maximum_interval: timedelta) -> RetryPolicy:
    """Back off from 1 s, doubling up to `maximum_interval`; named 4xx errors never retry."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=maximum_interval,
        non_retryable_error_types=NON_RETRYABLE,
    )


TOOL_RETRY = platform_retry(timedelta(seconds=30))
TOOL_TIMEOUT = timedelta(seconds=30)
#: A tool call heartbeats while in flight (activities/liveness.py): a worker that dies
#: mid-call is noticed after this, and the call retried elsewhere, not after TOOL_TIMEOUT.
TOOL_HEARTBEAT = timedelta(seconds=10)
# How long a platform may stay down before the policy decides (tell, escalate).
TOOL_GIVE_UP = timedelta(minutes=10)
LOCAL_RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=["ValidationError"])
LOCAL_TIMEOUT = timedelta(seconds=10)
#: What a local activity that timed out raises, to catch where the ticket carries on
#: without it: ActivityError when it runs, but the bare timeout failure when its marker is
#: replayed (catching only the first fails the workflow on replay). A local activity that
#: raised its own error raises that ApplicationError, live and replayed alike.
LOCAL_ACTIVITY_TIMED_OUT = (ActivityError, TemporalTimeout)


async def platform_activity(
    name: str, call: BaseModel, result_type: type[R], *, summary: str | None = None
) -> R:
    """One platform or helpdesk operation, typed both ways, with the platform retry policy."""
    result: R = await workflow.execute_activity(
        name,
        call,
        result_type=result_type,
        start_to_close_timeout=TOOL_TIMEOUT,
        schedule_to_close_timeout=TOOL_GIVE_UP,
        heartbeat_timeout=TOOL_HEARTBEAT,
        retry_policy=TOOL_RETRY,
        summary=summary,
    )
    return result
