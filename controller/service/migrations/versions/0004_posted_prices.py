"""Prices posted by the operator: one row per posting, one per posted interval.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.service.models import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_postings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("intervals", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("replan_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_price_postings_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_postings")),
    )
    op.create_index(
        "ix_price_postings_site_created",
        "price_postings",
        ["site_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "posted_prices",
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=48), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("import_price_cny_per_kwh", sa.Float(), nullable=False),
        sa.Column("export_price_cny_per_kwh", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["price_postings.id"], name=op.f("fk_posted_prices_posting_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_posted_prices_site_id")),
        sa.PrimaryKeyConstraint("posting_id", "start_at", name=op.f("pk_posted_prices")),
    )
    op.create_index(
        "ix_posted_prices_site_start", "posted_prices", ["site_id", "start_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_posted_prices_site_start", table_name="posted_prices")
    op.drop_table("posted_prices")
    op.drop_index("ix_price_postings_site_created", table_name="price_postings")
    op.drop_table("price_postings")
