"""The policy store's tables, and the worker's read-only view of them.

The store lives in the app database (owned by the API: `api/services/policy_store.py`
writes it, `api/migrations/versions/0003_policy_store.py` creates it). The table models
are here, in the activities layer, because the worker reads them too: `load_policy` takes
a plan by (policy id, version hash) from `policy_version`, and a hand-over takes the
version published at that moment. Nothing here writes.

- `policy`: one row per policy id, with the published pointer (`published_version_id`)
  and `deleted_at` (a deleted policy keeps its versions: running tickets may hand over to
  a version they already know).
- `policy_version`: immutable; the source, the compiled plan's JSON, the version hash
  (the plan's `version`), author, message, time. Unique per (policy, hash).
- `policy_draft`: at most one per policy (its primary key is the policy id).
- `policy_audit`: every save, publish, rollback, import and delete, in order; its highest
  id doubles as a change counter: `PublishedSet` (the API's routing, and the worker's
  `route_ticket`) rebuilds the published library when it moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import DateTime, Engine, Text, UniqueConstraint, event, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from policies.compiler import CompileResult, PolicyIndex, compile_policy
from policies.library import DEFAULT_LIBRARY_DIR, PolicyLibrary
from policies.parser import split_front_matter
from policies.plan import Plan

#: A publish through another process reaches routing within this long.
CHECK_EVERY = 0.5


def _now() -> datetime:
    return datetime.now(UTC)


class StoredPolicy(SQLModel, table=True):
    __tablename__ = "policy"

    id: str = Field(primary_key=True, max_length=100)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    published_version_id: int | None = Field(default=None, foreign_key="policy_version.id")
    deleted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("policy_id", "version_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=100, index=True)
    version_hash: str = Field(max_length=64)
    source: str = Field(sa_type=Text)
    plan_json: str = Field(sa_type=Text)
    author: str = Field(default="", max_length=100)
    message: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))

    def plan(self) -> Plan:
        return Plan.model_validate_json(self.plan_json)


class PolicyDraft(SQLModel, table=True):
    __tablename__ = "policy_draft"

    policy_id: str = Field(primary_key=True, max_length=100)
    source: str = Field(sa_type=Text)
    author: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))


class PolicyAudit(SQLModel, table=True):
    __tablename__ = "policy_audit"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: str = Field(max_length=100, index=True)
    action: str = Field(max_length=32, description="save | publish | rollback | import | delete")
    version_hash: str | None = Field(default=None, max_length=64)
    author: str = Field(default="", max_length=100)
    message: str = Field(default="", max_length=1000)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))


def app_database_engine(url: str) -> Engine:
    """An engine on the app database (SQLite in WAL mode, so the API, the worker and
    `ticketflow apikey` may use it at once; or PostgreSQL). Only the API migrates it."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


def published_rows(session: Session) -> list[PolicyVersion]:
    """The published version of every live policy, by policy id."""
    rows = session.exec(
        select(PolicyVersion)
        .join(StoredPolicy, col(StoredPolicy.published_version_id) == col(PolicyVersion.id))
        .where(col(StoredPolicy.deleted_at).is_(None))
        .order_by(col(PolicyVersion.policy_id))
    ).all()
    return list(rows)


def change_counter(engine: Engine) -> int:
    """Moves on every write to the store."""
    with Session(engine) as session:
        value = session.exec(select(func.max(PolicyAudit.id))).one()
    return int(value or 0)


def library_from_store(engine: Engine, *, diagnose: bool = False) -> PolicyLibrary | None:
    """The published versions as a library, from their stored plans (no recompiling, but
    with `diagnose` each source is compiled again for its warnings, which the API lists);
    None when the store is empty."""
    with Session(engine) as session:
        rows = published_rows(session)
    if not rows:
        return None
    library = PolicyLibrary(directory=DEFAULT_LIBRARY_DIR, index=PolicyIndex())
    for row in rows:
        meta = split_front_matter(row.source)[0]
        library.index.add(row.policy_id, str(meta.get("title") or ""))
    for row in rows:
        plan = row.plan()
        diagnostics = (
            # as published: a role its source names no platform for on the one its plan keeps
            compile_policy(
                row.source, library=library.index, default_platforms=plan.platforms
            ).diagnostics
            if diagnose
            else []
        )
        library.results.append(CompileResult(plan=plan, diagnostics=diagnostics))
    return library


class PublishedSet:
    """The published policies as a `PolicyLibrary`, rebuilt when the store's change
    counter moves (checked at most every `CHECK_EVERY` seconds; `invalidate()` forces the
    next check). `fallback` (the bundled library, loaded on demand) while the store is
    empty or unreadable."""

    def __init__(
        self,
        engine: Engine,
        fallback: Callable[[], PolicyLibrary] | None = None,
        *,
        diagnose: bool = False,
    ) -> None:
        self.engine = engine
        self._fallback = fallback
        self._diagnose = diagnose
        self._library: PolicyLibrary | None = None
        self._counter = -1
        self._checked = 0.0
        self._lock = Lock()

    def invalidate(self) -> None:
        self._checked = 0.0
        self._counter = -1

    def current(self) -> PolicyLibrary | None:
        now = time.monotonic()
        library = self._library
        if library is not None and now - self._checked < CHECK_EVERY:
            return library
        with self._lock:
            try:
                counter = change_counter(self.engine)
                if self._library is None or counter != self._counter:
                    self._library = library_from_store(self.engine, diagnose=self._diagnose)
                    self._counter = counter
            except SQLAlchemyError:
                self._library, self._counter = None, -1
            if self._library is None and self._fallback is not None:
                self._library = self._fallback()
            self._checked = now
            return self._library


class PolicyVersions:
    """The worker's read-only access: a plan by (policy id, version hash), cached per hash
    (versions are immutable, so the cache never goes stale), and the version published now.

    Every method returns None when the store has no answer (no such row, or no store
    tables yet): the caller falls back to the bundled library."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._plans: dict[tuple[str, str], Plan] = {}
        self._lock = Lock()
        self.published_set = PublishedSet(engine)

    @classmethod
    def from_url(cls, url: str) -> PolicyVersions:
        return cls(app_database_engine(url))

    def plan(self, policy_id: str, version_hash: str) -> Plan | None:
        key = (policy_id, version_hash)
        with self._lock:
            cached = self._plans.get(key)
        if cached is not None:
            return cached
        try:
            with Session(self.engine) as session:
                row = session.exec(
                    select(PolicyVersion).where(
                        PolicyVersion.policy_id == policy_id,
                        PolicyVersion.version_hash == version_hash,
                    )
                ).first()
        except SQLAlchemyError:
            return None
        if row is None:
            return None
        plan = row.plan()
        with self._lock:
            self._plans[key] = plan
        return plan

    def published(self, policy_id: str) -> Plan | None:
        """The plan published for `policy_id` now (None: not in the store, or deleted)."""
        try:
            with Session(self.engine) as session:
                policy = session.get(StoredPolicy, policy_id)
                if policy is None or policy.deleted_at or policy.published_version_id is None:
                    return None
                row = session.get(PolicyVersion, policy.published_version_id)
        except SQLAlchemyError:
            return None
        if row is None:
            return None
        with self._lock:
            cached = self._plans.setdefault((row.policy_id, row.version_hash), row.plan())
        return cached
