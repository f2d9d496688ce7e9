"""How tickets ended: per-version metrics of a policy, and a satisfaction rating that
arrives from outside the conversation (a helpdesk survey)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from activities.outcomes import TicketRating
from api.auth import Scope
from api.deps import EngineDep, require_api_key, require_scope
from api.problems import problem_responses
from api.services.outcome_reports import PolicyMetrics, policy_metrics
from workflows.ticket_models import parse_ticket_workflow_id

router = APIRouter(tags=["outcomes"], responses=problem_responses(401, 422))


class Rating(BaseModel):
    rating: int = Field(ge=1, le=5)
    source: str = Field(default="api", pattern=r"^[a-z_]{1,32}$", description="e.g. zendesk")


class RatingSaved(BaseModel):
    ticket_id: str
    rating: int


@router.get(
    "/policies/{policy_id}/metrics",
    dependencies=[Depends(require_api_key)],
)
async def get_policy_metrics(
    policy_id: str,
    engine: EngineDep,
    since: Annotated[datetime | None, Query(description="ended at or after (ISO 8601)")] = None,
) -> PolicyMetrics:
    """Per version: containment, resolution, escalation, abandonment and retention with
    95% intervals, median turns, CSAT, revenue kept and refunded."""
    return await run_in_threadpool(policy_metrics, engine, policy_id, since)


def _save_rating(engine: Engine, ticket_id: str, rating: Rating) -> None:
    with Session(engine) as session:
        row = session.get(TicketRating, ticket_id) or TicketRating(
            ticket_id=ticket_id, rating=rating.rating
        )
        row.rating, row.source = rating.rating, rating.source
        session.add(row)
        session.commit()


@router.put(
    "/tickets/{ticket_id}/csat",
    status_code=status.HTTP_200_OK,
    dependencies=[Depends(require_scope(Scope.TICKETS))],
    responses=problem_responses(400),
)
async def rate_ticket(ticket_id: str, body: Rating, engine: EngineDep) -> RatingSaved:
    """The customer's 1–5 rating from a helpdesk survey; it counts instead of one the
    ticket asked for itself. Sending it again replaces it."""
    if parse_ticket_workflow_id(ticket_id) is None:
        raise HTTPException(422, f"{ticket_id!r} is not a ticket id (ticket-<helpdesk>-<id>)")
    await run_in_threadpool(_save_rating, engine, ticket_id, body)
    return RatingSaved(ticket_id=ticket_id, rating=body.rating)
