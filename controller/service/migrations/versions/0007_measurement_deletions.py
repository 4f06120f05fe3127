"""Measurements deleted by an operator: who, when, which period and series, and why.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.service.models import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measurement_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("series", sa.JSON(), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_measurement_deletions_site_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_deletions")),
    )
    op.create_index(
        "ix_measurement_deletions_site_created",
        "measurement_deletions",
        ["site_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_measurement_deletions_site_created", table_name="measurement_deletions")
    op.drop_table("measurement_deletions")
