"""Alembic environment: run against the connection `api.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import activities.policy_versions  # noqa: F401  (the policy store's tables)
import api.db  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through api.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
