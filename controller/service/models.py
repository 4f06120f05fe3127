"""The store's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Every time is UTC: :class:`UtcDateTime` stores naive UTC on SQLite and ``timestamptz`` on
PostgreSQL, and always returns an aware UTC ``datetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` in, an aware UTC ``datetime`` out, on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} given to the store; times must be aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


sites = Table(
    "sites",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("config_json", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

measurements = Table(
    "measurements",
    metadata,
    Column("site_id", String(48), ForeignKey("sites.id"), primary_key=True),
    Column("series", String(96), primary_key=True),
    Column("ts", UtcDateTime, primary_key=True),
    Column("value", Float, nullable=False),
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("body", Text, nullable=False, doc="JSON: index (ISO UTC) and rows of values"),
    Column("info", JSON, nullable=False, doc="the forecaster's metadata"),
    Index("ix_forecasts_site_issued", "site_id", "issued_at"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("job", String(32), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("scheduled_for", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("plan_id", Integer, nullable=True),
    Index("ix_job_runs_site_started", "site_id", "started_at"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("plan_date", Date, nullable=False, doc="local calendar day the plan is for"),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False, doc="end of the last interval (exclusive)"),
    Column("n_rows", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("plan_metadata", JSON, nullable=False, doc="provenance: solver, hashes, versions"),
    Column("kpis", JSON, nullable=False),
    Column("report", JSON, nullable=False, doc="relaxations and binding constraints"),
    Column("forecast_id", Integer, nullable=True, doc="forecasts are pruned; no foreign key"),
    Column("job_run_id", Integer, ForeignKey("job_runs.id"), nullable=True),
    UniqueConstraint("site_id", "kind", "plan_date", "version"),
    Index("ix_plans_site_span", "site_id", "start_at", "end_at"),
)

plan_rows = Table(
    "plan_rows",
    metadata,
    Column("plan_id", Integer, ForeignKey("plans.id"), primary_key=True),
    Column("ts", UtcDateTime, primary_key=True),
    Column("row_values", JSON, nullable=False, doc="one value per entry of plans.columns"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True, doc="the key's public prefix"),
    Column("hash", String(64), nullable=False, doc="sha256 of the whole key, hex"),
    Column("role", String(16), nullable=False),
    Column("sites", JSON, nullable=False, doc='granted park ids, or ["*"] for every park'),
    Column("label", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

field_setpoints = Table(
    "field_setpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("device", String(48), nullable=False),
    Column("point", String(48), nullable=False),
    Column("setpoint", String(96), nullable=False, doc="plan column or export_limit_kw"),
    Column("interval_start", UtcDateTime, nullable=False),
    Column("plan_id", Integer, nullable=True),
    Column("planned_value", Float, nullable=True, doc="what the plan says"),
    Column("sent_value", Float, nullable=True, doc="clamped into the device's limits"),
    Column("reported_value", Float, nullable=True, doc="what the device reads back"),
    Column("status", String(16), nullable=False, doc="sent, confirmed, rejected or failed"),
    Column("detail", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime, nullable=True),
    Index("ix_field_setpoints_site_interval", "site_id", "interval_start"),
)

field_readings = Table(
    "field_readings",
    metadata,
    Column("site_id", String(48), ForeignKey("sites.id"), primary_key=True),
    Column("series", String(96), primary_key=True),
    Column("ts", UtcDateTime, primary_key=True, doc="interval start, as the measurement's"),
    Column("device", String(48), nullable=False),
    Column("point", String(48), nullable=False),
    Column(
        "quality",
        String(16),
        nullable=False,
        doc="good, stale, out_of_range or comms_lost: of the value stored for the interval "
        "(good) or, where no reading in it was good, of the latest reading",
    ),
    Column("value", Float, nullable=True, doc="that reading's value (none: no answer)"),
    Column("detail", Text, nullable=False),
    Column("read_at", UtcDateTime, nullable=False),
    Column("readings", Integer, nullable=False, doc="readings taken in the interval"),
    Column("good_readings", Integer, nullable=False),
)

field_modes = Table(
    "field_modes",
    metadata,
    Column("site_id", String(48), ForeignKey("sites.id"), primary_key=True),
    Column("device", String(48), primary_key=True, doc="a device's name, or * for the park"),
    Column("manual", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),
)

grid_events = Table(
    "grid_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column(
        "kind",
        String(16),
        nullable=False,
        doc="import_cap, export_cap or target (limit_kw: the target's tolerance)",
    ),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("limit_kw", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("key_id", String(16), nullable=False, doc="the key that posted it"),
    Column("replan_run_id", Integer, nullable=True, doc="the re-plan it triggered"),
    Index("ix_grid_events_site_window", "site_id", "start_at", "end_at"),
)

grid_event_targets = Table(
    "grid_event_targets",
    metadata,
    Column("event_id", Integer, ForeignKey("grid_events.id"), primary_key=True),
    Column("start_at", UtcDateTime, primary_key=True, doc="interval start"),
    Column("target_kw", Float, nullable=False, doc="net exchange: import +, export -"),
)

price_postings = Table(
    "price_postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False, doc="first posted interval start"),
    Column("end_at", UtcDateTime, nullable=False, doc="end of the last posted interval"),
    Column("intervals", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("key_id", String(16), nullable=False, doc="the key that posted it"),
    Column("replan_run_id", Integer, nullable=True, doc="the re-plan it triggered"),
    Index("ix_price_postings_site_created", "site_id", "created_at"),
)

posted_prices = Table(
    "posted_prices",
    metadata,
    Column("posting_id", Integer, ForeignKey("price_postings.id"), primary_key=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("start_at", UtcDateTime, primary_key=True, doc="the interval's start"),
    Column("import_price_cny_per_kwh", Float, nullable=False),
    Column("export_price_cny_per_kwh", Float, nullable=True, doc="null: not posted"),
    Index("ix_posted_prices_site_start", "site_id", "start_at"),
)

measurement_deletions = Table(
    "measurement_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(48), ForeignKey("sites.id"), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False, doc="exclusive"),
    Column("series", JSON, nullable=True, doc="the series deleted; null: every series"),
    Column("deleted", Integer, nullable=False, doc="how many points were deleted"),
    Column("reason", Text, nullable=False),
    Column("key_id", String(16), nullable=False, doc="the key that deleted them"),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_measurement_deletions_site_created", "site_id", "created_at"),
)

# Owned by APScheduler's SQLAlchemyJobStore (same shape as its own); created by the
# migrations so that they own the whole schema.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

__all__ = [
    "api_keys",
    "apscheduler_jobs",
    "field_modes",
    "field_readings",
    "field_setpoints",
    "forecasts",
    "grid_event_targets",
    "grid_events",
    "job_runs",
    "measurement_deletions",
    "measurements",
    "metadata",
    "plan_rows",
    "plans",
    "posted_prices",
    "price_postings",
    "sites",
]
