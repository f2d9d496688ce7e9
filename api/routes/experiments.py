"""Experiments: split a policy's tickets between versions, watch the live report, conclude
by publishing the winner. Reads take any key; writes `policies:write`. Refusals are
problem+json (404 unknown, 409 a running experiment or a winner the data does not yet
support, 422 a variant that does not compile) and change nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import KeyInfo, Scope
from api.deps import DefaultPlatformsDep, EngineDep, require_api_key, require_scope
from api.problems import problem_responses
from api.routes.policies import store_problem
from api.services import experiments
from api.services.experiments import ExperimentCreate, ExperimentReport
from api.services.policy_store import StoreError

router = APIRouter(
    prefix="/experiments",
    tags=["experiments"],
    dependencies=[Depends(require_api_key)],
    responses=problem_responses(401, 422),
)

Writer = Annotated[KeyInfo, Depends(require_scope(Scope.POLICIES_WRITE))]


class ConcludeRequest(BaseModel):
    winner: str | None = Field(
        description="the variant to publish; null stops the experiment and keeps the "
        "published version"
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 404, 409, 422),
)
async def create_experiment(
    body: ExperimentCreate,
    key: Writer,
    engine: EngineDep,
    default_platforms: DefaultPlatformsDep,
) -> ExperimentReport:
    """Start splitting the policy's new tickets between the variants (the first is the
    control); a customer keeps their variant across tickets."""
    try:
        return await run_in_threadpool(
            experiments.create, engine, body, key.name, default_platforms=default_platforms
        )
    except StoreError as err:
        raise store_problem(err) from None


@router.get("")
async def list_experiments(
    engine: EngineDep,
    policy: Annotated[str | None, Query(max_length=100)] = None,
) -> list[ExperimentReport]:
    """Every experiment, newest first, each with its report."""
    return await run_in_threadpool(experiments.list_experiments, engine, policy)


@router.get("/{experiment_id}", responses=problem_responses(404))
async def get_experiment(experiment_id: str, engine: EngineDep) -> ExperimentReport:
    """The live report: per variant tickets, rate with its interval, difference to the
    control with its interval and p-value, CSAT, revenue kept; the tickets still needed;
    the verdict."""
    try:
        return await run_in_threadpool(experiments.report, engine, experiment_id)
    except StoreError as err:
        raise store_problem(err) from None


@router.post("/{experiment_id}/conclude", responses=problem_responses(400, 404, 409, 422))
async def conclude_experiment(
    experiment_id: str, body: ConcludeRequest, key: Writer, engine: EngineDep
) -> ExperimentReport:
    """Stop the experiment; with a winner, publish its version (refused before the sample
    size is reached or against the statistics)."""
    try:
        return await run_in_threadpool(
            experiments.conclude, engine, experiment_id, body.winner, key.name
        )
    except StoreError as err:
        raise store_problem(err) from None
