"""Job runs: every planning run, scheduled or triggered, with its outcome."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from controller.service.models import job_runs as r_t


class Job(StrEnum):
    DAY_AHEAD = "day-ahead"
    INTRADAY = "intraday"


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    STARTUP = "startup"
    """Made at start because a plan was missing (a missed gate time, no plan for today)."""
    OPERATOR = "operator"
    GRID_EVENT = "grid_event"
    """A utility's grid event came into force."""
    PRICES = "prices"
    """The operator posted prices for intervals not yet past."""


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


INTERRUPTED = "interrupted: the service stopped during the run"


@dataclass(frozen=True)
class JobRun:
    id: int
    site_id: str
    job: Job
    trigger: Trigger
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    error: str | None
    plan_id: int | None


def _run(r: Row[Any]) -> JobRun:
    return JobRun(
        id=r.id,
        site_id=r.site_id,
        job=Job(r.job),
        trigger=Trigger(r.trigger),
        scheduled_for=r.scheduled_for,
        started_at=r.started_at,
        finished_at=r.finished_at,
        status=RunStatus(r.status),
        error=r.error,
        plan_id=r.plan_id,
    )


def start(
    connection: Connection,
    site_id: str,
    job: Job,
    trigger: Trigger,
    scheduled_for: datetime | None,
) -> int:
    result = connection.execute(
        r_t.insert().values(
            site_id=site_id,
            job=job.value,
            trigger=trigger.value,
            scheduled_for=scheduled_for,
            started_at=datetime.now(UTC),
            status=RunStatus.RUNNING.value,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def finish(
    connection: Connection,
    run_id: int,
    status: RunStatus,
    error: str | None = None,
    plan_id: int | None = None,
) -> None:
    connection.execute(
        update(r_t)
        .where(r_t.c.id == run_id)
        .values(finished_at=datetime.now(UTC), status=status.value, error=error, plan_id=plan_id)
    )


def close_interrupted(connection: Connection) -> int:
    """Mark runs left 'running' by a stopped process as failed; returns how many."""
    result = connection.execute(
        update(r_t)
        .where(r_t.c.status == RunStatus.RUNNING.value)
        .values(finished_at=datetime.now(UTC), status=RunStatus.FAILED.value, error=INTERRUPTED)
    )
    return int(result.rowcount or 0)


def recent(connection: Connection, site_ids: Iterable[str] | None, limit: int = 50) -> list[JobRun]:
    query = select(r_t).order_by(r_t.c.started_at.desc(), r_t.c.id.desc()).limit(limit)
    if site_ids is not None:
        query = query.where(r_t.c.site_id.in_(list(site_ids)))
    return [_run(row) for row in connection.execute(query)]


def last_per_job(connection: Connection, site_id: str) -> dict[Job, JobRun]:
    """The newest finished-or-running run of each job of a park."""
    newest = (
        select(r_t.c.job, func.max(r_t.c.id).label("id"))
        .where(r_t.c.site_id == site_id)
        .group_by(r_t.c.job)
        .subquery()
    )
    rows = connection.execute(select(r_t).join(newest, newest.c.id == r_t.c.id))
    return {run.job: run for run in map(_run, rows)}


def get(connection: Connection, run_id: int) -> JobRun | None:
    row = connection.execute(select(r_t).where(r_t.c.id == run_id)).first()
    return _run(row) if row else None
