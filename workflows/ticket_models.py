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
    RESOLVED = "resolved"
    CLOSED = "closed"


class Outcome(StrEnum):
    RETAINED = "retained"
    CANCELLED = "cancelled"
    RESHIPPED = "reshipped"
    REFUNDED = "refunded"
    CLAIM_APPROVED = "claim_approved"
    CLAIM_REJECTED = "claim_rejected"
    SKIPPED = "skipped"
    SWAPPED = "swapped"
    RESTARTED = "restarted"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"
    RESOLVED = "resolved"


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
    policy_id: str | None = Field(default=None, description="skip routing: run this policy")
    context: dict[str, Any] = Field(default_factory=dict)
    history_limit: int | None = Field(
        default=None,
        description="continue as new past this many history events (default: when Temporal "
        "suggests it)",
    )
    # Set only by continue-as-new: everything the ticket knew, carried to the next run.
    carried: TicketCarry | None = None


class AgentAction(BaseModel):
    """What a human agent did on the helpdesk; while an agent holds the ticket the bot
    stays silent."""

    action: Literal["takeover", "release", "resolve", "note"]
    agent: str | None = None
    text: str | None = None


class ClaimUpdate(BaseModel):
    """A carrier claim's new status (from the claim follow-up or a carrier webhook)."""

    claim_id: str | None = None
    status: str
    approved_amount: float | None = None


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
    policy_id: str | None = None
    policy_version: str | None = None
    variant: str | None = None
    waiting_for: str | None = None
    slots: dict[str, Any] = Field(default_factory=dict)
    outcome: str | None = None
    agent: str | None = None
    messages_received: int = 0


class TraceRow(BaseModel):
    """One plan node's fate: ran / skipped / waiting / failed, with when."""

    policy_id: str
    node: str
    step: str
    line: int
    kind: str
    status: str
    at: datetime
    detail: str = ""


class TicketCarry(BaseModel):
    """The state continue-as-new carries into the next run."""

    status: TicketStatus
    transcript: list[TranscriptEntry]
    seen: list[str]
    replies: dict[str, list[str]]
    inbox: list[CustomerMessage]
    interpreter: dict[str, Any] | None = None
    plans: dict[str, Any] = Field(default_factory=dict)
    policy_id: str | None = None
    handovers: int = 0
    trace: list[TraceRow] = Field(default_factory=list)
    agent: str | None = None
    escalated: bool = False
    routing_attempts: int = 0
    outcome: str | None = None
    known_slots: dict[str, Any] = Field(default_factory=dict)
    variants: dict[str, str] = Field(default_factory=dict)


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


TicketStart.model_rebuild()
