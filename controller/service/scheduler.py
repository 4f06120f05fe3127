"""Scheduled dispatch (APScheduler, jobs stored in the service's own database).

Per park: the day-ahead job daily at the park's gate time in its time zone, and the
intraday job every quarter hour; in demo mode also the replay feeder. Planning jobs fire
:data:`PLANNING_DELAY_S` seconds after their clock time so that the meters' values of the
interval that just ended (written at the quarter hour) are in. One instance of a job at a
time (``max_instances=1``); a job that could not start on time starts late if it is within
``misfire_grace_s``, and several missed fire times are coalesced into one run.

After a restart, missed fire times are not replayed one by one: the stored jobs' next fire
times are moved to the next future one, and the catch-up (:mod:`controller.service.catchup`)
makes whatever plan is missing (see there).

Stored jobs name their function by reference (``module:function``) and carry only the park
id, so they survive restarts; the function finds the running service in :data:`_ACTIVE`,
the one piece of process state, set while a scheduler runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.job import Job as ScheduledJob  # type: ignore[import-untyped]
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from sqlalchemy import Engine

from controller.service.parks import Parks
from controller.service.runner import Runner
from controller.service.store.runs import Job, Trigger

log = logging.getLogger(__name__)
PLANNING_DELAY_S = 15
FEED_JOB_ID = "demo-feed"
_ACTIVE: dict[str, Any] = {}


def job_id(job: Job, site_id: str) -> str:
    return f"{job.value}:{site_id}"


def run_planning_job(site_id: str, job: str) -> None:
    """Entry point of a stored planning job."""
    runner = _ACTIVE.get("runner")
    if not isinstance(runner, Runner):
        log.warning("planning job %s %s fired without a running service", job, site_id)
        return
    runner.run(site_id, Job(job), Trigger.SCHEDULE, scheduled_for=datetime.now(UTC))


def run_feed_job() -> None:
    """Entry point of the stored demo feeder job."""
    feed = _ACTIVE.get("feed")
    if callable(feed):
        feed()


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        parks: Parks,
        runner: Runner,
        misfire_grace_s: int,
        feed: Any | None = None,
    ) -> None:
        self._parks = parks
        self._runner = runner
        self._feed = feed
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            executors={"default": ThreadPoolExecutor(max_workers=max(2, len(parks.ids)))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": misfire_grace_s,
            },
            timezone=UTC,
        )

    def triggers(self) -> dict[str, tuple[str, CronTrigger, tuple[Any, ...]]]:
        """Every job this configuration wants: id -> (function reference, trigger, args)."""
        wanted: dict[str, tuple[str, CronTrigger, tuple[Any, ...]]] = {}
        plan_ref = f"{__name__}:run_planning_job"
        for site_id, site in self._parks.by_id.items():
            zone = site.location.timezone
            gate = site.gate_time
            wanted[job_id(Job.DAY_AHEAD, site_id)] = (
                plan_ref,
                CronTrigger(
                    hour=gate.hour, minute=gate.minute, second=PLANNING_DELAY_S, timezone=zone
                ),
                (site_id, Job.DAY_AHEAD.value),
            )
            wanted[job_id(Job.INTRADAY, site_id)] = (
                plan_ref,
                CronTrigger(minute="0,15,30,45", second=PLANNING_DELAY_S, timezone=zone),
                (site_id, Job.INTRADAY.value),
            )
        if self._feed is not None:
            wanted[FEED_JOB_ID] = (
                f"{__name__}:run_feed_job",
                CronTrigger(minute="0,15,30,45", second=1, timezone=UTC),
                (),
            )
        return wanted

    def start(self, now: datetime) -> None:
        """Start paused, reconcile the stored jobs with this configuration, then run."""
        _ACTIVE["runner"] = self._runner
        if self._feed is not None:
            _ACTIVE["feed"] = self._feed
        self._scheduler.start(paused=True)
        wanted = self.triggers()
        stored: dict[str, ScheduledJob] = {j.id: j for j in self._scheduler.get_jobs()}
        for stale in set(stored) - set(wanted):
            self._scheduler.remove_job(stale)
        for ident, (ref, trigger, args) in wanted.items():
            job = stored.get(ident)
            if job is None or str(job.trigger) != str(trigger) or tuple(job.args) != args:
                self._scheduler.add_job(
                    ref, trigger, args=list(args), id=ident, name=ident, replace_existing=True
                )
            elif job.next_run_time is not None and job.next_run_time < now:
                log.info(
                    "%s missed %s while stopped; the catch-up covers it", ident, job.next_run_time
                )
                job.modify(next_run_time=trigger.get_next_fire_time(None, now))
        self._scheduler.resume()

    def jobs(self) -> list[ScheduledJob]:
        return list(self._scheduler.get_jobs())

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        _ACTIVE.clear()
