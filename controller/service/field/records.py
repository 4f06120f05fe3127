"""The store's side of the field loop: setpoints sent and their read-back, manual modes, and
the quality flag of every field series in every interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, case, delete, insert, select, update

from controller.service.db import insert_on_conflict
from controller.service.field.quality import Quality, Reading
from controller.service.models import field_modes as m_t
from controller.service.models import field_readings as r_t
from controller.service.models import field_setpoints as s_t

PARK = "*"
"""The device name of a park-wide mode."""


class SetpointStatus(StrEnum):
    SENT = "sent"
    """Written; no read-back recorded (yet, or the controller stopped before it came)."""
    CONFIRMED = "confirmed"
    """The device reads back the value sent."""
    REJECTED = "rejected"
    """The device refused the write, or reads back another value (recorded)."""
    FAILED = "failed"
    """The device did not answer."""


@dataclass(frozen=True)
class SetpointRecord:
    id: int
    site_id: str
    device: str
    point: str
    setpoint: str
    interval_start: datetime
    plan_id: int | None
    planned_value: float | None
    sent_value: float | None
    reported_value: float | None
    status: SetpointStatus
    detail: str
    sent_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class Outgoing:
    device: str
    point: str
    setpoint: str
    planned_value: float | None
    sent_value: float
    detail: str


def insert_sent(
    connection: Connection,
    site_id: str,
    interval_start: datetime,
    plan_id: int | None,
    rows: Sequence[Outgoing],
    at: datetime,
) -> list[int]:
    ids = []
    for row in rows:
        result = connection.execute(
            insert(s_t).values(
                site_id=site_id,
                device=row.device,
                point=row.point,
                setpoint=row.setpoint,
                interval_start=interval_start,
                plan_id=plan_id,
                planned_value=row.planned_value,
                sent_value=row.sent_value,
                status=SetpointStatus.SENT.value,
                detail=row.detail,
                sent_at=at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        ids.append(int(key[0]))
    return ids


def answer(
    connection: Connection,
    record_id: int,
    status: SetpointStatus,
    reported: float | None,
    detail: str,
    at: datetime,
) -> None:
    connection.execute(
        update(s_t)
        .where(s_t.c.id == record_id)
        .values(status=status.value, reported_value=reported, detail=detail, answered_at=at)
    )


def recent(
    connection: Connection, site_id: str, limit: int = 100, since: datetime | None = None
) -> list[SetpointRecord]:
    """Newest first."""
    query = select(s_t).where(s_t.c.site_id == site_id)
    if since is not None:
        query = query.where(s_t.c.interval_start >= since)
    rows = connection.execute(query.order_by(s_t.c.id.desc()).limit(limit))
    return [SetpointRecord(**{**r._mapping, "status": SetpointStatus(r.status)}) for r in rows]


def set_mode(
    connection: Connection, site_id: str, device: str, manual: bool, at: datetime, note: str
) -> None:
    connection.execute(delete(m_t).where(m_t.c.site_id == site_id, m_t.c.device == device))
    connection.execute(
        insert(m_t).values(site_id=site_id, device=device, manual=manual, changed_at=at, note=note)
    )


def manual_devices(connection: Connection, site_id: str) -> dict[str, tuple[datetime, str]]:
    """Devices (or ``*``, the whole park) in manual mode: when it was set and the note."""
    rows = connection.execute(
        select(m_t.c.device, m_t.c.changed_at, m_t.c.note).where(
            m_t.c.site_id == site_id, m_t.c.manual.is_(True)
        )
    )
    return {r.device: (r.changed_at, r.note) for r in rows}


@dataclass(frozen=True)
class ReadingRecord:
    """A field series in one interval: the quality of the value stored for it (good), or
    where no reading in it was good, that of the latest reading."""

    series: str
    ts: datetime
    device: str
    point: str
    quality: Quality
    value: float | None
    detail: str
    read_at: datetime
    readings: int
    good_readings: int


def record_readings(
    connection: Connection, site_id: str, stamped: Sequence[tuple[datetime, Reading]]
) -> None:
    """Upsert each reading's flag for its interval (``stamped``: interval start, reading).

    A good reading replaces what the interval held; another replaces it only while nothing
    in the interval was good (the stored measurement is then good, and stays so flagged)."""
    if not stamped:
        return
    stmt = insert_on_conflict(connection, r_t)
    new = stmt.excluded
    takes = (new.quality == Quality.GOOD.value) | (r_t.c.quality != Quality.GOOD.value)

    def pick(column: str) -> object:
        return case((takes, new[column]), else_=r_t.c[column])

    stmt = stmt.on_conflict_do_update(
        index_elements=[r_t.c.site_id, r_t.c.series, r_t.c.ts],
        set_={
            **{c: pick(c) for c in ("device", "point", "quality", "value", "detail", "read_at")},
            "readings": r_t.c.readings + 1,
            "good_readings": r_t.c.good_readings + new.good_readings,
        },
    )
    latest: dict[tuple[str, datetime], tuple[datetime, Reading]] = {}
    for ts, r in stamped:  # one row per series and interval in a statement
        held = latest.get((r.series, ts))
        if held is None or r.quality is Quality.GOOD or held[1].quality is not Quality.GOOD:
            latest[(r.series, ts)] = (ts, r)
    rows = [
        {
            "site_id": site_id,
            "series": r.series,
            "ts": ts,
            "device": r.device,
            "point": r.point,
            "quality": r.quality.value,
            "value": r.value if r.value is None or r.value == r.value else None,
            "detail": r.detail[:500],
            "read_at": r.at,
            "readings": 1,
            "good_readings": int(r.quality is Quality.GOOD),
        }
        for ts, r in latest.values()
        if r.series
    ]
    if rows:
        connection.execute(stmt, rows)


def readings(
    connection: Connection,
    site_id: str,
    series: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> list[ReadingRecord]:
    """Flags in ``[start, end)``, ordered by series then time."""
    query = select(r_t).where(r_t.c.site_id == site_id, r_t.c.ts >= start, r_t.c.ts < end)
    if series is not None:
        query = query.where(r_t.c.series.in_(list(series)))
    rows = connection.execute(query.order_by(r_t.c.series, r_t.c.ts))
    return [
        ReadingRecord(
            series=r.series,
            ts=r.ts,
            device=r.device,
            point=r.point,
            quality=Quality(r.quality),
            value=r.value,
            detail=r.detail,
            read_at=r.read_at,
            readings=r.readings,
            good_readings=r.good_readings,
        )
        for r in rows
    ]
