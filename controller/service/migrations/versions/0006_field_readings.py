"""Field readings: the quality flag of each field series in each interval.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.service.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_readings",
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("series", sa.String(length=96), nullable=False),
        sa.Column("ts", UtcDateTime(), nullable=False),
        sa.Column("device", sa.String(length=48), nullable=False),
        sa.Column("point", sa.String(length=48), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("good_readings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_field_readings_site_id")),
        sa.PrimaryKeyConstraint("site_id", "series", "ts", name=op.f("pk_field_readings")),
    )


def downgrade() -> None:
    op.drop_table("field_readings")
