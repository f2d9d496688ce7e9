"""Conversation scripts saved from the console's test chat ("save as test"), run by the
publish gate with the packaged ones; model in api/services/policy_scripts.py.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_script",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_policy_script_policy_id", "policy_script", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_policy_script_policy_id", table_name="policy_script")
    op.drop_table("policy_script")
