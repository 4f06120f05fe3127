"""Grid events: the per-interval targets of a target exchange profile.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.service.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_event_targets",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("target_kw", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["grid_events.id"], name=op.f("fk_grid_event_targets_event_id")
        ),
        sa.PrimaryKeyConstraint("event_id", "start_at", name=op.f("pk_grid_event_targets")),
    )


def downgrade() -> None:
    op.drop_table("grid_event_targets")
