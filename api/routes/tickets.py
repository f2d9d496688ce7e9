"""Ticket API for the web channel, tooling and operators. A ticket id is its workflow id."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SettingsDep, TemporalDep
from ticketflow.settings import Settings
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    Customer,
    CustomerMessage,
    TicketStart,
    TicketState,
    TicketStatus,
    TranscriptEntry,
    TurnResult,
    parse_ticket_workflow_id,
    ticket_workflow_id,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])

WEB_CHANNEL = "web"


class NewTicket(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    customer: Customer = Field(default_factory=Customer)
    ticket_type: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$", description="Defaults to a new id."
    )
    message_id: str | None = None


class NewMessage(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    message_id: str | None = Field(
        default=None, description="Your id for this message; resending it is harmless."
    )


class TicketView(BaseModel):
    ticket_id: str
    state: TicketState
    transcript: list[TranscriptEntry]


def _start_operation(
    settings: Settings, ticket_id: str, start: TicketStart
) -> WithStartWorkflowOperation[Any, Any]:
    return WithStartWorkflowOperation(
        TicketWorkflow.run,
        start,
        id=ticket_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.TICKET_STATUS, TicketStatus.OPEN.value),
                SearchAttributePair(sa.HELPDESK, start.helpdesk),
                SearchAttributePair(sa.TICKET_TYPE, start.ticket_type or "unrouted"),
            ]
        ),
        static_summary=f"{start.helpdesk} ticket {start.external_id}"
        + (f" ({start.ticket_type})" if start.ticket_type else ""),
    )


async def _deliver(
    client: Client, settings: Settings, ticket_id: str, start: TicketStart, msg: CustomerMessage
) -> TurnResult:
    try:
        result: TurnResult = await client.execute_update_with_start_workflow(
            TicketWorkflow.message,
            msg,
            start_workflow_operation=_start_operation(settings, ticket_id, start),
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, cause.message) from err
        raise
    return result


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(body: NewTicket, client: TemporalDep, settings: SettingsDep) -> TurnResult:
    """Open a web-channel ticket with the customer's first message; returns the first replies."""
    external_id = body.external_id or uuid.uuid4().hex[:16]
    ticket_id = ticket_workflow_id(WEB_CHANNEL, external_id)
    start = TicketStart(
        helpdesk=WEB_CHANNEL,
        external_id=external_id,
        customer=body.customer,
        ticket_type=body.ticket_type,
        context=body.context,
    )
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.message)
    return await _deliver(client, settings, ticket_id, start, msg)


@router.post("/{ticket_id}/messages")
async def post_message(
    ticket_id: str, body: NewMessage, client: TemporalDep, settings: SettingsDep
) -> TurnResult:
    """Deliver a customer message (update-with-start) and return the bot's replies."""
    parsed = parse_ticket_workflow_id(ticket_id)
    if parsed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown ticket {ticket_id!r}")
    helpdesk, external_id = parsed
    start = TicketStart(helpdesk=helpdesk, external_id=external_id)
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.text)
    return await _deliver(client, settings, ticket_id, start, msg)


@router.get("/{ticket_id}")
async def get_ticket(ticket_id: str, client: TemporalDep) -> TicketView:
    """Status and transcript, read from the workflow's queries."""
    handle = client.get_workflow_handle(ticket_id)
    try:
        state: TicketState = await handle.query(TicketWorkflow.state)
        transcript: list[TranscriptEntry] = await handle.query(TicketWorkflow.transcript)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown ticket {ticket_id!r}") from err
        raise
    return TicketView(ticket_id=ticket_id, state=state, transcript=transcript)
