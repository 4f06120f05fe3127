"""``/api/v1/sites/{id}/grid-events``: the utility posts an import cap, an export cap or a
target exchange profile for a window and reads whether and how the park followed it.

A utility key may post and read the events of the parks it is granted, and no others (as may
operator and admin keys). Every event re-plans the park at once (a job run with trigger
``grid_event``): the plans hold it as per-interval connection limits wherever their horizon
meets its window, and the connection point's ``import_limit_kw`` and ``export_limit_kw``
setpoints hold it from its first second (see :mod:`controller.service.gridevents.rule`).
Each event is answered with its outcome: the re-plan's run and plan, the highest import or
export in the window planned by that plan (or by the plans in force) and measured, and,
once the window has passed, whether the measured flow kept to the cap; for a target, per
interval the target, the planned and the measured net exchange and whether each kept
within the target's limits.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from controller import columns as pc
from controller.service import db
from controller.service.api.deps import ServiceDep, UtilityKey, UtilitySite
from controller.service.context import Service
from controller.service.gridevents import store
from controller.service.gridevents.store import GridEvent, GridEventKind
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, Trigger
from sites import Site
from sites.time_step import STEP

router = APIRouter(prefix="/api/v1/sites/{site_id}/grid-events", tags=["grid events"])
MAX_WINDOW = timedelta(days=7)
FOLLOW_TOL_KW = 1.0
"""A measured or planned flow within this of the cap counts as kept to it (metering)."""


class GridEventIn(BaseModel):
    kind: GridEventKind
    start: AwareDatetime = Field(description="first interval start of the window (ISO 8601)")
    end: AwareDatetime = Field(description="end of the window (exclusive), a quarter hour")
    limit_kw: float | None = Field(
        default=None, ge=0, description="import_cap, export_cap: the cap at the connection point"
    )
    target_kw: list[float] | None = Field(
        default=None,
        description="target: the net exchange per quarter hour of the window (import +, "
        "export -), one value per interval from start",
    )
    tolerance_kw: float = Field(default=0.0, ge=0, description="target: the band around it")
    reason: str = Field(default="", max_length=500, examples=["demand response"])


def _flow_column(kind: GridEventKind) -> str:
    return pc.GRID_IMPORT_KW if kind is GridEventKind.IMPORT_CAP else pc.GRID_EXPORT_KW


def _problems(body: GridEventIn, now: datetime) -> list[str]:
    out = []
    for name, moment in (("start", body.start), ("end", body.end)):
        if moment.second or moment.microsecond or moment.minute % 15:
            out.append(f"{name}: got {moment.isoformat()}: must be a quarter-hour boundary")
    if body.end <= body.start:
        out.append(f"end: got {body.end.isoformat()}: must be after start")
    elif body.end - body.start > MAX_WINDOW:
        out.append(f"end: got {body.end.isoformat()}: the window may last at most 7 days")
    if body.end <= now:
        out.append(f"end: got {body.end.isoformat()}: the window must not have passed")
    if body.kind is GridEventKind.TARGET:
        intervals = max(int((body.end - body.start) / STEP), 0)
        got = None if body.target_kw is None else len(body.target_kw)
        if got != intervals:
            out.append(
                f"target_kw: got {got} values: a target needs one per quarter hour of the "
                f"window ({intervals})"
            )
        elif not all(math.isfinite(v) for v in body.target_kw or []):
            out.append("target_kw: got a value that is not a finite number: must be finite")
        if body.limit_kw is not None:
            out.append("limit_kw: got a value: a target takes target_kw and tolerance_kw")
    else:
        if body.limit_kw is None:
            out.append(f"limit_kw: got none: an {body.kind.value} needs its cap")
        if body.target_kw is not None:
            out.append(f"target_kw: got values: only a target takes them, not an {body.kind}")
    return out


def _targets(body: GridEventIn) -> list[tuple[datetime, float]]:
    if body.kind is not GridEventKind.TARGET or body.target_kw is None:
        return []
    return [(body.start + i * STEP, float(v)) for i, v in enumerate(body.target_kw)]


def _planned_rows(
    connection: Connection, site: Site, event: GridEvent, plan_id: int | None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The window's rows of the plan made for the event, else of the plans in force; and
    that plan's relaxations of the connection limits (where it could not keep the event)."""
    zone = site.location.timezone
    stored = plan_store.load(connection, plan_id, zone) if plan_id is not None else None
    if stored is None:
        return plan_store.stitched(connection, site.id, event.start, event.end, zone), []
    index = pd.DatetimeIndex(stored.frame.index)
    inside = (index >= pd.Timestamp(event.start)) & (index < pd.Timestamp(event.end))
    relaxed = [
        dict(r)
        for r in stored.report.get("relaxations", [])
        if str(r.get("constraint", "")).startswith("grid_")
    ]
    return stored.frame[inside], relaxed


