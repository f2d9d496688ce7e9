"""Experiments: which version of a policy a ticket runs while an experiment splits it.

An experiment names a policy and two or more variants, each a full version of it (in
`policy_version`, published or not) with a weight. A ticket entering the policy is
assigned by a stable hash of the experiment id and the customer's key (the keyed hash of
their email, `activities/customer_key.py`; the ticket id when no email is known), so a
customer sees the same variant on every ticket. The worker reads the tables here; the API
writes them (`api/services/experiments.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import DateTime, Engine, UniqueConstraint
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, select

#: What an experiment can optimise; `csat` compares mean ratings, the rest rates.
METRICS = ("retention", "containment", "resolution", "csat")
RUNNING = "running"
CONCLUDED = "concluded"


def _now() -> datetime:
    return datetime.now(UTC)


class Experiment(SQLModel, table=True):
    __tablename__ = "experiment"

    id: str = Field(primary_key=True, max_length=40)
    policy_id: str = Field(max_length=100, index=True)
    metric: str = Field(max_length=32)
    minimum_detectable_effect: float
    status: str = Field(default=RUNNING, max_length=16)
    winner: str | None = Field(default=None, max_length=64)
    author: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    concluded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ExperimentVariant(SQLModel, table=True):
    __tablename__ = "experiment_variant"
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: str = Field(max_length=40, index=True, foreign_key="experiment.id")
    name: str = Field(max_length=64)
    version_hash: str = Field(max_length=64)
    weight: float
    position: int = Field(description="0 is the control")


class Assignment(BaseModel):
    """A ticket's place in an experiment on one policy; all None: no experiment ran."""

    experiment_id: str | None = None
    variant: str | None = None
    version: str | None = None


def pick_variant(experiment_id: str, unit: str, weights: Sequence[tuple[str, float]]) -> str:
    """The variant for `unit` (a customer key or ticket id): a point in [0, total weight)
    from sha256(experiment id, unit), so it is stable across tickets, processes and
    releases, and independent between experiments."""
    digest = hashlib.sha256(f"{experiment_id}\x00{unit}".encode()).digest()
    total = sum(weight for _, weight in weights)
    point = int.from_bytes(digest[:8], "big") / 2**64 * total
    for name, weight in weights:
        if point < weight:
            return name
        point -= weight
    return weights[-1][0]


def running_experiment(
    engine: Engine, policy_id: str
) -> tuple[Experiment, list[ExperimentVariant]] | None:
    """The experiment running on `policy_id` with its variants in order; None when there
    is none (or no experiment tables yet: a store older than experiments)."""
    try:
        with Session(engine) as session:
            experiment = session.exec(
                select(Experiment).where(
                    Experiment.policy_id == policy_id, Experiment.status == RUNNING
                )
            ).first()
            if experiment is None:
                return None
            variants = session.exec(
                select(ExperimentVariant)
                .where(ExperimentVariant.experiment_id == experiment.id)
                .order_by(col(ExperimentVariant.position))
            ).all()
    except SQLAlchemyError:
        return None
    return experiment, list(variants)


def assign(engine: Engine, policy_id: str, unit: str) -> Assignment:
    found = running_experiment(engine, policy_id)
    if found is None or not found[1]:
        return Assignment()
    experiment, variants = found
    name = pick_variant(experiment.id, unit, [(v.name, v.weight) for v in variants])
    chosen = next(v for v in variants if v.name == name)
    return Assignment(experiment_id=experiment.id, variant=name, version=chosen.version_hash)
