"""``/api/v1/sites/{id}/grid-events``: the utility posts an import or export cap for a window
and reads whether and how the park followed it.

A utility key may post and read the events of the parks it is granted, and no others (as may
operator and admin keys). An event in force when posted triggers a re-plan at once (a job run
with trigger ``grid_event``); one that begins later is honoured by the first plan made at or
after its start, and by the connection point's export-limit setpoint from its first second
(see :mod:`controller.service.gridevents.rule`). Each event is answered with its outcome:
the re-plan's run and plan, the highest import or export in the window planned by that plan
(or by the plans in force, without a re-plan) and measured,
and, once the window has passed, whether the measured flow kept to the cap.
"""

from __future__ import annotations

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

router = APIRouter(prefix="/api/v1/sites/{site_id}/grid-events", tags=["grid events"])
MAX_WINDOW = timedelta(days=7)
FOLLOW_TOL_KW = 1.0
"""A measured or planned flow within this of the cap counts as kept to it (metering)."""


class GridEventIn(BaseModel):
    kind: GridEventKind
    start: AwareDatetime = Field(description="first interval start of the window (ISO 8601)")
    end: AwareDatetime = Field(description="end of the window (exclusive), a quarter hour")
    limit_kw: float = Field(ge=0, description="the cap at the connection point")
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
    return out


def _planned_rows(
    connection: Connection, site: Site, event: GridEvent, plan_id: int | None
) -> pd.DataFrame:
    """The window's rows of the plan made for the event, else of the plans in force."""
    zone = site.location.timezone
    stored = plan_store.load(connection, plan_id, zone) if plan_id is not None else None
    if stored is None:
        return plan_store.stitched(connection, site.id, event.start, event.end, zone)
    index = pd.DatetimeIndex(stored.frame.index)
    inside = (index >= pd.Timestamp(event.start)) & (index < pd.Timestamp(event.end))
    return stored.frame[inside]


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
        rows = _planned_rows(connection, site, event, run.plan_id if run else None)
        measured = measurement_store.maximum(connection, site.id, column, event.start, event.end)
    planned = float(rows[column].max()) if column in rows.columns and len(rows) else None
    passed = now >= event.end
    return {
        "id": event.id,
        "site_id": event.site_id,
        "kind": event.kind.value,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "limit_kw": event.limit_kw,
        "reason": event.reason,
        "created_at": event.created_at.isoformat(),
        "replan": None
        if run is None
        else {"run_id": run.id, "status": run.status.value, "plan_id": run.plan_id},
        "planned_max_kw": planned,
        "planned_within_cap": None
        if planned is None
        else planned <= event.limit_kw + FOLLOW_TOL_KW,
        "measured_max_kw": measured,
        "followed": (measured <= event.limit_kw + FOLLOW_TOL_KW)
        if passed and measured is not None
        else None,
        "window": "passed" if passed else ("in force" if event.covers(now) else "ahead"),
    }


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
                body.limit_kw,
                body.reason,
                principal.key_id,
                now,
            )

    event = await run_in_threadpool(record)

    def replan() -> None:
        run = service.runner.run(site.id, Job.INTRADAY, Trigger.GRID_EVENT)
        with db.write(service.engine) as connection:
            store.set_replan(connection, event.id, run.id)

    if event.covers(now):
        if wait:
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
