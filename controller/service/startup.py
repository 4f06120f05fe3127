"""What a starting service does in the background, in this order, while it already serves:

1. demo mode: each park's replayed history is written (the feeder's backfill), the parks at
   the same time (one thread each);
2. the scheduler starts (its jobs now find the history in place);
3. the start-up catch-up (:mod:`controller.service.catchup`) makes every park's missing
   plans, the parks at the same time when forecast fits run in worker processes
   (:mod:`controller.service.fitpool`: the fits then use every core), else one park after
   another (in-process fits in parallel threads contend for the interpreter lock: measured
   on two cores, three parks took 10 s instead of 12.5 s, and the first park's plan came
   8 s later instead of 5 s).

On the bundled demo (three parks, 42 days of history) on two cores, every park has its
day-ahead plan in force well within a minute of start; ``bench/bench_service.py`` measures it.
A failure is logged and the rest goes on: the service keeps serving, ``/health`` tells what is
missing and the scheduled jobs try again.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from controller.service.catchup import catch_up
from controller.service.context import Service
from controller.service.feeder import ReplayFeeder
from controller.service.scheduler import Scheduler
from sites import Site

log = logging.getLogger(__name__)


def start_up(
    service: Service, feeder: ReplayFeeder | None, scheduler: Scheduler | None, parallel: int
) -> None:
    """Backfill (demo), start the scheduler, catch up ``parallel`` parks at a time."""
    sites = list(service.parks.by_id.values())
    if feeder is not None:
        now = pd.Timestamp(service.now())

        def backfill(site: Site) -> None:
            started = time.perf_counter()
            try:
                points = feeder.feed_site(site, now)
            except Exception:  # this park plans from what it has; the feeder job retries
                log.exception("demo backfill of %s failed", site.id)
                return
            log.info(
                "demo backfill %s: %d points in %.1f s",
                site.id,
                points,
                time.perf_counter() - started,
            )

        with ThreadPoolExecutor(len(sites), thread_name_prefix="backfill") as pool:
            list(pool.map(backfill, sites))
    if scheduler is not None:
        scheduler.start(service.now())
    if service.settings.startup_catch_up:
        started = time.perf_counter()
        runs = catch_up(service.runner, parallel)
        log.info("start-up catch-up: %d run(s) in %.1f s", len(runs), time.perf_counter() - started)
