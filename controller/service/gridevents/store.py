"""Grid events in the store: one row per event, never edited but for its re-plan run; a
target exchange profile's per-interval targets in rows of their own."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from controller.service.models import grid_event_targets as t_t
from controller.service.models import grid_events as e_t


class GridEventKind(StrEnum):
    IMPORT_CAP = "import_cap"
    """Import at the connection point at most ``limit_kw`` (a demand-response request)."""
    EXPORT_CAP = "export_cap"
    """Export at the connection point at most ``limit_kw`` (a curtailment order)."""
    TARGET = "target"
    """A net exchange per interval (import +, export -), e.g. a demand-response baseline:
    the exchange in the target's direction at most the target plus ``limit_kw`` (the
    tolerance), and no flow against it beyond the tolerance."""


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
    targets: tuple[tuple[datetime, float], ...] = ()
    """A target event's (interval start, net exchange target in kW), in time order."""

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


def _with_targets(connection: Connection, events: list[GridEvent]) -> list[GridEvent]:
    ids = [e.id for e in events if e.kind is GridEventKind.TARGET]
    if not ids:
        return events
    rows = connection.execute(
        select(t_t).where(t_t.c.event_id.in_(ids)).order_by(t_t.c.event_id, t_t.c.start_at)
    )
    targets: dict[int, list[tuple[datetime, float]]] = {}
    for r in rows:
        targets.setdefault(r.event_id, []).append((r.start_at, float(r.target_kw)))
    return [
        replace(e, targets=tuple(targets.get(e.id, ()))) if e.kind is GridEventKind.TARGET else e
        for e in events
    ]


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
    targets: list[tuple[datetime, float]] | None = None,
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
    if targets:
        connection.execute(
            insert(t_t),
            [{"event_id": int(key[0]), "start_at": t, "target_kw": v} for t, v in targets],
        )
    found = get(connection, site_id, int(key[0]))
    assert found is not None
    return found


def set_replan(connection: Connection, event_id: int, run_id: int) -> None:
    connection.execute(update(e_t).where(e_t.c.id == event_id).values(replan_run_id=run_id))


def get(connection: Connection, site_id: str, event_id: int) -> GridEvent | None:
    row = connection.execute(
        select(e_t).where(e_t.c.id == event_id, e_t.c.site_id == site_id)
    ).first()
    return _with_targets(connection, [_event(row)])[0] if row is not None else None


def overlapping(
    connection: Connection, site_id: str, start: datetime, end: datetime
) -> list[GridEvent]:
    """Events whose window overlaps ``[start, end)``, oldest first."""
    rows = connection.execute(
        select(e_t)
        .where(e_t.c.site_id == site_id, e_t.c.start_at < end, e_t.c.end_at > start)
        .order_by(e_t.c.id)
    )
    return _with_targets(connection, [_event(r) for r in rows])


def recent(connection: Connection, site_id: str, limit: int) -> list[GridEvent]:
    rows = connection.execute(
        select(e_t).where(e_t.c.site_id == site_id).order_by(e_t.c.id.desc()).limit(limit)
    )
    return _with_targets(connection, [_event(r) for r in rows])
