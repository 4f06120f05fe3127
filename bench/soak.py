"""Soak: the service on an accelerated clock for days of 15-minute intraday runs.

The service runs in this process on a real port (uvicorn) over a real store (a SQLite file,
or ``--database-url``), with a clock the soak moves 15 minutes per step. Each step:

- the replay feeder writes the interval just ended for every park (demo mode's live feed);
- an operator posts the park's newest grid-meter reading through the API;
- every park gets an intraday run (and once a simulated day, at noon local time, a
  day-ahead run);
- utilities poll every park's plan in force through the API the whole time (one thread).

Injected faults: every ``--stall-hours`` simulated hours another connection holds the
store's write lock for ``--stall-s`` seconds while ten operators post (the polls' latency
during the stall is reported on its own); every ``--solver-failure-hours`` the next run's
planner raises; every ``--restart-days`` the service is stopped and started again on the
same store with a run left "running" as a killed process leaves it (the new start must
close it as interrupted, and the park must not stay degraded).

At the end: runs made, failed (injected and not), RSS at start (after the first simulated
day) and end, poll latency p50/p99 outside and during stalls, and that every stored plan
is retrievable through the API. Exit status 1 if a failure was not injected or a plan is
missing.

    python bench/soak.py --days 30          # what ``make soak`` runs
    python bench/soak.py --days 0.25        # a quick look
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from live_service import serving

from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.models import plans as plans_t
from controller.service.settings import ServiceSettings
from controller.service.store import measurements as measurement_store
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, RunStatus, Trigger
from sites.time_step import STEP

INJECTED = "injected solver failure (soak)"


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of this process (or of process ``pid``), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_rss_mb(service: Any) -> float:
    """Resident memory of the service's planning worker process (NaN: it plans in-process)."""
    pid = service.planner.pid() if service.planner is not None else None
    return rss_mb(pid) if pid is not None else float("nan")


def forget_stopped_app() -> None:
    """Let a stopped app's service be collected, as a stopped process's memory is returned.

    FastAPI keeps every callable it has classified (an app's route functions, closures over
    its service) in module-level caches of 4,096 entries: without this, each in-process
    restart kept the stopped service and its caches alive (about 30 MB in the 30-day soak).
    """
    from fastapi.dependencies import models

    for name in (
        "_is_gen_callable_cached",
        "_is_async_gen_callable_cached",
        "_is_coroutine_callable_cached",
    ):
        cached = getattr(models, name, None)
        if cached is not None:
            cached.cache_clear()


class Poller(threading.Thread):
    """Utilities polling every park's plan in force, latencies kept with a stall flag."""

    def __init__(self, sites: list[str], token: str, every_s: float) -> None:
        super().__init__(name="poller", daemon=True)
        self.sites, self.token, self.every_s = sites, token, every_s
        self.base: str | None = None
        self.stalled = False
        self.normal: list[float] = []
        self.during_stall: list[float] = []
        self.errors: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                base = self.base
                if base is None:
                    time.sleep(0.05)
                    continue
                for site in self.sites:
                    stalled = self.stalled
                    started = time.perf_counter()
                    try:
                        r = client.get(f"{base}/api/v1/sites/{site}/plans/current", headers=headers)
                        code = r.status_code
                    except httpx.HTTPError:
                        code = 0
                    took = time.perf_counter() - started
                    (self.during_stall if stalled else self.normal).append(took)
                    if code not in (200, 404):  # 404: no plan in force yet (first step)
                        self.errors[code] = self.errors.get(code, 0) + 1
                time.sleep(self.every_s)


