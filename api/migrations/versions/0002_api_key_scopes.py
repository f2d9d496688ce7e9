"""API keys get scopes and an expiry.

Keys created before this revision get every scope (``admin policies:write tickets``) and no
expiry, so nothing that worked before stops working; narrow them by creating new keys and
revoking the old ones (`ticketflow apikey list|create|revoke`).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ALL_SCOPES = "admin policies:write tickets"


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE api_key SET scopes = :scopes").bindparams(scopes=ALL_SCOPES))
    with op.batch_alter_table("api_key") as batch:
        batch.alter_column("scopes", existing_type=sa.String(length=200), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
