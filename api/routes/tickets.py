"""Ticket API for the web channel, tooling and operators: HTTP in and out, with the work in
`api/services/tickets.py`. A ticket id is its workflow id."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, model_validator

from api.auth import Scope
from api.deps import TicketServiceDep, require_scope
from api.problems import problem_responses
from api.services.tickets import TicketSummary, TicketView, unknown_ticket
from workflows import search_attributes as sa
from workflows.ticket_models import (
    MAX_MESSAGE_CHARS,
    AgentAction,
    Customer,
    CustomerMessage,
    TicketStart,
    TicketStatus,
    TurnResult,
    parse_ticket_workflow_id,
    ticket_workflow_id,
)

router = APIRouter(
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[Depends(require_scope(Scope.TICKETS))],
    responses=problem_responses(401, 422),
)

WEB_CHANNEL = "web"
# Search-attribute values are matched literally; this keeps filters from becoming queries.
FILTER_VALUE = r"^[A-Za-z0-9 _.:-]{1,100}$"


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


class Accepted(BaseModel):
    """The ticket took the message / action; the workflow does the work asynchronously."""

    ticket_id: str
    message_id: str | None = None
    accepted: bool = True


class TicketPage(BaseModel):
    tickets: list[TicketSummary]
    next_page_token: str | None = Field(
        description="pass as `next_page_token` for the next page; None on the last page"
    )


class AgentRequest(BaseModel):
    action: Literal["takeover", "release", "resolve", "note", "reply"] = Field(
        description="takeover: the bot goes silent; release: back to the bot; "
        "resolve: end the ticket; note: add an agent note to the transcript; "
        "reply: send `text` to the customer through the helpdesk, as written (taking "
        "the ticket over if the bot had it)"
    )
    agent: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)

    @model_validator(mode="after")
    def _text_when_needed(self) -> AgentRequest:
        if self.action in ("note", "reply") and not (self.text or "").strip():
            raise ValueError(f"a {self.action} needs its text")
        return self


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_ticket(body: NewTicket, tickets: TicketServiceDep) -> TurnResult:
    """Open a web-channel ticket with the customer's first message; returns the first replies."""
    external_id = body.external_id or uuid.uuid4().hex[:16]
    start = TicketStart(
        helpdesk=WEB_CHANNEL,
        external_id=external_id,
        customer=body.customer,
        ticket_type=body.ticket_type,
        context=body.context,
    )
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.message)
    return await tickets.update_with_start(ticket_workflow_id(WEB_CHANNEL, external_id), start, msg)


@router.post(
    "/{ticket_id}/messages",
    responses={
        202: {"model": Accepted, "description": "with `wait=false`: accepted, not yet answered"},
        **problem_responses(404),
    },
)
async def post_message(
    ticket_id: str,
    body: NewMessage,
    tickets: TicketServiceDep,
    response: Response,
    wait: Annotated[
        bool, Query(description="false: answer 202 at once; the replies come later")
    ] = True,
) -> TurnResult | Accepted:
    """Deliver a customer message (update-with-start) and return the bot's replies."""
    parsed = parse_ticket_workflow_id(ticket_id)
    if parsed is None:
        raise unknown_ticket(ticket_id)
    helpdesk, external_id = parsed
    start = TicketStart(helpdesk=helpdesk, external_id=external_id)
    msg = CustomerMessage(message_id=body.message_id or uuid.uuid4().hex, text=body.text)
    if wait:
        return await tickets.update_with_start(ticket_id, start, msg)
    if not msg.text.strip():
        # The same rule the workflow's update validator applies to waiting callers.
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "message text is empty")
    await tickets.signal_with_start(ticket_id, start, msg)
    response.status_code = status.HTTP_202_ACCEPTED
    return Accepted(ticket_id=ticket_id, message_id=msg.message_id)


def _encode_page_token(raw: bytes) -> str:
    """Temporal's page token plus a checksum, so a mangled token is refused here and never
    reaches the server (which answers junk tokens with retried internal errors)."""
    check = hashlib.sha256(raw).hexdigest()[:16]
    return base64.urlsafe_b64encode(raw).decode() + "." + check


def _decode_page_token(token: str) -> bytes:
    encoded, _, check = token.partition(".")
    try:
        raw = base64.b64decode(encoded.encode(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or not hmac.compare_digest(hashlib.sha256(raw).hexdigest()[:16], check):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "next_page_token is not valid")
    return raw


@router.get("")
async def list_tickets(
    tickets: TicketServiceDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    policy: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    outcome: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    ticket_type: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    helpdesk: Annotated[str | None, Query(pattern=FILTER_VALUE)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    next_page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> TicketPage:
    """Tickets from Temporal visibility, newest first (eventually consistent: a ticket
    appears, and its status changes, within about a second)."""
    filters = {
        key.name: value
        for key, value in (
            (sa.TICKET_STATUS, status_.value if status_ else None),
            (sa.POLICY_ID, policy),
            (sa.OUTCOME, outcome),
            (sa.TICKET_TYPE, ticket_type),
            (sa.HELPDESK, helpdesk),
        )
        if value is not None
    }
    token = _decode_page_token(next_page_token) if next_page_token else None
    found, following = await tickets.page(filters, page_size, token)
    return TicketPage(
        tickets=found,
        next_page_token=_encode_page_token(following) if following else None,
    )


@router.get("/{ticket_id}", responses=problem_responses(404, 503))
async def get_ticket(ticket_id: str, tickets: TicketServiceDep) -> TicketView:
    """State, transcript, trace and outcome, read from the workflow's queries."""
    return await tickets.view(ticket_id)


@router.post(
    "/{ticket_id}/agent",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def agent_action(ticket_id: str, body: AgentRequest, tickets: TicketServiceDep) -> Accepted:
    """What a human agent did: take over, release to the bot, resolve, or note."""
    await tickets.act(ticket_id, AgentAction(**body.model_dump()))
    return Accepted(ticket_id=ticket_id)


@router.post(
    "/{ticket_id}/close",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 409),
)
async def close_ticket(ticket_id: str, tickets: TicketServiceDep) -> Accepted:
    """Close the ticket: the workflow ends with its current outcome."""
    await tickets.close(ticket_id)
    return Accepted(ticket_id=ticket_id)
