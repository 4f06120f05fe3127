"""Measurements: one value per (park, series, interval start), upserted idempotently."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Select, delete, func, select

from controller.service.db import insert_on_conflict
from controller.service.models import measurement_deletions as d_t
from controller.service.models import measurements as m_t
from sites import Site
from sites.time_step import STEP

_CHUNK = 5_000  # rows per executemany call: bounded parameter lists, same transaction


@dataclass(frozen=True)
class Point:
    series: str
    ts: datetime
    """Start of the 15-minute interval the value describes (aware)."""
    value: float


def upsert(connection: Connection, site_id: str, points: Sequence[Point]) -> int:
    """Insert or replace ``points``; posting the same point twice leaves one row. Returns count."""
    if not points:
        return 0
    insert = insert_on_conflict(connection, m_t)
    stmt = insert.on_conflict_do_update(
        index_elements=[m_t.c.site_id, m_t.c.series, m_t.c.ts],
        set_={"value": insert.excluded.value},
    )
    for start in range(0, len(points), _CHUNK):
        rows = [
            {"site_id": site_id, "series": p.series, "ts": p.ts, "value": p.value}
            for p in points[start : start + _CHUNK]
        ]
        connection.execute(stmt, rows)
    return len(points)


def read(
    connection: Connection,
    site_id: str,
    series: Iterable[str] | None,
    start: datetime,
    end: datetime,
) -> list[Point]:
    """Points in ``[start, end)``, ordered by series then time."""
    query = _points(site_id, series, start, end).order_by(m_t.c.series, m_t.c.ts)
    return [Point(r.series, r.ts, r.value) for r in connection.execute(query)]


def _points(site_id: str, series: Iterable[str] | None, start: datetime, end: datetime) -> Select:
    """(series, ts, value) of a park's ``series`` (None: all) in ``[start, end)``."""
    query = select(m_t.c.series, m_t.c.ts, m_t.c.value).where(
        m_t.c.site_id == site_id, m_t.c.ts >= start, m_t.c.ts < end
    )
    return query if series is None else query.where(m_t.c.series.in_(list(series)))


@dataclass(frozen=True)
class Deletion:
    id: int
    site_id: str
    start: datetime
    end: datetime
    series: list[str] | None
    deleted: int
    reason: str
    key_id: str
    created_at: datetime


def delete_period(
    connection: Connection,
    site_id: str,
    series: Sequence[str] | None,
    start: datetime,
    end: datetime,
    reason: str,
    key_id: str,
    now: datetime,
) -> Deletion:
    """Delete the points in ``[start, end)`` (of ``series``, else every series) and record
    who did it and why, in the same transaction."""
    query = delete(m_t).where(m_t.c.site_id == site_id, m_t.c.ts >= start, m_t.c.ts < end)
    if series is not None:
        query = query.where(m_t.c.series.in_(list(series)))
    deleted = int(connection.execute(query).rowcount or 0)
    wanted = list(series) if series is not None else None
    result = connection.execute(
        d_t.insert().values(
            site_id=site_id,
            start_at=start,
            end_at=end,
            series=wanted,
            deleted=deleted,
            reason=reason,
            key_id=key_id,
            created_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Deletion(int(key[0]), site_id, start, end, wanted, deleted, reason, key_id, now)


def deletions(connection: Connection, site_id: str, limit: int = 100) -> list[Deletion]:
    rows = connection.execute(
        select(d_t).where(d_t.c.site_id == site_id).order_by(d_t.c.id.desc()).limit(limit)
    )
    return [
        Deletion(
            r.id,
            r.site_id,
            r.start_at,
            r.end_at,
            r.series,
            r.deleted,
            r.reason,
            r.key_id,
            r.created_at,
        )
        for r in rows
    ]


def newest_values(
    connection: Connection, site_id: str, series: str, before: datetime, n: int
) -> list[float]:
    """The ``n`` newest values of ``series`` before ``before``, oldest first."""
    rows = connection.execute(
        select(m_t.c.value)
        .where(m_t.c.site_id == site_id, m_t.c.series == series, m_t.c.ts < before)
        .order_by(m_t.c.ts.desc())
        .limit(n)
    )
    return [float(r.value) for r in rows][::-1]


def frame(
    connection: Connection, site: Site, series: Sequence[str], start: datetime, end: datetime
) -> pd.DataFrame:
    """Wide frame of ``series`` on the park's 15-minute local index over ``[start, end)``.

    Intervals without a measurement are NaN: the forecaster decides what a gap means.
    """
    zone = site.location.timezone
    first = pd.Timestamp(start).tz_convert(zone).ceil("15min")
    last = pd.Timestamp(end).tz_convert(zone)
    index = (
        pd.date_range(first, last, freq=STEP, inclusive="left")
        if first < last
        else pd.DatetimeIndex([], tz=zone)
    )
    out = pd.DataFrame(np.nan, index=index, columns=list(series), dtype=float)
    # the driver's plain rows, their time stamps (SQLite: naive UTC text; PostgreSQL: aware)
    # parsed at once: the column type's conversion row by row, and building each row, took
    # most of a re-plan's reading time
    result = connection.execute(_points(site.id, series, start, end))
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    if rows:
        long = pd.DataFrame.from_records(rows, columns=["series", "ts", "value"], coerce_float=True)
        long["ts"] = pd.to_datetime(long["ts"], utc=True, format="ISO8601").dt.tz_convert(zone)
        wide = long.pivot(index="ts", columns="series", values="value")
        wide = wide.reindex(index=index.intersection(pd.DatetimeIndex(wide.index)))
        out.loc[wide.index, list(wide.columns)] = wide.to_numpy()
    out.index.name = None
    return out


def latest(connection: Connection, site_id: str, series: str, before: datetime) -> Point | None:
    """The newest point of ``series`` starting before ``before``."""
    row = connection.execute(
        select(m_t.c.series, m_t.c.ts, m_t.c.value)
        .where(m_t.c.site_id == site_id, m_t.c.series == series, m_t.c.ts < before)
        .order_by(m_t.c.ts.desc())
        .limit(1)
    ).first()
    return Point(row.series, row.ts, row.value) if row else None


def maximum(
    connection: Connection, site_id: str, series: str, start: datetime, end: datetime
) -> float | None:
    value = connection.scalar(
        select(func.max(m_t.c.value)).where(
            m_t.c.site_id == site_id, m_t.c.series == series, m_t.c.ts >= start, m_t.c.ts < end
        )
    )
    return None if value is None else float(value)


def count(connection: Connection, site_id: str) -> int:
    return int(connection.scalar(select(func.count()).where(m_t.c.site_id == site_id)) or 0)


def newest_time(connection: Connection, site_id: str) -> datetime | None:
    value = connection.scalar(select(func.max(m_t.c.ts)).where(m_t.c.site_id == site_id))
    return value if isinstance(value, datetime) else None
