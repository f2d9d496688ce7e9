"""The outcomes store: one row per ended ticket, what experiments and per-version metrics
count.

The ticket workflow writes its row when it ends, through the `record_outcome` activity
(idempotent by ticket id: a retried or replayed write changes nothing). A customer
satisfaction rating that arrives from outside (a helpdesk's survey, `POST
/tickets/{id}/csat`) lands in `ticket_rating`, which reports prefer over the one the
ticket asked for itself. No customer data here: ids, the policy, numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import DateTime, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel
from temporalio import activity

from activities.metrics import NO_POLICY, TICKETS_ENDED
from policies.plan import Outcome

#: Outcomes where the customer kept buying (what `revenue_kept` counts and the
#: `retention` metric rates).
RETAINED_OUTCOMES = frozenset(
    {Outcome.RETAINED, Outcome.SKIPPED, Outcome.SWAPPED, Outcome.RESTARTED}
)
#: Outcomes where the bot did not finish the ticket.
UNRESOLVED_OUTCOMES = frozenset({Outcome.ESCALATED, Outcome.ABANDONED})
ACTIVITY_NAME = "record_outcome"


def _now() -> datetime:
    return datetime.now(UTC)


class OutcomeRecord(BaseModel):
    """What the workflow knows about itself when it ends."""

    ticket_id: str
    helpdesk: str
    policy_id: str | None = None
    policy_version: str | None = None
    experiment_id: str | None = None
    variant: str | None = None
    outcome: str
    contained: bool
    escalated: bool
    turns: int
    started_at: datetime
    ended_at: datetime
    revenue_kept: float = 0.0
    refunded: float = 0.0
    csat: int | None = None


class TicketOutcomeRow(SQLModel, table=True):
    __tablename__ = "ticket_outcome"

    ticket_id: str = Field(primary_key=True, max_length=255)
    helpdesk: str = Field(max_length=32)
    policy_id: str | None = Field(default=None, max_length=100, index=True)
    policy_version: str | None = Field(default=None, max_length=64)
    experiment_id: str | None = Field(default=None, max_length=40, index=True)
    variant: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=32)
    contained: bool
    escalated: bool
    turns: int
    started_at: datetime = Field(sa_type=DateTime(timezone=True))
    ended_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    resolution_seconds: float
    revenue_kept: float = 0.0
    refunded: float = 0.0
    csat: int | None = None


class TicketRating(SQLModel, table=True):
    """A satisfaction rating from outside the conversation (1–5), one per ticket."""

    __tablename__ = "ticket_rating"

    ticket_id: str = Field(primary_key=True, max_length=255)
    rating: int
    source: str = Field(default="api", max_length=32)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))


def _numbers_under(value: Any, *names: str) -> Iterator[float]:
    """Every number stored under one of `names`, at any depth of a context value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in names and isinstance(item, int | float) and not isinstance(item, bool):
                yield float(item)
            else:
                yield from _numbers_under(item, *names)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers_under(item, *names)


def money_of(outcome: str, context: dict[str, Any]) -> tuple[float, float]:
    """(revenue kept, refunded) from what the plan's tools returned: the largest order or
    subscription total it looked at when the customer stayed; the refunds it issued."""
    kept = 0.0
    if outcome in RETAINED_OUTCOMES:
        kept = max(_numbers_under(context, "total", "new_total", "price"), default=0.0)
    refunded = sum(_numbers_under(context, "amount", "refunded_amount"))
    return round(kept, 2), round(refunded, 2)


class OutcomeActivities:
    """Writes outcome rows to the app database; without one (a test worker with no policy
    store) it records nothing and says so."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine

    def record(self, record: OutcomeRecord) -> bool:
        """True when this call wrote the row; False when it was there already."""
        if self.engine is None:
            return False
        seconds = (record.ended_at - record.started_at).total_seconds()
        row = TicketOutcomeRow(**record.model_dump(), resolution_seconds=max(seconds, 0.0))
        with Session(self.engine) as session:
            if session.get(TicketOutcomeRow, record.ticket_id) is not None:
                return False
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # written meanwhile by a retry of this activity
                session.rollback()
                return False
        return True

    @activity.defn(name=ACTIVITY_NAME)
    async def record_outcome(self, record: OutcomeRecord) -> bool:
        """Also counts `ticketflow_tickets_ended_total`, here and not as the workflow
        returns: a completion the server turns down (a signal raced it) runs the ending
        again, but the row is written once (without a store: each call counts)."""
        wrote = await asyncio.to_thread(self.record, record)
        if wrote or self.engine is None:
            policy = record.policy_id or NO_POLICY
            TICKETS_ENDED.labels(policy, record.outcome, record.helpdesk).inc()
        return wrote