def outcome(service: Service, site: Site, event: GridEvent) -> dict[str, Any]:
    """The event and what came of it (blocking: call off the loop)."""
    column = _flow_column(event.kind)
    now = service.now()
    with db.read(service.engine) as connection:
        run = (
            run_store.get(connection, event.replan_run_id)
            if event.replan_run_id is not None
            else None
        )
        rows, relaxed = _planned_rows(connection, site, event, run.plan_id if run else None)
        measured = measurement_store.maximum(connection, site.id, column, event.start, event.end)
    passed = now >= event.end
    if event.kind is GridEventKind.TARGET:
        with db.read(service.engine) as connection:
            points = measurement_store.read(
                connection, site.id, [pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW], event.start, event.end
            )
        metered: dict[str, dict[pd.Timestamp, float]] = {}
        for p in points:
            metered.setdefault(p.series, {})[pd.Timestamp(p.ts).tz_convert("UTC")] = p.value
        return (
            _common(event, run, now, passed)
            | _target_outcome(event, rows, metered, passed)
            | {"relaxed": relaxed}
        )
    planned = float(rows[column].max()) if column in rows.columns and len(rows) else None
    return _common(event, run, now, passed) | {
        "limit_kw": event.limit_kw,
        "planned_max_kw": planned,
        "planned_within_cap": None
        if planned is None
        else planned <= event.limit_kw + FOLLOW_TOL_KW,
        "measured_max_kw": measured,
        "followed": (measured <= event.limit_kw + FOLLOW_TOL_KW)
        if passed and measured is not None
        else None,
        "relaxed": relaxed,
    }


def _common(event: GridEvent, run: Any, now: datetime, passed: bool) -> dict[str, Any]:
    return {
        "id": event.id,
        "site_id": event.site_id,
        "kind": event.kind.value,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "reason": event.reason,
        "created_at": event.created_at.isoformat(),
        "replan": None
        if run is None
        else {"run_id": run.id, "status": run.status.value, "plan_id": run.plan_id},
        "window": "passed" if passed else ("in force" if event.covers(now) else "ahead"),
    }


