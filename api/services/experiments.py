"""Experiments on a policy: create one from versions or sources, report it live with its
statistics, conclude it by publishing the winner (tables in activities/experiments.py;
the worker assigns tickets, the outcomes store counts them).

A report calls a winner only when every variant has the tickets the minimum detectable
effect needs (80% power) and the difference is significant at 5%, Bonferroni-corrected
for more than one comparison with the control; `conclude` refuses a winner before that.
Refusals are `StoreError`s (404, 409, 422) with a sentence saying why; nothing changes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from activities.experiments import (
    CONCLUDED,
    RUNNING,
    Experiment,
    ExperimentVariant,
)
from api.services import experiment_stats as stats
from api.services.outcome_reports import EndedTicket, ended_tickets
from api.services.policy_store import (
    StoreError,
    _add_version,
    _audit,
    _live,
    _locked,
    _version_row,
    compile_draft,
)

Metric = Literal["retention", "containment", "resolution", "csat"]
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class VariantSpec(BaseModel):
    name: str = Field(description="1–64 letters, digits, `_` or `-`")
    version: str | None = Field(default=None, description="a stored version of the policy")
    source: str | None = Field(
        default=None, description="or its full source: stored as a version, not published"
    )
    weight: float = Field(default=1.0, gt=0, le=1000)

    @model_validator(mode="after")
    def _one_of(self) -> VariantSpec:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"variant name {self.name!r}: 1–64 letters, digits, `_` or `-`")
        if (self.version is None) == (self.source is None):
            raise ValueError(f"variant {self.name!r}: give either `version` or `source`")
        return self


class ExperimentCreate(BaseModel):
    id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="your name for it (assignment hashes it); default a new `exp_…` id",
    )
    policy: str
    variants: list[VariantSpec] = Field(
        min_length=2, max_length=8, description="the first is the control"
    )
    metric: Metric
    minimum_detectable_effect: float = Field(
        gt=0,
        description="the smallest difference worth finding: a rate change for rate metrics "
        "(0.05 = 5 points), rating points for `csat`",
    )

    @model_validator(mode="after")
    def _distinct(self) -> ExperimentCreate:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must differ")
        if self.metric != "csat" and self.minimum_detectable_effect >= 1:
            raise ValueError("for a rate metric the minimum detectable effect is below 1")
        return self


class VariantReport(BaseModel):
    name: str
    version: str
    weight: float
    control: bool
    tickets: int
    successes: int | None = Field(description="tickets that met a rate metric")
    rate: stats.Interval | None = Field(description="the metric's rate, 95% Wilson interval")
    difference: stats.Difference | None = Field(
        description="this variant minus the control (rate or mean), 95% interval, p-value"
    )
    csat: stats.Interval | None = Field(description="mean rating, 95% t interval")
    ratings: int
    revenue_kept_per_ticket: float
    refunded_per_ticket: float


class ExperimentReport(BaseModel):
    id: str
    policy_id: str
    metric: Metric
    minimum_detectable_effect: float
    status: Literal["running", "concluded"]
    winner: str | None = Field(description="the variant published when it was concluded")
    created_at: datetime
    concluded_at: datetime | None
    alpha: float = Field(description="significance level per comparison (Bonferroni)")
    power: float
    needed_per_variant: int = Field(description="tickets (ratings, for csat) per variant")
    still_needed: int = Field(description="more tickets the least-sampled variant needs")
    verdict: Literal["collecting", "winner", "no_difference"]
    leader: str | None = Field(description="the variant the statistics call the winner")
    explanation: str
    variants: list[VariantReport]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def create(
    engine: Engine,
    spec: ExperimentCreate,
    author: str,
    *,
    default_platforms: Sequence[str] = (),
) -> ExperimentReport:
    """409 while another experiment runs on the policy; 404 for an unknown policy or
    version; 422 for a source with errors or of another policy."""
    experiment_id = spec.id or f"exp_{secrets.token_hex(6)}"
    with Session(engine) as session:
        _locked(session, spec.policy)
        if session.get(Experiment, experiment_id) is not None:
            raise StoreError(409, f"there is already an experiment {experiment_id!r}")
        busy = session.exec(
            select(Experiment).where(
                Experiment.policy_id == spec.policy, Experiment.status == RUNNING
            )
        ).first()
        if busy is not None:
            raise StoreError(
                409, f"experiment {busy.id} already runs on {spec.policy!r}; conclude it first"
            )
        experiment = Experiment(
            id=experiment_id,
            policy_id=spec.policy,
            metric=spec.metric,
            minimum_detectable_effect=spec.minimum_detectable_effect,
            author=author,
        )
        session.add(experiment)
        session.flush()
        for position, variant in enumerate(spec.variants):
            if variant.version is not None:
                version = _version_row(session, spec.policy, variant.version).version_hash
            else:
                version = _store_source(
                    session, spec.policy, variant, experiment_id, author, default_platforms
                )
            session.add(
                ExperimentVariant(
                    experiment_id=experiment_id,
                    name=variant.name,
                    version_hash=version,
                    weight=variant.weight,
                    position=position,
                )
            )
        _audit(session, spec.policy, "experiment", author, message=f"started {experiment_id}")
        session.commit()
    return report(engine, experiment_id)


def _store_source(
    session: Session,
    policy_id: str,
    variant: VariantSpec,
    experiment_id: str,
    author: str,
    default_platforms: Sequence[str],
) -> str:
    source = variant.source or ""
    result = compile_draft(session, source, default_platforms)
    if not result.ok or result.plan is None:
        raise StoreError(
            422,
            f"variant {variant.name!r} has {len(result.errors)} error(s); nothing was created",
            result.errors,
        )
    if result.plan.id != policy_id:
        raise StoreError(
            422, f"variant {variant.name!r} is policy {result.plan.id!r}, not {policy_id!r}"
        )
    message = f"variant {variant.name} of {experiment_id}"
    return _add_version(session, policy_id, source, result.plan, author, message).version_hash


def _load(session: Session, experiment_id: str) -> tuple[Experiment, list[ExperimentVariant]]:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise StoreError(404, f"no experiment {experiment_id!r}")
    variants = session.exec(
        select(ExperimentVariant)
        .where(ExperimentVariant.experiment_id == experiment_id)
        .order_by(col(ExperimentVariant.position))
    ).all()
    return experiment, list(variants)


def list_experiments(engine: Engine, policy_id: str | None = None) -> list[ExperimentReport]:
    with Session(engine) as session:
        query = select(Experiment.id).order_by(col(Experiment.created_at).desc())
        if policy_id is not None:
            query = query.where(Experiment.policy_id == policy_id)
        ids = list(session.exec(query).all())
    return [report(engine, experiment_id) for experiment_id in ids]


def report(engine: Engine, experiment_id: str) -> ExperimentReport:
    with Session(engine) as session:
        experiment, variants = _load(session, experiment_id)
    tickets = ended_tickets(engine, experiment_id=experiment_id)
    by_variant: dict[str, list[EndedTicket]] = {v.name: [] for v in variants}
    for ticket in tickets:
        if ticket.row.variant in by_variant:
            by_variant[ticket.row.variant].append(ticket)
    metric = experiment.metric
    comparisons = max(len(variants) - 1, 1)
    alpha = stats.ALPHA / comparisons
    control = variants[0].name
    control_tickets = by_variant[control]

    def ratings(group: list[EndedTicket]) -> list[float]:
        return [float(t.rating) for t in group if t.rating is not None]

    effect = experiment.minimum_detectable_effect
    if metric == "csat":
        needed = stats.sample_size_for_means(
            stats.standard_deviation(ratings(control_tickets)), effect, alpha
        )
        sizes = {name: len(ratings(group)) for name, group in by_variant.items()}
    else:
        wins = sum(t.succeeded(metric) for t in control_tickets)
        base = wins / len(control_tickets) if control_tickets else None
        needed = stats.sample_size_for_rates(base, effect, alpha)
        sizes = {name: len(group) for name, group in by_variant.items()}
    rows = [
        _variant_report(v, by_variant[v.name], control_tickets, metric, alpha, v.name == control)
        for v in variants
    ]
    still = max(needed - min(sizes.values()), 0)
    verdict, leader, explanation = _verdict(rows, metric, still, alpha)
    return ExperimentReport(
        id=experiment.id,
        policy_id=experiment.policy_id,
        metric=metric,
        minimum_detectable_effect=effect,
        status=experiment.status,
        winner=experiment.winner,
        created_at=_aware(experiment.created_at),
        concluded_at=_aware(experiment.concluded_at) if experiment.concluded_at else None,
        alpha=alpha,
        power=stats.POWER,
        needed_per_variant=needed,
        still_needed=still,
        verdict=verdict,
        leader=leader,
        explanation=explanation,
        variants=rows,
    )


def _variant_report(
    variant: ExperimentVariant,
    group: list[EndedTicket],
    control: list[EndedTicket],
    metric: str,
    alpha: float,
    is_control: bool,
) -> VariantReport:
    n = len(group)
    rated = [float(t.rating) for t in group if t.rating is not None]
    successes: int | None = None
    rate: stats.Interval | None = None
    difference: stats.Difference | None = None
    if metric == "csat":
        if not is_control:
            control_rated = [float(t.rating) for t in control if t.rating is not None]
            difference = stats.mean_difference(rated, control_rated, alpha)
    else:
        successes = sum(t.succeeded(metric) for t in group)
        rate = stats.rate(successes, n)
        if not is_control:
            control_successes = sum(t.succeeded(metric) for t in control)
            difference = stats.rate_difference(successes, n, control_successes, len(control), alpha)
    return VariantReport(
        name=variant.name,
        version=variant.version_hash,
        weight=variant.weight,
        control=is_control,
        tickets=n,
        successes=successes,
        rate=rate,
        difference=difference,
        csat=stats.mean(rated),
        ratings=len(rated),
        revenue_kept_per_ticket=round(sum(t.row.revenue_kept for t in group) / n, 2) if n else 0,
        refunded_per_ticket=round(sum(t.row.refunded for t in group) / n, 2) if n else 0,
    )


def _verdict(
    rows: list[VariantReport], metric: str, still: int, alpha: float
) -> tuple[Literal["collecting", "winner", "no_difference"], str | None, str]:
    unit = "ratings" if metric == "csat" else "tickets"
    if still > 0:
        return (
            "collecting",
            None,
            f"{still} more {unit} per variant before the test can call a winner",
        )
    control, others = rows[0], rows[1:]
    better = [
        r
        for r in others
        if r.difference is not None and r.difference.p_value < alpha and r.difference.estimate > 0
    ]
    if better:
        best = max(better, key=lambda r: r.difference.estimate if r.difference else 0.0)
        return "winner", best.name, f"{best.name} beats {control.name} on {metric}"
    worse = [
        r
        for r in others
        if r.difference is not None and r.difference.p_value < alpha and r.difference.estimate < 0
    ]
    if others and len(worse) == len(others):
        return "winner", control.name, f"{control.name} (the control) beats every variant"
    return "no_difference", None, f"no variant differs from {control.name} on {metric}"


def conclude(
    engine: Engine, experiment_id: str, winner: str | None, author: str
) -> ExperimentReport:
    """Stop the experiment; with a winner, publish its version. A winner before the
    sample is complete, or one the statistics do not support, gets 409."""
    current = report(engine, experiment_id)
    if current.status != RUNNING:
        raise StoreError(409, f"experiment {experiment_id} is already concluded")
    if winner is not None:
        names = [v.name for v in current.variants]
        if winner not in names:
            raise StoreError(422, f"{winner!r} is not a variant of {experiment_id}: {names}")
        if current.verdict == "collecting":
            raise StoreError(409, f"too early to call a winner: {current.explanation}")
        if current.leader != winner:
            why = current.explanation
            raise StoreError(409, f"the results do not support {winner!r}: {why}")
    with Session(engine) as session:
        experiment, variants = _load(session, experiment_id)
        if winner is not None:
            policy = _live(session, experiment.policy_id)
            chosen = next(v for v in variants if v.name == winner)
            row = _version_row(session, experiment.policy_id, chosen.version_hash)
            policy.published_version_id = row.id
            session.add(policy)
            message = f"{winner} won {experiment_id}"
            _audit(session, experiment.policy_id, "publish", author, row.version_hash, message)
        else:
            _audit(
                session, experiment.policy_id, "experiment", author, message="stopped, no winner"
            )
        experiment.status = CONCLUDED
        experiment.winner = winner
        experiment.concluded_at = datetime.now(UTC)
        session.add(experiment)
        session.commit()
    return report(engine, experiment_id)


def running_by_policy(engine: Engine) -> dict[str, str]:
    """The running experiment's id of each policy that has one (the policy list)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Experiment.policy_id, Experiment.id).where(Experiment.status == RUNNING)
        ).all()
    return dict(rows)
