"""The ticket workflow's contract: what comes in, what the API and the UI read back.

A module of its own so the contract reads in one place, and so the workflow's modules can
pass it through the workflow sandbox (`imports_passed_through`) instead of importing the
models again for every run. The API imports it and `workflows.ticket` alike.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from activities.experiments import Assignment
from policies.plan import Outcome as Outcome  # re-exported: callers read outcomes here
from policies.plan import Plan
from workflows.claim_models import ClaimProgress
from workflows.interpreter import InterpreterState, Waiting

# Limits the `message` update validator enforces.
MAX_MESSAGE_CHARS = 8_000


class TicketStatus(StrEnum):
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    WAITING_CLAIM = "waiting_claim"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
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
    policy_id: str | None = Field(
        default=None,
        description="the policy the first message goes to (the API's routing of it, or the "
        "caller's choice); None: the workflow routes the first message itself",
    )
    later_policy_id: str | None = Field(
        default=None,
        description="the API's routing found a second request in the opening: its policy",
    )
    later_about: str = Field(default="", description="that second request in customer words")
    policy_version: str | None = Field(
        default=None,
        description="the version hash of `policy_id` published when the ticket started "
        "(the API sets it); None: the version published when the worker loads it",
    )
    context: dict[str, Any] = Field(default_factory=dict)
    trial: bool = Field(
        default=False,
        description="a test chat (the console's): runs the version given, outside any "
        "experiment, and records no outcome, so metrics count only real customers",
    )
    history_limit: int | None = Field(
        default=None,
        description="continue as new past this many history events (default: when Temporal "
        "suggests it)",
    )
    # Set only by continue-as-new: everything the ticket knew, carried to the next run.
    carried: TicketMemory | None = None


class AgentAction(BaseModel):
    """What a human agent did on the helpdesk; while an agent holds the ticket the bot
    stays silent."""

    action: Literal["takeover", "release", "resolve", "note", "reply"]
    agent: str | None = None
    text: str | None = Field(
        default=None, description="a note's text, or a reply the customer reads as written"
    )


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
    policy_id: str | None = Field(default=None, description="the policy the ticket runs")


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
    trial: bool = Field(default=False, description="a test chat (TicketStart.trial)")


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


class InboxMessage(BaseModel):
    kind: Literal["message"] = "message"
    message: CustomerMessage


class InboxAgentAction(BaseModel):
    kind: Literal["agent"] = "agent"
    action: AgentAction


class InboxClaimProgress(BaseModel):
    kind: Literal["claim_progress"] = "claim_progress"
    progress: ClaimProgress


class InboxClaimUpdate(BaseModel):
    kind: Literal["claim_update"] = "claim_update"
    update: ClaimUpdate


class InboxClose(BaseModel):
    kind: Literal["close"] = "close"


#: Everything that reaches a ticket, in the order it arrived: the main loop drains it.
InboxItem = Annotated[
    InboxMessage | InboxAgentAction | InboxClaimProgress | InboxClaimUpdate | InboxClose,
    Field(discriminator="kind"),
]


class TicketMemory(BaseModel):
    """Everything a ticket knows, in one model: continue-as-new carries it whole, and the
    `snapshot` query returns it, so nothing is mapped (or dropped) field by field."""

    status: TicketStatus = TicketStatus.OPEN
    indexed_outcome: str | None = None
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list, description="accepted message ids, in order")
    replies: dict[str, list[str]] = Field(
        default_factory=dict, description="message id → the bot's replies to it"
    )
    inbox: list[InboxItem] = Field(default_factory=list)
    deferred: list[InboxItem] = Field(
        default_factory=list, description="claim reports held back while an agent has the ticket"
    )
    plans: dict[str, Plan] = Field(default_factory=dict)
    policy_id: str | None = None
    interpreter: InterpreterState | None = None
    entry: int = Field(
        default=0, description="which policy entry this is: +1 per hand-over or new routing"
    )
    handoffs: int = 0
    trace: list[TraceRow] = Field(default_factory=list)
    agent: str | None = None
    escalated: bool = False
    routing_attempts: int = 0
    routing_choices: list[str] = Field(
        default_factory=list,
        description="the two policies the bot asked the customer to choose between",
    )
    later_policy_id: str | None = Field(
        default=None, description="a second request in the opening message: its policy"
    )
    later_about: str = Field(default="", description="that second request in customer words")
    outcome: str | None = None
    known_slots: dict[str, Any] = Field(default_factory=dict)
    customer_keyed: bool = Field(
        default=False, description="the CustomerKey search attribute is set (for this email)"
    )
    variants: dict[str, str] = Field(default_factory=dict)
    assignments: dict[str, Assignment] = Field(
        default_factory=dict, description="policy id → its running experiment's variant"
    )
    customer_key: str | None = Field(
        default=None, description="the CustomerKey (keyed hash of the email): assigns variants"
    )
    started_at: datetime | None = Field(default=None, description="the first run's start")
    agent_took_over: bool = False
    agent_replies: int = Field(
        default=0, description="public replies agents sent: each one's idempotency key"
    )
    # The satisfaction question (`csat: true`): asked once, answered 1–5 or not at all.
    csat_asked: bool = False
    csat_waiting: bool = False
    csat_until: datetime | None = None
    csat: int | None = None
    outcome_recorded: bool = False
    # Silence: when the customer last wrote (or the ticket started), reminders since then.
    silent_since: datetime | None = None
    reminded: bool = False
    reminders_sent: int = 0
    # The carrier-claim follow-up.
    claim_child_id: str | None = None
    claim_last: ClaimProgress | None = None
    claim_cancel_asked: bool = False

    def current_plan(self) -> Plan | None:
        return self.plans.get(self.policy_id) if self.policy_id else None

    @property
    def waiting(self) -> Waiting | None:
        return self.interpreter.waiting if self.interpreter else None

    @property
    def held(self) -> bool:
        """An agent has the ticket (taken over, or handed off and not yet released)."""
        return self.agent is not None or self.escalated

    @property
    def waiting_for_claim(self) -> bool:
        return self.waiting is not None and self.waiting.kind == "claim"


class TicketOutcome(BaseModel):
    ticket_id: str
    status: TicketStatus
    outcome: str
    outcome_recorded: bool = Field(
        default=False, description="the ticket wrote its outcome row (record_outcome)"
    )


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