def _target_outcome(
    event: GridEvent,
    rows: pd.DataFrame,
    metered: dict[str, dict[pd.Timestamp, float]],
    passed: bool,
) -> dict[str, Any]:
    """Per interval: the target, the planned and measured net exchange, and whether each kept
    within the target's limits (:func:`controller.service.gridevents.rule.event_limits`)."""
    index = pd.DatetimeIndex(rows.index).tz_convert("UTC") if len(rows) else None
    planned_net = (
        pd.Series(
            rows[pc.GRID_IMPORT_KW].to_numpy() - rows[pc.GRID_EXPORT_KW].to_numpy(), index=index
        )
        if len(rows) and pc.GRID_IMPORT_KW in rows.columns and pc.GRID_EXPORT_KW in rows.columns
        else pd.Series(dtype=float)
    )
    imports = metered.get(pc.GRID_IMPORT_KW, {})
    exports = metered.get(pc.GRID_EXPORT_KW, {})
    intervals: list[dict[str, Any]] = []
    for at, target in event.targets:
        stamp = pd.Timestamp(at).tz_convert("UTC")
        top, bottom = max(target + event.limit_kw, 0.0), max(event.limit_kw - target, 0.0)
        plan = planned_net.get(stamp)
        m_in, m_out = imports.get(stamp), exports.get(stamp)
        measured = None if m_in is None and m_out is None else (m_in or 0.0) - (m_out or 0.0)
        intervals.append(
            {
                "start": stamp.isoformat(),
                "target_kw": target,
                "planned_net_kw": None if plan is None else float(plan),
                "planned_kept": None if plan is None else _kept(float(plan), top, bottom),
                "measured_net_kw": measured,
                "measured_kept": None if measured is None else _kept(measured, top, bottom),
            }
        )
    measured_done = [i for i in intervals if i["measured_kept"] is not None]
    deviations = [
        abs(i["measured_net_kw"] - i["target_kw"])
        for i in measured_done
        if i["measured_net_kw"] is not None
    ]
    planned_known = [i for i in intervals if i["planned_kept"] is not None]
    return {
        "tolerance_kw": event.limit_kw,
        "planned_within_target": all(i["planned_kept"] for i in planned_known)
        if planned_known
        else None,
        "intervals_planned_within": sum(1 for i in planned_known if i["planned_kept"]),
        "intervals_measured": len(measured_done),
        "intervals_measured_within": sum(1 for i in measured_done if i["measured_kept"]),
        "measured_mean_abs_deviation_kw": sum(deviations) / len(deviations) if deviations else None,
        "followed": all(i["measured_kept"] for i in measured_done)
        if passed and len(measured_done) == len(intervals)
        else None,
        "intervals": intervals,
    }


def _kept(net: float, top: float, bottom: float) -> bool:
    """Import at most ``top`` and export at most ``bottom`` (within metering)."""
    return -bottom - FOLLOW_TOL_KW <= net <= top + FOLLOW_TOL_KW


@router.post("", status_code=status.HTTP_201_CREATED)
async def post_event(
    site: UtilitySite,
    principal: UtilityKey,
    body: GridEventIn,
    service: ServiceDep,
    wait: Annotated[bool, Query(description="answer once the re-plan has finished")] = False,
) -> dict[str, Any]:
    """Record the event; an event in force now re-plans the park at once."""
    now = service.now()
    problems = _problems(body, now)
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"problems": problems})

    def record() -> GridEvent:
        with db.write(service.engine) as connection:
            return store.add(
                connection,
                site.id,
                body.kind,
                body.start,
                body.end,
                body.tolerance_kw if body.limit_kw is None else body.limit_kw,
                body.reason,
                principal.key_id,
                now,
                _targets(body),
            )

    event = await run_in_threadpool(record)

    def replan() -> None:
        run = service.runner.run(site.id, Job.INTRADAY, Trigger.GRID_EVENT)
        with db.write(service.engine) as connection:
            store.set_replan(connection, event.id, run.id)

    if wait:  # every event re-plans at once: a plan made now may meet its window
        await run_in_threadpool(replan)
    else:
        service.submit(replan)

    def read() -> dict[str, Any]:
        with db.read(service.engine) as connection:
            fresh = store.get(connection, site.id, event.id)
        assert fresh is not None
        return outcome(service, site, fresh)

    return await run_in_threadpool(read)


@router.get("")
def list_events(
    site: UtilitySite,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The park's events, newest first, each with its outcome."""
    with db.read(service.engine) as connection:
        events = store.recent(connection, site.id, limit)
    return [outcome(service, site, e) for e in events]


@router.get("/{event_id}")
def get_event(site: UtilitySite, event_id: int, service: ServiceDep) -> dict[str, Any]:
    with db.read(service.engine) as connection:
        event = store.get(connection, site.id, event_id)
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no grid event {event_id} of {site.id!r}")
    return outcome(service, site, event)
