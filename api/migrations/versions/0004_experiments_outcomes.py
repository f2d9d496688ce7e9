"""Experiments (their variants are policy versions) and the outcomes store (one row per
ended ticket, ratings from outside); models in activities/experiments.py and
activities/outcomes.py.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("policy_id", sa.String(length=100), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("minimum_detectable_effect", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("winner", sa.String(length=64), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_experiment_policy_id", "experiment", ["policy_id"])
    op.create_table(
        "experiment_variant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "experiment_id", sa.String(length=40), sa.ForeignKey("experiment.id"), nullable=False
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version_hash", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("experiment_id", "name"),
    )
    op.create_index("ix_experiment_variant_experiment_id", "experiment_variant", ["experiment_id"])
    op.create_table(
        "ticket_outcome",
        sa.Column("ticket_id", sa.String(length=255), primary_key=True),
        sa.Column("helpdesk", sa.String(length=32), nullable=False),
        sa.Column("policy_id", sa.String(length=100), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column("experiment_id", sa.String(length=40), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("contained", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_seconds", sa.Float(), nullable=False),
        sa.Column("revenue_kept", sa.Float(), nullable=False),
        sa.Column("refunded", sa.Float(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=True),
    )
    op.create_index("ix_ticket_outcome_policy_id", "ticket_outcome", ["policy_id"])
    op.create_index("ix_ticket_outcome_experiment_id", "ticket_outcome", ["experiment_id"])
    op.create_index("ix_ticket_outcome_ended_at", "ticket_outcome", ["ended_at"])
    op.create_table(
        "ticket_rating",
        sa.Column("ticket_id", sa.String(length=255), primary_key=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_rating")
    op.drop_index("ix_ticket_outcome_ended_at", table_name="ticket_outcome")
    op.drop_index("ix_ticket_outcome_experiment_id", table_name="ticket_outcome")
    op.drop_index("ix_ticket_outcome_policy_id", table_name="ticket_outcome")
    op.drop_table("ticket_outcome")
    op.drop_index("ix_experiment_variant_experiment_id", table_name="experiment_variant")
    op.drop_table("experiment_variant")
    op.drop_index("ix_experiment_policy_id", table_name="experiment")
    op.drop_table("experiment")
