"""Plans: an immutable header (provenance, KPIs, report) and one row per interval.

A plan is written in one transaction, header and rows together, so a reader never sees a
plan with missing rows. A re-plan is a new version of the same (park, kind, date); nothing
here updates or deletes a plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Row, func, select

from controller.plans.plan import Plan, PlanKind
from controller.plans.serialise import INDEX_NAME, plan_from_dict, plan_to_dict
from controller.service.models import plan_rows as r_t
from controller.service.models import plans as p_t
from sites.time_step import STEP

_HEADER = [c for c in p_t.c if c.name not in ("plan_metadata", "kpis", "report", "columns")]


@dataclass(frozen=True)
class PlanHeader:
    """What identifies a stored plan and what it says about itself (no interval rows)."""

    id: int
    site_id: str
    kind: PlanKind
    plan_date: date
    version: int
    created_at: datetime
    start: datetime
    end: datetime
    n_rows: int
    status: str
    content_hash: str
    forecast_id: int | None
    job_run_id: int | None

    @property
    def etag(self) -> str:
        """Strong validator: the id and content hash never change for a stored plan."""
        return f'"p{self.id}-{self.content_hash[:20]}"'


@dataclass(frozen=True)
class StoredPlan:
    header: PlanHeader
    columns: tuple[str, ...]
    metadata: Mapping[str, Any]
    kpis: Mapping[str, float]
    report: Mapping[str, Any]
    frame: pd.DataFrame
    """Interval rows on the park's local index."""

    def document(self) -> dict[str, Any]:
        """The plan in the planner's serialisation
        (:func:`controller.plans.serialise.plan_to_dict`)."""
        meta = dict(self.metadata)
        format_version = meta.pop("format_version")
        index = pd.DatetimeIndex(self.frame.index)
        return {
            "format_version": format_version,
            "metadata": meta,
            "kpis": dict(self.kpis),
            "relaxations": list(self.report["relaxations"]),
            "binding": list(self.report["binding"]),
            "intervals": {
                "timezone": str(index.tz),
                INDEX_NAME: [t.isoformat() for t in index],
                "columns": {
                    str(c): [None if _missing(v) else v for v in self.frame[c].tolist()]
                    for c in self.frame.columns
                },
            },
        }

    def plan(self) -> Plan:
        """The stored plan as the planner's own object."""
        return plan_from_dict(self.document())


def _missing(value: Any) -> bool:
    return isinstance(value, float) and not np.isfinite(value)


def _header(row: Row[Any]) -> PlanHeader:
    return PlanHeader(
        id=row.id,
        site_id=row.site_id,
        kind=PlanKind(row.kind),
        plan_date=row.plan_date,
        version=row.version,
        created_at=row.created_at,
        start=row.start_at,
        end=row.end_at,
        n_rows=row.n_rows,
        status=row.status,
        content_hash=row.content_hash,
        forecast_id=row.forecast_id,
        job_run_id=row.job_run_id,
    )


def next_version(connection: Connection, site_id: str, kind: PlanKind, plan_date: date) -> int:
    current = connection.scalar(
        select(func.max(p_t.c.version)).where(
            p_t.c.site_id == site_id, p_t.c.kind == kind.value, p_t.c.plan_date == plan_date
        )
    )
    return int(current or 0) + 1


