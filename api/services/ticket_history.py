"""What a ticket's Temporal history records beyond its queries: the start it was given
(customer, context) and its tool calls, each catalog tool's activity with the arguments it
was scheduled with and the result it completed with (or the error it failed with), decoded
through the client's codec. The trace says which step ran; the history holds what it sent
and got back, so nothing is recorded twice. The latest run's history only (continue-as-new
starts a fresh one, its start carrying the first run's)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from policies.catalog import CATALOG

FINISHED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "ran",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "failed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "failed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "failed",
}


class ToolCallView(BaseModel):
    """One tool call: what the workflow asked for and what came back."""

    tool: str
    platform: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None
    status: str = Field(description="running, ran or failed")
    result: Any = None
    error: str | None = None
    attempts: int = 1


def _scheduled_id(event: HistoryEvent) -> int:
    for name in (
        "activity_task_completed_event_attributes",
        "activity_task_failed_event_attributes",
        "activity_task_timed_out_event_attributes",
        "activity_task_canceled_event_attributes",
        "activity_task_started_event_attributes",
    ):
        if event.HasField(name):
            return int(getattr(event, name).scheduled_event_id)
    return 0


class TicketHistory(BaseModel):
    start: dict[str, Any] = Field(default_factory=dict, description="the TicketStart, decoded")
    tool_calls: list[ToolCallView] = Field(default_factory=list)


async def ticket_history(client: Client, ticket_id: str) -> TicketHistory:
    """The ticket's start and every catalog tool it called, in order."""
    history = await client.get_workflow_handle(ticket_id).fetch_history()
    calls: dict[int, ToolCallView] = {}
    start: dict[str, Any] = {}
    converter = client.data_converter
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            given = event.workflow_execution_started_event_attributes.input.payloads
            decoded_start = await converter.decode(given) if given else []
            if decoded_start and isinstance(decoded_start[0], dict):
                start = decoded_start[0]
            continue
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            name = attributes.activity_type.name
            if name not in CATALOG:
                continue
            decoded = await converter.decode(attributes.input.payloads) if attributes.input else []
            call: dict[str, Any] = decoded[0] if decoded and isinstance(decoded[0], dict) else {}
            params = call.get("params")
            calls[event.event_id] = ToolCallView(
                tool=name,
                platform=call.get("platform"),
                arguments=params if isinstance(params, dict) else {},
                idempotency_key=call.get("idempotency_key"),
                status="running",
            )
            continue
        view = calls.get(_scheduled_id(event))
        if view is None:
            continue
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            view.attempts = max(1, int(event.activity_task_started_event_attributes.attempt))
        elif event.event_type in FINISHED:
            view.status = FINISHED[event.event_type]
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                result = event.activity_task_completed_event_attributes.result
                values = await converter.decode(result.payloads) if result.payloads else []
                view.result = values[0] if values else None
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
                failure = event.activity_task_failed_event_attributes.failure
                error = await converter.decode_failure(failure)
                view.error = str(error)[:300]
            else:
                view.error = (
                    "timed out" if "TIMED_OUT" in EventType.Name(event.event_type) else "cancelled"
                )
    return TicketHistory(start=start, tool_calls=list(calls.values()))
