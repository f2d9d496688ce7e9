"""The ticket workflow's contract: what comes in, what the API and the UI read back.

Kept apart from the workflow so the API can import it without the workflow sandbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

# Limits the `message` update validator enforces.
MAX_MESSAGE_CHARS = 8_000


class TicketStatus(StrEnum):
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_CLAIM = "waiting_claim"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Customer(BaseModel):
    email: str | None = None
    name: str | None = None
    external_id: str | None = None


class CustomerMessage(BaseModel):
    """One message from the customer; `message_id` makes redelivery harmless."""

    message_id: str
    text: str
    sent_at: datetime | None = None


class TicketStart(BaseModel):
    helpdesk: str
    external_id: str
    customer: Customer = Field(default_factory=Customer)
    ticket_type: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class TranscriptEntry(BaseModel):
    role: Literal["customer", "bot", "agent", "system"]
    text: str
    at: datetime
    message_id: str | None = None


class TurnResult(BaseModel):
    """What the bot said in answer to one customer message."""

    ticket_id: str
    message_id: str
    replies: list[str]
    status: TicketStatus
    duplicate: bool = False


class TicketState(BaseModel):
    ticket_id: str
    helpdesk: str
    external_id: str
    status: TicketStatus
    ticket_type: str | None = None
    waiting_for: str | None = None
    messages_received: int = 0


class TicketOutcome(BaseModel):
    ticket_id: str
    status: TicketStatus
    outcome: str


def ticket_workflow_id(helpdesk: str, external_id: str) -> str:
    return f"ticket-{helpdesk}-{external_id}"


def parse_ticket_workflow_id(ticket_id: str) -> tuple[str, str] | None:
    """`ticket-{helpdesk}-{external_id}` → (helpdesk, external_id); None if not a ticket id."""
    prefix, _, rest = ticket_id.partition("-")
    helpdesk, _, external_id = rest.partition("-")
    if prefix != "ticket" or not helpdesk or not external_id:
        return None
    return helpdesk, external_id
