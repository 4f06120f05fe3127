"""The store's side of the field loop: setpoints sent and their read-back, manual modes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select, update

from controller.service.models import field_modes as m_t
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
