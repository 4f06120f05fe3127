"""Field devices: every setpoint sent with its read-back, and manual mode per park or device.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.service.models import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_setpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("device", sa.String(length=48), nullable=False),
        sa.Column("point", sa.String(length=48), nullable=False),
        sa.Column("setpoint", sa.String(length=96), nullable=False),
        sa.Column("interval_start", UtcDateTime(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("planned_value", sa.Float(), nullable=True),
        sa.Column("sent_value", sa.Float(), nullable=True),
        sa.Column("reported_value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_field_setpoints_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_setpoints")),
    )
    op.create_index(
        "ix_field_setpoints_site_interval",
        "field_setpoints",
        ["site_id", "interval_start"],
        unique=False,
    )
    op.create_table(
        "field_modes",
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("device", sa.String(length=48), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_field_modes_site_id")),
        sa.PrimaryKeyConstraint("site_id", "device", name=op.f("pk_field_modes")),
    )


def downgrade() -> None:
    op.drop_table("field_modes")
    op.drop_index("ix_field_setpoints_site_interval", table_name="field_setpoints")
    op.drop_table("field_setpoints")
