"""Scheduling, run recording, failure handling and the restart behaviour."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from conftest import Harness
from real_plans import real_plan
from service_helpers import OTHER_PARK, PARK, quarter_hour

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.catchup import catch_up, missing
from controller.service.pipeline import Pipeline, store_plan
from controller.service.scheduler import Scheduler
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, RunStatus, Trigger

ZONE = "Asia/Shanghai"


def make_scheduler(h: Harness) -> Scheduler:
    s = h.service
    return Scheduler(s.engine, s.parks, s.runner, s.settings.misfire_grace_s)


def test_jobs_per_park_at_gate_time_and_every_quarter_hour(harness: Harness) -> None:
    scheduler = make_scheduler(harness)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in the parks' zone
    scheduler.start(now)
    try:
        jobs = {j.id: j for j in scheduler.jobs()}
        assert set(jobs) == {
            f"{k}:{p}" for k in ("day-ahead", "intraday") for p in (PARK, OTHER_PARK)
        }
        day_ahead = jobs[f"day-ahead:{PARK}"]
        fire = day_ahead.trigger.get_next_fire_time(None, now)
        assert fire.astimezone(UTC) == datetime(2026, 3, 2, 2, 0, 15, tzinfo=UTC)  # 10:00:15 local
        intraday = jobs[f"intraday:{PARK}"]
        fire = intraday.trigger.get_next_fire_time(None, now + timedelta(minutes=1))
        assert fire.astimezone(UTC) == datetime(2026, 3, 2, 1, 15, 15, tzinfo=UTC)
        for job in jobs.values():
            assert job.max_instances == 1 and job.coalesce is True
            assert job.misfire_grace_time == harness.service.settings.misfire_grace_s
    finally:
        scheduler.shutdown()


def test_after_a_restart_missed_fire_times_are_not_replayed(
    harness_factory: Callable[..., Harness], sqlite_url: str
) -> None:
    first = harness_factory(sqlite_url)
    scheduler = make_scheduler(first)
    scheduler.start(datetime.now(UTC))
    ident = f"day-ahead:{PARK}"
    past = datetime.now(UTC) - timedelta(days=2)
    next(j for j in scheduler.jobs() if j.id == ident).modify(next_run_time=past)
    scheduler._scheduler.pause()  # stop as a crash would, jobs kept in the store
    scheduler.shutdown()
    second = harness_factory(sqlite_url)
    restarted = make_scheduler(second)
    now = datetime.now(UTC)
    restarted.start(now)
    try:
        job = next(j for j in restarted.jobs() if j.id == ident)
        assert job.next_run_time > now  # moved to the next gate time; the catch-up covers it
    finally:
        restarted.shutdown()


def test_a_failed_run_keeps_the_last_good_plan_and_degrades_the_park(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = harness.service
    start = quarter_hour(service.now(), ZONE)
    good = store_plan(
        service.engine, real_plan(PARK, start, 8, PlanKind.INTRADAY), start.date(), None, None
    )

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("forecast service down")

    monkeypatch.setattr(Pipeline, "run", broken)
    run = service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)
    assert run.status is RunStatus.FAILED and "forecast service down" in (run.error or "")
    assert run.finished_at is not None and run.plan_id is None
    current = harness.client.get(
        f"/api/v1/sites/{PARK}/plans/current", headers=harness.headers("utility")
    )
    assert current.json()["id"] == good.id
    health = harness.client.get("/health").json()["sites"][PARK]
    assert health["status"] == "degraded"
    assert any("intraday run" in r and "forecast service down" in r for r in health["reasons"])
    metrics = harness.client.get("/metrics", headers=harness.headers("operator")).text
    assert (
        f'microgrid_job_runs_total{{job="intraday",site="{PARK}",status="failed"}} 1.0' in metrics
    )
    runs = harness.client.get("/api/v1/job-runs", headers=harness.headers("operator")).json()
    assert runs[0]["status"] == "failed" and runs[0]["error"]


def test_interrupted_runs_are_closed_at_start(harness: Harness) -> None:
    with db.write(harness.service.engine) as connection:
        run_id = run_store.start(connection, PARK, Job.DAY_AHEAD, Trigger.SCHEDULE, None)
        assert run_store.close_interrupted(connection) == 1
        run = run_store.get(connection, run_id)
    assert run is not None and run.status is RunStatus.FAILED
    assert run.error == run_store.INTERRUPTED


def test_restart_after_the_gate_makes_the_missing_plans_at_once(
    harness_factory: Callable[..., Harness], sqlite_url: str
) -> None:
    """Real feeder, forecaster and planner: what a service restarted at 16:00 local does."""
    now = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 16:00 local, past the 10:00 gate
    h = harness_factory(sqlite_url, sites=[PARK], history_days=3, demo_backfill_days=3)
    h.service.runner.clock = h.service.clock = lambda: now
    from controller.service.feeder import ReplayFeeder

    ReplayFeeder(h.service.engine, h.service.parks, lambda: now, 3)()
    site = h.service.parks.by_id[PARK]
    wanted = [(m.job, m.target) for m in missing(h.service.runner, site, now)]
    today = pd.Timestamp(now).tz_convert(ZONE).date()
    assert wanted == [(Job.DAY_AHEAD, today), (Job.DAY_AHEAD, today + timedelta(days=1))]
    runs = catch_up(h.service.runner)
    assert [(r.status, r.trigger) for r in runs] == [(RunStatus.SUCCEEDED, Trigger.STARTUP)] * 2, [
        r.error for r in runs
    ]
    assert missing(h.service.runner, site, now) == []
    headers = h.headers("utility")
    tomorrow = h.client.get(
        f"/api/v1/sites/{PARK}/plans/day-ahead/{today + timedelta(days=1)}", headers=headers
    ).json()
    assert tomorrow["n_intervals"] == 32 + 96  # 16:00 to the end of tomorrow
    assert tomorrow["metadata"]["forecast_issued_at"].startswith("2026-06-10T16:00:00+08:00")
    assert h.client.get("/health").json()["sites"][PARK]["status"] == "ok"
