"""Operator actions: trigger a re-plan now, list job runs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from controller.service import db
from controller.service.api.deps import OperatorKey, OperatorSite, ServiceDep
from controller.service.context import Service
from controller.service.errors import SERVICE_UNAVAILABLE, Refusal, refuse
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, JobRun, RunStatus, Trigger
from sites import Site

router = APIRouter(prefix="/api/v1", tags=["operator"])


class JobRunOut(BaseModel):
    id: int
    site_id: str
    job: Job
    trigger: Trigger
    scheduled_for: str | None
    started_at: str
    finished_at: str | None
    status: str
    error: str | None
    plan_id: int | None


class Accepted(BaseModel):
    site_id: str
    job: Job
    run_id: int = Field(description="the recorded run (see /api/v1/job-runs)")
    message: str


def check_target(site: Site, service: Service, job: Job, target: date | None) -> None:
    """A re-plan's ``date``: day-ahead only, today or tomorrow in the park's time zone."""
    if target is None:
        return
    if job is not Job.DAY_AHEAD:
        raise refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "date_not_accepted",
            f"date is for day-ahead runs only; this is a {job.value} run",
            "query.date",
            target.isoformat(),
            "no date with job=intraday (its horizon is fixed)",
        )
    today = pd.Timestamp(service.now()).tz_convert(site.location.timezone).date()
    if not today <= target <= today + timedelta(days=1):
        raise refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "date_out_of_range",
            f"a day-ahead plan can be made for today or tomorrow, not {target}",
            "query.date",
            target.isoformat(),
            f"{today} or {today + timedelta(days=1)} (the park's local dates)",
        )


def run_out(run: JobRun) -> JobRunOut:
    return JobRunOut(
        id=run.id,
        site_id=run.site_id,
        job=run.job,
        trigger=run.trigger,
        scheduled_for=run.scheduled_for.isoformat() if run.scheduled_for else None,
        started_at=run.started_at.isoformat(),
        finished_at=run.finished_at.isoformat() if run.finished_at else None,
        status=run.status.value,
        error=run.error,
        plan_id=run.plan_id,
    )


@router.post(
    "/sites/{site_id}/replan",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        201: {"model": JobRunOut, "description": "with wait=true: the run made a new plan"},
        500: {
            "model": JobRunOut,
            "description": "with wait=true: the run failed (its error in the body); the plan "
            "in force is unchanged",
        },
        422: {"model": Refusal, "description": "a date that cannot be planned"},
        **SERVICE_UNAVAILABLE,
    },
    response_model=Accepted,
)
async def replan(
    site: OperatorSite,
    service: ServiceDep,
    job: Annotated[Job, Query(description="intraday (default) or day-ahead")] = Job.INTRADAY,
    target: Annotated[
        date | None, Query(alias="date", description="day-ahead only: the day (default tomorrow)")
    ] = None,
    wait: Annotated[bool, Query(description="answer when the run has finished")] = False,
) -> JSONResponse:
    """Make a new plan version now (a recorded run with trigger ``operator``).

    The run is recorded before the answer: a 202 names a run that exists (``run_id``), and
    a store that cannot record it gets 503 with the reason instead. ``date`` must be today
    or tomorrow in the park's time zone, and is for day-ahead runs only."""
    check_target(site, service, job, target)
    run_id = await run_in_threadpool(service.runner.begin, site.id, job, Trigger.OPERATOR)

    def run() -> JobRun:
        return service.runner.run(site.id, job, Trigger.OPERATOR, target=target, run_id=run_id)

    if wait:
        finished = await run_in_threadpool(run)
        body = run_out(finished).model_dump(mode="json")
        if finished.status is RunStatus.SUCCEEDED:
            return JSONResponse(body, status.HTTP_201_CREATED)
        # the run failed: no new plan; whatever plan was in force stays in force
        return JSONResponse(body, status.HTTP_500_INTERNAL_SERVER_ERROR)
    service.submit(run, f"re-plan run {run_id} of {site.id}", site.id)
    accepted = Accepted(
        site_id=site.id, job=job, run_id=run_id, message="started; see /api/v1/job-runs"
    )
    return JSONResponse(accepted.model_dump(mode="json"), status.HTTP_202_ACCEPTED)


@router.get("/job-runs", response_model=list[JobRunOut])
def job_runs(
    service: ServiceDep,
    principal: OperatorKey,
    site: Annotated[str | None, Query(description="one park; default every granted park")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[JobRunOut]:
    """Newest first, of the parks this key is granted."""
    granted = [s for s in service.parks.ids if principal.may_see(s)]
    wanted = [s for s in granted if site is None or s == site]
    with db.read(service.engine) as connection:
        runs = run_store.recent(connection, wanted, limit)
    return [run_out(r) for r in runs]