def insert(
    connection: Connection,
    plan: Plan,
    plan_date: date,
    forecast_id: int | None = None,
    job_run_id: int | None = None,
) -> PlanHeader:
    """Store ``plan`` as the next version of its (park, kind, date); call inside one transaction.

    Header and report are kept in the planner's own serialisation
    (:func:`controller.plans.serialise.plan_to_dict`), with the version the store assigned.
    """
    meta = plan.metadata
    version = next_version(connection, meta.site_id, meta.kind, plan_date)
    document = plan_to_dict(plan)
    document["metadata"]["version"] = version
    intervals = document["intervals"]
    columns = list(intervals["columns"])
    index = pd.DatetimeIndex(pd.to_datetime(intervals[INDEX_NAME], utc=True))
    series = [intervals["columns"][c] for c in columns]
    rows = [list(values) for values in zip(*series, strict=True)] if series else []
    report = {"relaxations": document["relaxations"], "binding": document["binding"]}
    content = json.dumps(document, sort_keys=True, allow_nan=False)
    start = index[0].to_pydatetime() if len(index) else _aware(meta.created_at)
    end = (index[-1] + STEP).to_pydatetime() if len(index) else _aware(meta.created_at)
    result = connection.execute(
        p_t.insert().values(
            site_id=meta.site_id,
            kind=meta.kind.value,
            plan_date=plan_date,
            version=version,
            created_at=_aware(meta.created_at),
            start_at=start,
            end_at=end,
            n_rows=len(index),
            status=meta.status.value,
            content_hash=hashlib.sha256(content.encode()).hexdigest(),
            columns=columns,
            plan_metadata=document["metadata"] | {"format_version": document["format_version"]},
            kpis=document["kpis"],
            report=report,
            forecast_id=forecast_id,
            job_run_id=job_run_id,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    plan_id = int(key[0])
    if len(index):
        connection.execute(
            r_t.insert(),
            [
                {"plan_id": plan_id, "ts": t.to_pydatetime(), "row_values": values}
                for t, values in zip(index, rows, strict=True)
            ],
        )
    header = get_header(connection, plan_id)
    assert header is not None
    return header


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_header(connection: Connection, plan_id: int) -> PlanHeader | None:
    row = connection.execute(select(*_HEADER).where(p_t.c.id == plan_id)).first()
    return _header(row) if row else None


def in_force(connection: Connection, site_id: str, at: datetime) -> PlanHeader | None:
    """The newest plan whose horizon covers ``at``."""
    row = connection.execute(
        select(*_HEADER)
        .where(p_t.c.site_id == site_id, p_t.c.start_at <= at, p_t.c.end_at > at)
        .order_by(p_t.c.created_at.desc(), p_t.c.id.desc())
        .limit(1)
    ).first()
    return _header(row) if row else None


def next_start(connection: Connection, site_id: str, after: datetime) -> datetime | None:
    """The earliest start of a plan of the park that starts after ``after``: a plan stored for
    later (a newer plan starting then takes over from the one in force)."""
    start: datetime | None = connection.scalar(
        select(func.min(p_t.c.start_at)).where(p_t.c.site_id == site_id, p_t.c.start_at > after)
    )
    return start


def revision(connection: Connection) -> tuple[int, int]:
    """(number of plans, newest id): changes whenever any process stores a plan (plans are
    never deleted; the count also catches a transaction that committed a lower id late)."""
    count, newest = connection.execute(select(func.count(), func.max(p_t.c.id))).one()
    return int(count), int(newest or 0)


def for_date(
    connection: Connection,
    site_id: str,
    kind: PlanKind,
    plan_date: date,
    version: int | None = None,
) -> PlanHeader | None:
    """The latest version of a (park, kind, date), or the given version."""
    query = select(*_HEADER).where(
        p_t.c.site_id == site_id, p_t.c.kind == kind.value, p_t.c.plan_date == plan_date
    )
    if version is not None:
        query = query.where(p_t.c.version == version)
    row = connection.execute(query.order_by(p_t.c.version.desc()).limit(1)).first()
    return _header(row) if row else None


def versions(
    connection: Connection, site_id: str, kind: PlanKind, plan_date: date
) -> list[PlanHeader]:
    rows = connection.execute(
        select(*_HEADER)
        .where(p_t.c.site_id == site_id, p_t.c.kind == kind.value, p_t.c.plan_date == plan_date)
        .order_by(p_t.c.version)
    )
    return [_header(r) for r in rows]


def covering(
    connection: Connection, site_id: str, start: datetime, end: datetime, kind: PlanKind | None
) -> list[PlanHeader]:
    """Every plan whose horizon overlaps ``[start, end)``, oldest first."""
    query = select(*_HEADER).where(
        p_t.c.site_id == site_id, p_t.c.start_at < end, p_t.c.end_at > start
    )
    if kind is not None:
        query = query.where(p_t.c.kind == kind.value)
    rows = connection.execute(query.order_by(p_t.c.created_at, p_t.c.id))
    return [_header(r) for r in rows]


def forecast_fallbacks(connection: Connection, plan_id: int) -> dict[str, str]:
    """The series of a stored plan's forecast that came from a fallback baseline (none for
    plans stored before they were recorded)."""
    metadata = connection.scalar(select(p_t.c.plan_metadata).where(p_t.c.id == plan_id))
    if not isinstance(metadata, Mapping):
        return {}
    return dict(metadata.get("forecast_fallbacks") or {})


def notes_and_relaxations(
    connection: Connection, plan_id: int
) -> tuple[list[str], list[Mapping[str, Any]]]:
    """A stored plan's notes (the solver's outcome among them) and relaxations (each with
    its constraint, amount, unit and detail), read without its rows."""
    row = connection.execute(
        select(p_t.c.plan_metadata, p_t.c.report).where(p_t.c.id == plan_id)
    ).first()
    if row is None:
        return [], []
    metadata = row.plan_metadata if isinstance(row.plan_metadata, Mapping) else {}
    report = row.report if isinstance(row.report, Mapping) else {}
    notes = [str(n) for n in metadata.get("notes") or []]
    relaxations = [r for r in report.get("relaxations") or [] if isinstance(r, Mapping)]
    return notes, relaxations


def load(connection: Connection, plan_id: int, timezone: str) -> StoredPlan | None:
    row = connection.execute(select(p_t).where(p_t.c.id == plan_id)).first()
    if row is None:
        return None
    frame = _rows_frame(connection, [plan_id], list(row.columns), timezone)
    return StoredPlan(
        _header(row), tuple(row.columns), row.plan_metadata, row.kpis, row.report, frame
    )


def _rows_frame(
    connection: Connection,
    plan_ids: list[int],
    columns: list[str],
    timezone: str,
    span: tuple[datetime, datetime] | None = None,
) -> pd.DataFrame:
    query = select(r_t.c.ts, r_t.c.row_values).where(r_t.c.plan_id.in_(plan_ids))
    if span is not None:
        query = query.where(r_t.c.ts >= span[0], r_t.c.ts <= span[1])
    fetched = connection.execute(query.order_by(r_t.c.ts)).all()
    index = pd.DatetimeIndex([r.ts for r in fetched], tz=UTC).tz_convert(timezone)
    frame = pd.DataFrame([r.row_values for r in fetched], index=index, columns=columns)
    for column in frame.columns:
        if frame[column].dtype == object and column != "price_band":
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def stitched(
    connection: Connection, site_id: str, start: datetime, end: datetime, timezone: str
) -> pd.DataFrame:
    """Per interval of ``[start, end)``, the row of the plan in force at that interval.

    The plan in force at an interval is the newest plan covering it that was made before the
    interval ended; intervals no plan covers are left out.
    """
    headers = covering(connection, site_id, start, end, None)
    if not headers:
        return pd.DataFrame()
    chosen: dict[datetime, PlanHeader] = {}
    for header in headers:  # oldest first: a newer plan replaces an older one
        first = max(pd.Timestamp(header.start), pd.Timestamp(start).tz_convert(UTC).ceil("15min"))
        last = min(pd.Timestamp(header.end), pd.Timestamp(end).tz_convert(UTC))
        if first >= last:
            continue
        for t in pd.date_range(first, last, freq=STEP, inclusive="left"):
            if header.created_at < (t + STEP).to_pydatetime():
                chosen[t.to_pydatetime()] = header
    if not chosen:
        return pd.DataFrame()
    by_plan: dict[int, list[datetime]] = {}
    for moment, header in chosen.items():
        by_plan.setdefault(header.id, []).append(moment)
    columns = connection.execute(
        select(p_t.c.id, p_t.c.columns).where(p_t.c.id.in_(list(by_plan)))
    ).all()
    parts = []
    for plan_id, plan_columns in columns:
        times = by_plan[plan_id]
        part = _rows_frame(
            connection, [plan_id], list(plan_columns), timezone, (min(times), max(times))
        )
        wanted = pd.DatetimeIndex(times, tz=UTC).tz_convert(timezone)
        parts.append(part[part.index.isin(wanted)])
    return pd.concat(parts).sort_index()


def incomplete(connection: Connection) -> list[tuple[int, int, int]]:
    """Plans whose stored rows differ from their header's count: (id, expected, found)."""
    counts = select(r_t.c.plan_id, func.count().label("n")).group_by(r_t.c.plan_id).subquery()
    rows = connection.execute(
        select(p_t.c.id, p_t.c.n_rows, func.coalesce(counts.c.n, 0))
        .select_from(p_t.outerjoin(counts, counts.c.plan_id == p_t.c.id))
        .where(p_t.c.n_rows != func.coalesce(counts.c.n, 0))
    )
    return [(int(a), int(b), int(c)) for a, b, c in rows]
