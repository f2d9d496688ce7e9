"""Reading the outcomes store: ended tickets with their rating, and per-version metrics of
a policy (`GET /policies/{id}/metrics`)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from activities.outcomes import (
    RETAINED_OUTCOMES,
    UNRESOLVED_OUTCOMES,
    TicketOutcomeRow,
    TicketRating,
)
from api.services import experiment_stats as stats
from policies.plan import Outcome

#: The metrics an experiment can be judged by.
RATE_METRICS = ("retention", "containment", "resolution")


@dataclass(frozen=True)
class EndedTicket:
    row: TicketOutcomeRow
    rating: int | None  # from outside (a helpdesk survey) first, else the ticket's own

    def succeeded(self, metric: str) -> bool:
        if metric == "retention":
            return self.row.outcome in RETAINED_OUTCOMES
        if metric == "containment":
            return self.row.contained
        if metric == "resolution":
            return self.row.outcome not in UNRESOLVED_OUTCOMES
        raise ValueError(f"{metric!r} is not a rate metric")


def ended_tickets(
    engine: Engine,
    *,
    experiment_id: str | None = None,
    policy_id: str | None = None,
    since: datetime | None = None,
) -> list[EndedTicket]:
    query = select(TicketOutcomeRow, TicketRating).join(
        TicketRating,
        col(TicketRating.ticket_id) == col(TicketOutcomeRow.ticket_id),
        isouter=True,
    )
    if experiment_id is not None:
        query = query.where(TicketOutcomeRow.experiment_id == experiment_id)
    if policy_id is not None:
        query = query.where(TicketOutcomeRow.policy_id == policy_id)
    if since is not None:
        query = query.where(col(TicketOutcomeRow.ended_at) >= since)
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(TicketOutcomeRow.ended_at))).all()
    return [
        EndedTicket(row=row, rating=rating.rating if rating is not None else row.csat)
        for row, rating in rows
    ]


class Rate(BaseModel):
    rate: float
    low: float = Field(description="95% Wilson interval")
    high: float


class VersionMetrics(BaseModel):
    version: str | None
    tickets: int
    containment: Rate | None = Field(description="ended by the bot alone")
    resolution: Rate | None = Field(description="ended neither escalated nor abandoned")
    escalation: Rate | None = Field(description="an agent took part")
    abandonment: Rate | None = Field(description="the customer went silent")
    retention: Rate | None = Field(description="kept the order or subscription")
    median_turns: float | None
    csat: float | None = Field(description="mean rating 1–5")
    csat_ratings: int
    revenue_kept: float
    refunded: float
    first_ended: datetime | None
    last_ended: datetime | None


class PolicyMetrics(BaseModel):
    policy_id: str
    since: datetime | None
    versions: list[VersionMetrics] = Field(description="most recently ended first")


def _rate(count: int, n: int) -> Rate | None:
    found = stats.rate(count, n)
    return Rate(rate=found.estimate, low=found.low, high=found.high) if found else None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def policy_metrics(engine: Engine, policy_id: str, since: datetime | None) -> PolicyMetrics:
    by_version: dict[str | None, list[EndedTicket]] = {}
    for ticket in ended_tickets(engine, policy_id=policy_id, since=since):
        by_version.setdefault(ticket.row.policy_version, []).append(ticket)
    versions = []
    for version, tickets in by_version.items():
        n = len(tickets)
        ratings = [t.rating for t in tickets if t.rating is not None]
        versions.append(
            VersionMetrics(
                version=version,
                tickets=n,
                containment=_rate(sum(t.row.contained for t in tickets), n),
                resolution=_rate(sum(t.succeeded("resolution") for t in tickets), n),
                escalation=_rate(sum(t.row.escalated for t in tickets), n),
                abandonment=_rate(sum(t.row.outcome == Outcome.ABANDONED for t in tickets), n),
                retention=_rate(sum(t.succeeded("retention") for t in tickets), n),
                median_turns=statistics.median(t.row.turns for t in tickets),
                csat=statistics.fmean(ratings) if ratings else None,
                csat_ratings=len(ratings),
                revenue_kept=round(sum(t.row.revenue_kept for t in tickets), 2),
                refunded=round(sum(t.row.refunded for t in tickets), 2),
                first_ended=_aware(tickets[0].row.ended_at),
                last_ended=_aware(tickets[-1].row.ended_at),
            )
        )
    versions.sort(key=lambda v: v.last_ended or datetime.min.replace(tzinfo=UTC), reverse=True)
    return PolicyMetrics(policy_id=policy_id, since=since, versions=versions)


class PolicyRecent(BaseModel):
    """A policy's tickets ended since a time, every version together (the policy list)."""

    tickets: int
    containment: Rate | None
    csat: float | None
    csat_ratings: int


def recent_by_policy(engine: Engine, since: datetime) -> dict[str, PolicyRecent]:
    """Containment and CSAT of each policy's tickets ended since `since`, in one read."""
    by_policy: dict[str, list[EndedTicket]] = {}
    for ticket in ended_tickets(engine, since=since):
        if ticket.row.policy_id is not None:
            by_policy.setdefault(ticket.row.policy_id, []).append(ticket)
    found = {}
    for policy_id, tickets in by_policy.items():
        ratings = [t.rating for t in tickets if t.rating is not None]
        found[policy_id] = PolicyRecent(
            tickets=len(tickets),
            containment=_rate(sum(t.row.contained for t in tickets), len(tickets)),
            csat=statistics.fmean(ratings) if ratings else None,
            csat_ratings=len(ratings),
        )
    return found
