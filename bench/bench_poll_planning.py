"""Plan polls while the service plans: p50/p99 latency of GET plan-in-force.

The service runs in this process on a real port (uvicorn) over a SQLite store with a week of
replayed history for two parks; a utility polls their plans in force from a process of its
own (as a utility does: its client never shares this interpreter) for :data:`SECONDS`, one
request after the other. Meanwhile this process keeps planning: intraday runs of both parks
one after the other on a clock moved 15 minutes per round (forecast, planner, store, as the
scheduler runs them), and in the second half 60 operators post measurements while another
connection holds the store's write lock (the stall test's load).

Run once with planning in a worker process (the service's default) and once in the
service's own process (``planning_processes=0``), in one go:

    python bench/bench_poll_planning.py
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from live_service import serving

from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.settings import ServiceSettings
from controller.service.store.runs import Job, Trigger

PARKS = ["gaotang-textile", "chiping-aluminium"]
SECONDS = 30.0
WRITERS = 60
HISTORY_DAYS = 7

POLLER = """
import json, sys, time, httpx
base, token, seconds, parks = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
headers = {"Authorization": f"Bearer {token}"}
took, errors = [], 0
with httpx.Client(base_url=base, timeout=30) as client:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for park in parks:
            started = time.perf_counter()
            code = client.get(f"/api/v1/sites/{park}/plans/current", headers=headers).status_code
            took.append((time.monotonic(), time.perf_counter() - started))
            errors += code != 200
print(json.dumps({"took": took, "errors": errors}))
"""


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def measure(planning_processes: int, folder: Path) -> dict[str, str]:
    url = f"sqlite:///{folder / f'store{planning_processes}.db'}"
    clock = SimClock(pd.Timestamp(datetime.now(UTC)).floor("15min").to_pydatetime())
    settings = ServiceSettings(
        database_url=url,
        sites=PARKS,
        demo=False,
        scheduler=False,
        startup_catch_up=False,
        field_devices=False,
        forecast_processes=0,
        planning_processes=planning_processes,
        history_days=HISTORY_DAYS,
        db_busy_timeout_s=1.5,
        db_write_wait_s=8.0,
        log_level="warning",
    )
    app = create_app(settings, clock=clock)
    service = app.state.service
    engine = service.engine
    ReplayFeeder(engine, service.parks, clock, HISTORY_DAYS)()
    utility = create_key(engine, Role.UTILITY, PARKS, PARKS).token
    operator = create_key(engine, Role.OPERATOR, [], PARKS).token
    rounds = 0
    with serving(app) as base:
        for park in PARKS:  # warm: models fitted, problems compiled, plans cached
            service.runner.run(park, Job.INTRADAY, Trigger.SCHEDULE)
            httpx.get(f"{base}/api/v1/sites/{park}/plans/current", headers=_bearer(utility))
        poller = subprocess.Popen(
            [sys.executable, "-c", POLLER, base, utility, str(SECONDS), *PARKS],
            stdout=subprocess.PIPE,
        )
        started = time.monotonic()
        stall_from = started + SECONDS / 2
        stop = threading.Event()

        def plan_forever() -> None:
            nonlocal rounds
            while not stop.is_set():
                clock.now += timedelta(minutes=15)
                with contextlib.suppress(db.DatabaseUnavailable):  # the stall
                    ReplayFeeder(engine, service.parks, clock, HISTORY_DAYS)()
                for park in PARKS:
                    with contextlib.suppress(db.DatabaseUnavailable):  # not recorded: the stall
                        service.runner.run(park, Job.INTRADAY, Trigger.SCHEDULE)
                rounds += 1

        planner = threading.Thread(target=plan_forever, name="planning")
        planner.start()
        time.sleep(max(0.0, stall_from - time.monotonic()))
        stalled_at = time.monotonic()
        _stall(url, base, operator, clock.now, started + SECONDS - 1.0)
        stalled_until = time.monotonic()
        out, _ = poller.communicate()
        stop.set()
        planner.join()
    engine.dispose()
    result = json.loads(out)
    took = result["took"]
    calm = [t for at, t in took if at < stalled_at]
    stalled = [t for at, t in took if stalled_at <= at < stalled_until]
    return {
        "calm": _figures(calm),
        "stalled": _figures(stalled),
        "errors": str(result["errors"]),
        "rounds": str(rounds),
    }


def _stall(url: str, base: str, operator: str, now: datetime, until: float) -> None:
    """The store's write lock held while 60 operators post, until ``until``."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    def post(i: int) -> int:
        ts = pd.Timestamp(now).floor("15min") - pd.Timedelta(minutes=15 * (i + 1))
        point = {"series": "grid_import_kw", "ts": ts.isoformat(), "value": 100.0 + i}
        with httpx.Client(base_url=base, timeout=30) as client:
            return client.post(
                f"/api/v1/sites/{PARKS[0]}/measurements",
                json={"points": [point]},
                headers=_bearer(operator),
            ).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        answers = [pool.submit(post, i) for i in range(WRITERS)]
        time.sleep(max(0.0, until - time.monotonic()))
        holder.execute("ROLLBACK")
        holder.close()
        for answer in answers:
            answer.result()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _figures(values: list[float]) -> str:
    if not values:
        return "no polls"
    p50, p99 = np.percentile(values, 50) * 1000, np.percentile(values, 99) * 1000
    most = max(values) * 1000
    return f"{len(values)} polls, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {most:.0f} ms"


def main() -> int:
    logging.basicConfig(level=logging.CRITICAL)  # the stall's refused runs are expected
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for processes, label in ((1, "planning in a worker process"), (0, "planning in-process")):
            found = measure(processes, Path(folder))
            print(
                f"{label:<30} planning rounds {found['rounds']}, poll errors {found['errors']}\n"
                f"  while planning:                  {found['calm']}\n"
                f"  while planning, 60 writers held: {found['stalled']}",
                flush=True,
            )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
