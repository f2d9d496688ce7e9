"""ticketflow's own Prometheus metrics, defined once for the worker and the API.

Every name starts with ``ticketflow_`` and every label is an id or a fixed word (a policy
id, a helpdesk or platform name, a tool name, an outcome, a result): never customer text,
so a scrape cannot leak an email or an order's address. The deploy's Grafana dashboard
queries these exact names.

Where each is counted:

- tickets started / ended: the worker, ``workflows/ticket_counts.py`` (a workflow
  interceptor that counts only when the workflow is not replaying history);
- turn latency, webhook deliveries, claim follow-ups open: the API (``api/metrics.py``,
  ``api/services/tickets.py``, ``api/webhooks/receiver.py``);
- tool calls and understanding confidence: ``ActivityMetrics`` below, around the
  activities, each attempt counted with its result.
"""

from __future__ import annotations

import asyncio
from typing import Any

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.message_reading import READ_MESSAGE, MessageRead, ReadMessageRequest
from activities.platforms.base import PlatformError, PlatformRateLimited, PlatformUnavailable
from activities.tools import INTERNAL_NOTE
from activities.understanding import UNDERSTAND_REPLY, UnderstandRequest, reply_confidence
from policies.catalog import CATALOG
from policies.replies import Reply

# The `_created` companion series only doubles what a scrape carries.
prometheus_client.disable_created_metrics()

TICKETS_STARTED = Counter(
    "ticketflow_tickets_started",
    "Tickets started (a new conversation, not a continue-as-new)",
    ["policy", "helpdesk"],
)
TICKETS_ENDED = Counter(
    "ticketflow_tickets_ended",
    "Tickets ended, by the policy that ran them and their outcome",
    ["policy", "outcome", "helpdesk"],
)
TURN_SECONDS = Histogram(
    "ticketflow_turn_seconds",
    "One customer message to the bot's replies, as the API waits for them (update round trip)",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOOL_CALLS = Counter(
    "ticketflow_tool_calls",
    "Platform tool calls (each attempt) by platform, tool and result: "
    "ok, rate_limited, unavailable or rejected",
    ["platform", "tool", "result"],
)
UNDERSTANDING_CONFIDENCE = Histogram(
    "ticketflow_understanding_confidence",
    "How much of what the bot asked a customer's reply answered (0: nothing, 1: all of it)",
    buckets=(0.0, 0.25, 0.5, 0.75, 1.0),
)
WEBHOOK_DELIVERIES = Counter(
    "ticketflow_webhook_deliveries",
    "Webhook deliveries by source platform and result",
    ["source", "result"],
)
CLAIM_FOLLOWUPS_OPEN = Gauge(
    "ticketflow_claim_followups_open",
    "Carrier claim follow-ups running now (from Temporal visibility, at scrape time)",
)

#: Unrouted, or no policy yet: the label value instead of an empty string.
NO_POLICY = "none"


def tool_result(error: BaseException | None) -> str:
    """ok, rate_limited, unavailable or rejected: what an operator reads off the dashboard.
    Anything a connector did not name is a failure retrying may cure: unavailable."""
    if error is None:
        return "ok"
    if isinstance(error, PlatformRateLimited):
        return "rate_limited"
    if isinstance(error, PlatformError) and not isinstance(error, PlatformUnavailable):
        return "rejected"  # 4xx: not found, auth, refused as sent
    return "unavailable"


TOOL_ACTIVITIES = frozenset({*CATALOG, INTERNAL_NOTE})


def _observe_confidence(request: UnderstandRequest, reply: Reply) -> None:
    confidence = reply_confidence(request, reply)
    if confidence is not None:
        UNDERSTANDING_CONFIDENCE.observe(confidence)


class _CountActivities(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        if name in TOOL_ACTIVITIES:
            return await self._tool_call(name, input)
        result = await self.next.execute_activity(input)
        request = input.args[0] if input.args else None
        if name == READ_MESSAGE and isinstance(result, MessageRead):
            # The reading inside the one local activity per message (lean-turns).
            if isinstance(request, ReadMessageRequest):
                _observe_confidence(request.understand, result.reply)
        elif name == UNDERSTAND_REPLY and isinstance(result, Reply):
            if isinstance(request, UnderstandRequest):
                _observe_confidence(request, result)
        return result

    async def _tool_call(self, name: str, input: ExecuteActivityInput) -> Any:
        call = input.args[0] if input.args else None
        platform = getattr(call, "platform", None) or "none"
        try:
            result = await self.next.execute_activity(input)
        except asyncio.CancelledError:
            raise  # the worker is stopping or the ticket moved on: no platform answer
        except BaseException as err:
            TOOL_CALLS.labels(platform, name, tool_result(err)).inc()
            raise
        TOOL_CALLS.labels(platform, name, "ok").inc()
        return result


class ActivityMetrics(Interceptor):
    """Pass to ``Worker(interceptors=[...])``: tool calls and understanding confidence."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountActivities(next)