class Soak:
    def __init__(self, args: argparse.Namespace, database_url: str) -> None:
        self.args = args
        self.database_url = database_url
        start = pd.Timestamp(datetime.now(UTC)).floor("15min").to_pydatetime()
        self.clock = SimClock(start)
        self.injected = 0
        self.fail_next = False
        self.stalls = 0
        self.restarts = 0
        self.stopped_collected = False
        self.stall_writes: dict[int, int] = {}
        self.worker_start = self.worker_end = float("nan")
        self.stopped_after: float | None = None
        """Simulated days done where the soak was interrupted (Ctrl-C) before its end."""

    def settings(self) -> ServiceSettings:
        return ServiceSettings(
            database_url=self.database_url,
            sites=self.args.parks,
            demo=False,
            scheduler=False,
            startup_catch_up=False,
            field_devices=False,
            forecast_processes=0,
            history_days=self.args.history_days,
            db_busy_timeout_s=2.0,
            db_write_wait_s=5.0,
            log_level="warning",
        )

    def build(self) -> tuple[FastAPI, Any]:
        app = create_app(self.settings(), clock=self.clock)
        service = app.state.service
        pipeline = service.runner._pipeline
        original = pipeline.run

        def run(*a: Any, **k: Any) -> Any:
            if self.fail_next:
                self.fail_next = False
                self.injected += 1
                raise RuntimeError(INJECTED)
            return original(*a, **k)

        pipeline.run = run
        return app, service

    def stall(self, base: str, poller: Poller, operator: str, site: str) -> None:
        """Hold the store's write lock while ten operators post, the polls going on."""
        path = make_url(self.database_url).database
        assert path is not None
        point_at = self.clock.now - timedelta(hours=1)
        point = {
            "series": "grid_import_kw",
            "ts": pd.Timestamp(point_at).floor("15min").isoformat(),
            "value": 1.0,
        }
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        poller.stalled = True

        def post(_: int) -> int:
            with httpx.Client(timeout=60) as client:
                return client.post(
                    f"{base}/api/v1/sites/{site}/measurements",
                    json={"points": [point]},
                    headers={"Authorization": f"Bearer {operator}"},
                ).status_code

        with ThreadPoolExecutor(10) as pool:
            answers = pool.map(post, range(10))
            time.sleep(self.args.stall_s)
            holder.execute("ROLLBACK")
            holder.close()
            poller.stalled = False
            for code in answers:
                self.stall_writes[code] = self.stall_writes.get(code, 0) + 1
        self.stalls += 1

    def main(self) -> int:
        args = self.args
        app, service = self.build()
        parks = list(service.parks.ids)
        engine = service.engine
        utility = create_key(engine, Role.UTILITY, parks, parks, "soak utility").token
        operator = create_key(engine, Role.OPERATOR, [], parks, "soak operator").token
        feeder_days = args.history_days
        steps = int(args.days * 96)
        poller = Poller(parks, utility, args.poll_every_s)
        poller.start()
        rss_start: float | None = None
        worker_start: float | None = None
        started = time.perf_counter()
        step = 0
        stall_every = int(args.stall_hours * 4)
        fail_every = int(args.solver_failure_hours * 4)
        restart_every = int(args.restart_days * 96)
        try:
            while step < steps:
                with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
                    poller.base = base
                    if self.restarts:  # served again once, as a restarted process would be
                        health = self.health_after_restart(client, parks[0])
                        kept = "collected" if self.stopped_collected else "STILL ALIVE"
                        print(
                            f"restart {self.restarts}: {health}; stopped service {kept}", flush=True
                        )
                    feeder = ReplayFeeder(engine, service.parks, self.clock, feeder_days)
                    feeder()
                    try:
                        while step < steps:
                            step += 1
                            self.clock.now += STEP
                            feeder()
                            self.post_meter(client, engine, parks, operator)
                            if fail_every and step % fail_every == 0:
                                self.fail_next = True
                            self.run_parks(service, parks)
                            if stall_every and step % stall_every == 0:
                                self.stall(base, poller, operator, parks[0])
                            if step == min(96, steps // 4):  # warmed up: models fitted, caches full
                                rss_start, worker_start = rss_mb(), worker_rss_mb(service)
                            if step % 96 == 0:
                                self.report_day(step, started, poller, service)
                            if step == steps:
                                self.worker_end = worker_rss_mb(service)
                            if restart_every and step % restart_every == 0 and step < steps:
                                with db.write(engine) as connection:  # what a killed run leaves
                                    run_store.start(
                                        connection, parks[0], Job.INTRADAY, Trigger.SCHEDULE, None
                                    )
                                break
                    finally:  # before the serving ends: polls after it would only fail
                        poller.base = None
                if step < steps:
                    stopped = weakref.ref(service)
                    engine.dispose()
                    del app, service
                    forget_stopped_app()
                    gc.collect()  # a stopped process returns its memory; here, collect it
                    self.stopped_collected = stopped() is None
                    app, service = self.build()  # start again on the same store
                    engine = service.engine
                    self.restarts += 1
        except KeyboardInterrupt:  # stopped early: the figures of the days simulated so far
            self.stopped_after = step / 96
        rss_end = rss_mb()
        self.worker_start = worker_start if worker_start is not None else self.worker_end
        return self.finish(
            app, service, parks, poller, utility, rss_start or rss_end, rss_end, started
        )

    def run_parks(self, service: Any, parks: list[str]) -> None:
        """Every park's intraday run, and its day-ahead run at noon on its local clock."""
        for park in parks:
            service.runner.run(park, Job.INTRADAY, Trigger.SCHEDULE, self.clock.now)
            local = pd.Timestamp(self.clock.now).tz_convert(
                service.parks.by_id[park].location.timezone
            )
            if local.hour == 12 and local.minute == 0:
                service.runner.run(park, Job.DAY_AHEAD, Trigger.SCHEDULE, self.clock.now)

    def health_after_restart(self, client: httpx.Client, park: str) -> str:
        # on the serving the soak goes on with: leaving a serving stops the service's
        # workers for good (its planning worker among them), as a process's stop does
        body = client.get("/health", timeout=10).json()
        reasons = body["sites"][park]["reasons"]
        interrupted = [r for r in reasons if "interrupted" in r]
        return (
            "interrupted run not degrading the park" if not interrupted else f"DEGRADED {reasons}"
        )

    def post_meter(
        self, client: httpx.Client, engine: Any, parks: list[str], operator: str
    ) -> None:
        for park in parks:
            with db.read(engine) as connection:
                newest = measurement_store.latest(
                    connection, park, "grid_import_kw", self.clock.now + STEP
                )
            if newest is None:
                continue
            point = {"series": "grid_import_kw", "ts": newest.ts.isoformat(), "value": newest.value}
            r = client.post(
                f"/api/v1/sites/{park}/measurements",
                json={"points": [point]},
                headers={"Authorization": f"Bearer {operator}"},
            )
            if r.status_code != 201:
                print(f"operator post refused: {r.status_code} {r.text[:300]}", flush=True)

    def report_day(self, step: int, started: float, poller: Poller, service: Any) -> None:
        self.worker_end = worker_rss_mb(service)  # the last seen, where the soak is interrupted
        print(
            f"day {step / 96:.0f}: {time.perf_counter() - started:.0f} s wall, "
            f"RSS {rss_mb():.0f} MB (planning worker {self.worker_end:.0f} MB), "
            f"polls {len(poller.normal) + len(poller.during_stall)}",
            flush=True,
        )

    def finish(
        self,
        app: FastAPI,
        service: Any,
        parks: list[str],
        poller: Poller,
        utility: str,
        rss_start: float,
        rss_end: float,
        started: float,
    ) -> int:
        poller.stop.set()
        poller.join(timeout=30)
        engine = service.engine
        with db.read(engine) as connection:
            runs = run_store.recent(connection, parks, 1_000_000)
            plan_ids = [int(i) for i in connection.scalars(select(plans_t.c.id))]
        failed = [r for r in runs if r.status is RunStatus.FAILED]
        injected = [r for r in failed if r.error and INJECTED in r.error]
        interrupted = [r for r in failed if r.error == run_store.INTERRUPTED]
        unexpected = [r for r in failed if r not in injected and r not in interrupted]
        missing = []
        with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {utility}"}
            for plan_id in plan_ids:
                if client.get(f"/api/v1/plans/{plan_id}", headers=headers).status_code != 200:
                    missing.append(plan_id)

        def pct(values: list[float], q: float) -> str:
            return f"{np.percentile(values, q) * 1000:.1f} ms" if values else "n/a"

        print("\n=== soak ===")
        days = self.args.days if self.stopped_after is None else self.stopped_after
        stopped = "" if self.stopped_after is None else f" (interrupted; {self.args.days:g} asked)"
        print(f"simulated: {days:g} days of 15-minute steps{stopped}, parks {', '.join(parks)}")
        print(f"wall time: {time.perf_counter() - started:.0f} s")
        print(
            f"runs: {len(runs)} ({sum(r.status is RunStatus.SUCCEEDED for r in runs)} succeeded, "
            f"{len(failed)} failed: {len(injected)} injected solver failures, "
            f"{len(interrupted)} interrupted by the emulated kills, {len(unexpected)} not injected)"
        )
        for r in unexpected[:10]:
            print(f"  not injected: run {r.id} {r.site_id} {r.job.value}: {r.error}")
        print(
            f"stalls: {self.stalls} (writes during them, by status: {self.stall_writes}); "
            f"restarts: {self.restarts}"
        )
        warm = min(96, int(self.args.days * 96) // 4) / 4
        print(
            f"RSS: start {rss_start:.0f} MB (after {warm:g} simulated hours), end {rss_end:.0f} MB;"
            f" planning worker start {self.worker_start:.0f} MB, end {self.worker_end:.0f} MB"
        )
        print(
            f"plan polls: {len(poller.normal)} outside stalls p50 {pct(poller.normal, 50)} "
            f"p99 {pct(poller.normal, 99)}; {len(poller.during_stall)} during stalls "
            f"p50 {pct(poller.during_stall, 50)} p99 {pct(poller.during_stall, 99)}; "
            f"errors {poller.errors or 'none'}"
        )
        print(f"plans stored: {len(plan_ids)}, not retrievable: {len(missing)}")
        return 1 if unexpected or missing or poller.errors else 0


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    # Ctrl-C or SIGTERM (also where a background start ignored SIGINT) stops the soak early
    # with the figures of the days done
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--parks", nargs="*", default=[], help="default: every bundled park")
    parser.add_argument("--history-days", type=int, default=14)
    parser.add_argument("--stall-hours", type=float, default=6.0)
    parser.add_argument("--stall-s", type=float, default=3.0)
    parser.add_argument("--solver-failure-hours", type=float, default=12.0)
    parser.add_argument("--restart-days", type=float, default=7.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--poll-every-s",
        type=float,
        default=0.25,
        help="wall seconds between rounds of polls (each park's plan once a round); a "
        "simulated step takes a few seconds, so this is several polls a simulated minute",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'soak.db'}"
        return Soak(args, url).main()


if __name__ == "__main__":
    sys.exit(main())
