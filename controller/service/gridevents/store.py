"""Grid events in the store: one row per event, never edited but for its re-plan run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from controller.service.models import grid_events as e_t


class GridEventKind(StrEnum):
    IMPORT_CAP = "import_cap"
    """Import at the connection point at most ``limit_kw`` (a demand-response request)."""
    EXPORT_CAP = "export_cap"
    """Export at the connection point at most ``limit_kw`` (a curtailment order)."""


@dataclass(frozen=True)
class GridEvent:
    id: int
    site_id: str
    kind: GridEventKind
    start: datetime
    end: datetime
    limit_kw: float
    reason: str
    created_at: datetime
    key_id: str
    replan_run_id: int | None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _event(r: Row[Any]) -> GridEvent:
    return GridEvent(
        id=r.id,
        site_id=r.site_id,
        kind=GridEventKind(r.kind),
        start=r.start_at,
        end=r.end_at,
        limit_kw=r.limit_kw,
        reason=r.reason,
        created_at=r.created_at,
        key_id=r.key_id,
        replan_run_id=r.replan_run_id,
    )


def add(
    connection: Connection,
    site_id: str,
    kind: GridEventKind,
    start: datetime,
    end: datetime,
    limit_kw: float,
    reason: str,
    key_id: str,
    at: datetime,
) -> GridEvent:
    result = connection.execute(
        insert(e_t).values(
            site_id=site_id,
            kind=kind.value,
            start_at=start,
            end_at=end,
            limit_kw=limit_kw,
            reason=reason,
            created_at=at,
            key_id=key_id,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    found = get(connection, site_id, int(key[0]))
    assert found is not None
    return found


def set_replan(connection: Connection, event_id: int, run_id: int) -> None:
    connection.execute(update(e_t).where(e_t.c.id == event_id).values(replan_run_id=run_id))


def get(connection: Connection, site_id: str, event_id: int) -> GridEvent | None:
    row = connection.execute(
        select(e_t).where(e_t.c.id == event_id, e_t.c.site_id == site_id)
    ).first()
    return _event(row) if row is not None else None


def overlapping(
    connection: Connection, site_id: str, start: datetime, end: datetime
) -> list[GridEvent]:
    """Events whose window overlaps ``[start, end)``, oldest first."""
    rows = connection.execute(
        select(e_t)
        .where(e_t.c.site_id == site_id, e_t.c.start_at < end, e_t.c.end_at > start)
        .order_by(e_t.c.id)
    )
    return [_event(r) for r in rows]


def recent(connection: Connection, site_id: str, limit: int) -> list[GridEvent]:
    rows = connection.execute(
        select(e_t).where(e_t.c.site_id == site_id).order_by(e_t.c.id.desc()).limit(limit)
    )
    return [_event(r) for r in rows]
