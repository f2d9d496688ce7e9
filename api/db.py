"""The app database: webhook deliveries (dedupe), API keys and the policy store (its
tables in activities/policy_versions.py), on SQLite or PostgreSQL.

SQLite at ``{state_dir}/app.db`` by default; ``TICKETFLOW_DATABASE_URL`` (any SQLAlchemy
URL, e.g. ``postgresql+psycopg://user:pw@host/db``) moves it to PostgreSQL. The schema is
owned by the Alembic migrations in ``api/migrations``; every process that opens the
database upgrades it to the latest revision first, so there is no separate step to forget.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, UniqueConstraint
from sqlmodel import Field, SQLModel

# The worker-side tables join this metadata (the migrations create them all).
from activities import experiments as experiments
from activities import outcomes as outcomes
from activities.policy_versions import app_database_engine
from ticketflow.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def database_url(settings: Settings) -> str:
    """``TICKETFLOW_DATABASE_URL`` if set, else the SQLite file in the state directory."""
    return settings.app_database_url


def now() -> datetime:
    return datetime.now(UTC)


class WebhookDelivery(SQLModel, table=True):
    """One accepted webhook: a second delivery with the same key is a duplicate."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("source", "delivery_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    delivery_key: str = Field(max_length=255)
    ticket_id: str | None = Field(default=None, max_length=255)
    received_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))


class ApiKey(SQLModel, table=True):
    """An API key, kept only as its SHA-256 (the key itself is shown once, at creation).

    ``scopes`` is space-separated (``tickets``, ``policies:write``, ``admin``); a key past
    ``expires_at`` or with ``revoked_at`` set is refused."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, description="first characters, to tell keys apart")
    key_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    scopes: str = Field(default="tickets", max_length=200)
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the latest Alembic revision (no-op when it is current)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> Engine:
    engine = app_database_engine(url)
    migrate(engine)
    return engine
