"""Every log line an activity writes names its ticket, run and policy.

``LogContext`` is a worker interceptor: around each activity it binds ``ticket_id`` (the
workflow id), ``run_id``, ``activity`` and, when the activity's input names one,
``policy_id`` into structlog's context variables. Lines logged through structlog or the
standard library (connectors use ``logging.getLogger``) both carry them, because the
composition root routes stdlib logging through structlog and merges the context into each
record. The values are ids, never customer data; the input itself is never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


def activity_log_fields(args: Sequence[Any]) -> dict[str, str]:
    """What the running activity's log lines are bound to."""
    info = activity.info()
    fields = {
        "ticket_id": info.workflow_id or "",
        "run_id": info.workflow_run_id or "",
        "activity": info.activity_type,
    }
    for arg in args:
        policy_id = getattr(arg, "policy_id", None)
        if isinstance(policy_id, str) and policy_id:
            fields["policy_id"] = policy_id
            break
    return fields


class _BindLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        with structlog.contextvars.bound_contextvars(**activity_log_fields(input.args)):
            return await self.next.execute_activity(input)


class LogContext(Interceptor):
    """Pass to ``Worker(interceptors=[LogContext()])``."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindLogContext(next)
