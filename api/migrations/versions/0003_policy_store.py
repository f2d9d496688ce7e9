"""The policy store: policies, immutable versions, one draft per policy, an audit log
(models in activities/policy_versions.py, logic in api/services/policy_store.py).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("version_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("policy_id", "version_hash"),
    )
    op.create_index("ix_policy_version_policy_id", "policy_version", ["policy_id"])
    op.create_table(
        "policy",
        sa.Column("id", sa.String(length=100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "published_version_id",
            sa.Integer(),
            sa.ForeignKey("policy_version.id"),
            nullable=True,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "policy_draft",
        sa.Column("policy_id", sa.String(length=100), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "policy_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("version_hash", sa.String(length=64), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_policy_audit_policy_id", "policy_audit", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_policy_audit_policy_id", table_name="policy_audit")
    op.drop_table("policy_audit")
    op.drop_table("policy_draft")
    op.drop_table("policy")
    op.drop_index("ix_policy_version_policy_id", table_name="policy_version")
    op.drop_table("policy_version")
