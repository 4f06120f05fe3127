"""Runs planning jobs: one at a time per park, each recorded with its outcome.

Every run, whatever started it, takes the park's lock (a run of the other job waits, up to
``lock_timeout_s``), records its start, and ends either with the plan it stored (in the same
transaction as the plan) or with its error. A failed run stores no plan of its own, so the
last good plan stays in force; where none is in force, the rule-based ``FALLBACK`` plan on
the declared baselines is stored (:meth:`Pipeline.fallback`). The park shows as degraded
until a run succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from controller.plans.plan import PlanKind
from controller.service import db, heap
from controller.service.metrics import Metrics
from controller.service.parks import Parks
from controller.service.pipeline import Pipeline
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, JobRun, RunStatus, Trigger

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
CLOCK_JUMP = timedelta(minutes=30)
"""A run's clock more than this apart from the time that passed since the park's last run
is a clock jump (an accelerated test clock moves at most 15 minutes between runs)."""
KIND_OF_JOB = {Job.DAY_AHEAD: PlanKind.DAY_AHEAD, Job.INTRADAY: PlanKind.INTRADAY}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runner:
    def __init__(
        self,
        engine: Engine,
        parks: Parks,
        pipeline: Pipeline,
        metrics: Metrics,
        lock_timeout_s: float,
        clock: Clock = utc_now,
        on_plan: Callable[[], None] = lambda: None,
        on_unrecorded: Callable[[str, str, BaseException], None] | None = None,
        on_succeeded: Callable[[str], None] = lambda site_id: None,
    ) -> None:
        self.engine = engine
        self.parks = parks
        self.clock = clock
        self._pipeline = pipeline
        self._metrics = metrics
        self._lock_timeout_s = lock_timeout_s
        self._on_plan = on_plan
        self._on_unrecorded = on_unrecorded
        """Told of a run the store could not record (park, what, why): shown in ``/health``
        and ``/metrics`` instead."""
        self._on_succeeded = on_succeeded
        """Told of each park's successful run (its earlier unrecorded failures are over)."""
        self._clock_seen: dict[str, tuple[datetime, float]] = {}
        self.clock_jumps: dict[str, str] = {}
        """Per park, the clock jump its last run found (:meth:`_check_clock`)."""
        self._locks = {site_id: threading.Lock() for site_id in parks.ids}

    def begin(
        self, site_id: str, job: Job, trigger: Trigger, scheduled_for: datetime | None = None
    ) -> int:
        """Record a run as started (before it is answered as accepted); its id."""
        with db.write(self.engine) as connection:
            return run_store.start(connection, site_id, job, trigger, scheduled_for)

    def run(
        self,
        site_id: str,
        job: Job,
        trigger: Trigger,
        scheduled_for: datetime | None = None,
        target: date | None = None,
        run_id: int | None = None,
    ) -> JobRun:
        """Plan one park now and record the run (``run_id``: recorded already by
        :meth:`begin`); never raises for a failed plan (only when the store cannot record)."""
        site = self.parks.by_id[site_id]
        lock = self._locks[site_id]
        self._check_clock(site_id, self.clock())
        if run_id is None:
            try:
                run_id = self.begin(site_id, job, trigger, scheduled_for)
            except Exception as exc:
                self._unrecorded(
                    site_id, f"{job.value} run of {site_id} (could not be recorded)", exc
                )
                raise
        started = time.perf_counter()
        status = RunStatus.FAILED
        try:
            if not lock.acquire(timeout=self._lock_timeout_s):
                raise TimeoutError(
                    f"the park's previous run still held its lock after {self._lock_timeout_s:g} s"
                )
            try:
                self._pipeline.run(site, KIND_OF_JOB[job], self.clock(), run_id, target)
                status = RunStatus.SUCCEEDED
                self._on_plan()
                self._on_succeeded(site_id)
            finally:
                lock.release()
        except Exception as exc:  # any failure is recorded and the service goes on
            log.error("%s %s run %d failed: %s", site_id, job.value, run_id, exc)
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            try:
                with db.write(self.engine) as connection:
                    run_store.finish(connection, run_id, RunStatus.FAILED, error=detail)
            except Exception as unrecorded:
                self._unrecorded(
                    site_id,
                    f"{job.value} run {run_id} of {site_id} failed ({detail}); the failure "
                    "could not be recorded",
                    unrecorded,
                )
                raise
            self._fall_back(site_id, job, target, detail)
        self._metrics.job_finished(site_id, job.value, status.value, time.perf_counter() - started)
        heap.trim()  # what the run freed goes back to the system, not into fragments
        with db.read(self.engine) as connection:
            run = run_store.get(connection, run_id)
        assert run is not None
        return run

    def _fall_back(self, site_id: str, job: Job, target: date | None, reason: str) -> None:
        """No park is left without a plan: the rule-based plan where none is in force."""
        try:
            made = self._pipeline.fallback(
                self.parks.by_id[site_id], KIND_OF_JOB[job], self.clock(), reason, target
            )
        except Exception as exc:  # logged; the failed run is what the operator sees
            log.error("%s: no fallback plan either: %s", site_id, exc)
            return
        if made is not None:
            log.warning("%s: stored rule-based fallback plan %d (%s)", site_id, made.id, reason)
            self._on_plan()

    def _unrecorded(self, site_id: str, what: str, exc: BaseException) -> None:
        if self._on_unrecorded is not None:
            self._on_unrecorded(site_id, what, exc)
        else:
            log.error("%s: %s", what, exc)

    def _check_clock(self, site_id: str, now: datetime) -> None:
        """Compare how far the clock moved since this park's last run with the time that
        passed (a monotonic clock): more than :data:`CLOCK_JUMP` apart is a clock jump (set
        back or forward by hand or by a bad time sync, a host resumed from suspend), shown
        for the park until a run finds the clock steady again. The run goes on at the new
        time: its plan starts at the new quarter hour."""
        passed_s = time.monotonic()
        seen = self._clock_seen.get(site_id)
        self._clock_seen[site_id] = (now, passed_s)
        if seen is None:
            return
        moved = now - seen[0]
        passed = timedelta(seconds=passed_s - seen[1])
        jump = moved - passed
        if abs(jump) <= CLOCK_JUMP:
            self.clock_jumps.pop(site_id, None)
            return
        way = "forward" if jump > timedelta(0) else "back"
        self.clock_jumps[site_id] = (
            f"the clock jumped {way} by {abs(jump).total_seconds() / 3600:.1f} h between the "
            f"park's last two runs (it moved {moved.total_seconds() / 3600:+.2f} h while "
            f"{passed.total_seconds() / 3600:.2f} h passed); planned at the new time"
        )

    def busy(self, site_id: str) -> bool:
        return self._locks[site_id].locked()
