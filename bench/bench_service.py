"""The running service under load: plan-in-force latency, 304s, ingestion, start-up time.

A real ``microgrid serve`` (uvicorn, one process, SQLite in WAL mode) on loopback; the load
comes from this process (a second process) over keep-alive HTTP/1.1 connections:

- GET the plan in force (full JSON body, a 96-interval plan of the largest park) from 50
  concurrent clients, each sending its next request as soon as the last is answered
  (closed loop: the service's saturation latency and its maximum throughput), and at fixed
  offered rates of :data:`PACED_RATES` requests/s spread over the 50 clients (utilities
  polling every half second, a fleet polling hard, and near saturation);
- the same with ``If-None-Match`` (every answer a 304 without body);
- measurement ingestion: batches of :data:`BATCH` points from 4 concurrent clients;
- start-up: ``microgrid serve --demo`` on an empty store (what ``make run`` does on a fresh
  clone), and when each park's first day-ahead and first intraday plan are stored (the run's
  end, read from the store), counted from the start of the process. The first intraday plan
  comes from the scheduler at the next quarter hour (15 s past); it is waited for only if
  that is due soon, or with ``--wait-intraday``.

The load generator shares the machine's cores with the service, and so does anything else
running: the load average is printed before and after.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import func, select

from controller.planner import plan as make_plan
from controller.plans.plan import PlanKind
from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.feeder import replay_values
from controller.service.models import job_runs as runs_t
from controller.service.models import plans as plans_t
from controller.service.parks import load_parks
from controller.service.pipeline import store_plan
from controller.service.scheduler import PLANNING_DELAY_S
from controller.service.store.sites import upsert_sites
from sites import columns

PARK = "chiping-aluminium"
CLIENTS = 50
SECONDS = 6.0
PACED_RATES = (100.0, 1000.0, 5000.0)
BATCH = 2000
INGEST_CLIENTS = 4
INGEST_BATCHES = 40
STARTUP_GUARD_S = 600.0
"""Give up on the start-up measurement after this long (the service is then reported stuck)."""
INTRADAY_WAIT_S = 180.0
"""Wait for the first scheduled intraday plan only if it is due within this after start-up
(``--wait-intraday``: whenever it is due, up to a quarter hour)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> tuple[str, str]:
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    parks = load_parks([PARK], [])
    site = parks.by_id[PARK]
    with db.write(engine) as connection:
        upsert_sites(connection, {PARK: (site, "bundled")})
    start = pd.Timestamp(datetime.now(UTC)).tz_convert(site.location.timezone).floor("15min")
    index = pd.date_range(start, periods=96, freq="15min")
    values = replay_values(site, index)
    forecast = pd.DataFrame(
        {columns.quantile(c, p): values[c] for c in values.columns for p in (10, 50, 90)}
    )
    plan = make_plan(site, forecast, kind=PlanKind.INTRADAY)
    store_plan(engine, plan, start.date(), None, None)
    utility = create_key(engine, Role.UTILITY, [PARK], parks.ids).token
    operator = create_key(engine, Role.OPERATOR, [], parks.ids).token
    engine.dispose()
    return utility, operator


class Connection:
    """A minimal keep-alive HTTP/1.1 client: enough for fixed requests, cheap per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, raw: bytes) -> int:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def get_request(path: str, key: str, etag: str | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {key}"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def load(
    port: int, raw: bytes, seconds: float, rate: float | None
) -> tuple[list[float], dict[int, int]]:
    """Latencies [ms] and status counts; closed loop, or paced at ``rate`` requests/s in all."""
    connections = [Connection(port) for _ in range(CLIENTS)]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    end = time.perf_counter() + seconds

    async def client(i: int, connection: Connection) -> None:
        interval = CLIENTS / rate if rate else 0.0
        next_at = time.perf_counter() + (i * interval / CLIENTS if rate else 0.0)
        while True:
            if rate:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            if time.perf_counter() >= end:
                return
            sent = time.perf_counter()
            status = await connection.request(raw)
            latencies.append((time.perf_counter() - sent) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(client(i, c) for i, c in enumerate(connections)))
    for c in connections:
        c.close()
    return latencies, statuses


def report(name: str, latencies: list[float], statuses: dict[int, int], seconds: float) -> None:
    values = np.array(latencies)
    p50, p99 = np.percentile(values, 50), np.percentile(values, 99)
    print(
        f"{name:<48} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
        f"  {len(values) / seconds:7.0f} req/s  statuses {statuses}"
    )


async def ingest(port: int, key: str) -> float:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    bodies = []
    for b in range(INGEST_BATCHES):
        points = [
            {
                "series": "ambient_temperature_degc",
                "ts": (start + timedelta(minutes=15 * (b * BATCH + i))).isoformat(),
                "value": 12.5,
            }
            for i in range(BATCH)
        ]
        bodies.append(json.dumps({"points": points}).encode())
    url = f"http://127.0.0.1:{port}/api/v1/sites/{PARK}/measurements"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    queue = list(bodies)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 201, response.text[:300]

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(INGEST_CLIENTS)))
        elapsed = time.perf_counter() - began
    return INGEST_BATCHES * BATCH / elapsed


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the service did not answer within a minute")


def serve(url: str, port: int, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "controller.cli.main", "serve", *options]
        + ["--database-url", url, "--port", str(port)],
        env=os.environ | {"MICROGRID_LOG_LEVEL": "warning"} | env,
        stdout=subprocess.DEVNULL,
    )


def latency_and_ingestion() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        utility, operator = prepare(url)
        port = free_port()
        env = {
            "MICROGRID_SCHEDULER": "false",
            "MICROGRID_STARTUP_CATCH_UP": "false",
            "MICROGRID_SITES": f'["{PARK}"]',
        }
        server = serve(url, port, env, "--no-demo")
        try:
            wait_until_up(port, server)
            path = f"/api/v1/sites/{PARK}/plans/current"
            first = httpx.get(
                f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {utility}"}
            )
            etag = first.headers["etag"]
            print(
                f"service: uvicorn, 1 process, SQLite WAL; plan body {len(first.content):,} bytes "
                f"({PARK}, 96 intervals); {CLIENTS} concurrent keep-alive clients; "
                f"{os.cpu_count()} cores shared with the load generator"
            )
            full, cached = get_request(path, utility), get_request(path, utility, etag)
            asyncio.run(load(port, full, 1.0, None))  # warm-up
            for name, raw in (("GET plan in force, 200", full), ("GET plan in force, 304", cached)):
                latencies, statuses = asyncio.run(load(port, raw, SECONDS, None))
                report(f"{name} (closed loop: saturated)", latencies, statuses, SECONDS)
                for paced in PACED_RATES:
                    latencies, statuses = asyncio.run(load(port, raw, SECONDS, paced))
                    report(f"{name} ({paced:.0f} req/s offered)", latencies, statuses, SECONDS)
            rate = asyncio.run(ingest(port, operator))
            print(
                f"measurement ingestion: {rate:,.0f} points/s "
                f"({INGEST_CLIENTS} clients, batches of {BATCH}, validated, upserted)"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


def first_plans(url: str, since: datetime) -> dict[tuple[str, str], float]:
    """(park, kind) -> seconds from ``since`` until its first plan of that kind was stored."""
    engine = db.make_engine(url)
    try:
        with db.read(engine) as connection:
            rows = connection.execute(
                select(runs_t.c.site_id, plans_t.c.kind, func.min(runs_t.c.finished_at))
                .join(plans_t, plans_t.c.id == runs_t.c.plan_id)
                .where(runs_t.c.status == "succeeded")
                .group_by(runs_t.c.site_id, plans_t.c.kind)
            ).all()
    finally:
        engine.dispose()
    return {(site, kind): (at - since).total_seconds() for site, kind, at in rows}


def next_intraday_fire(after: datetime) -> datetime:
    """The scheduler's next intraday fire time: the next quarter hour, 15 s past."""
    quarter = pd.Timestamp(after).floor("15min") + pd.Timedelta(seconds=PLANNING_DELAY_S)
    while quarter <= after:
        quarter += pd.Timedelta(minutes=15)
    return quarter.to_pydatetime()


def start_up() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        port = free_port()
        began = datetime.now(UTC)
        server = serve(url, port, {}, "--demo")
        try:
            wait_until_up(port, server)
            answered = (datetime.now(UTC) - began).total_seconds()
            parks = list(httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()["sites"])
            deadline = time.monotonic() + STARTUP_GUARD_S
            wanted = {(p, PlanKind.DAY_AHEAD.value) for p in parks}
            while time.monotonic() < deadline and not wanted <= set(first_plans(url, began)):
                time.sleep(0.5)
            fire = next_intraday_fire(datetime.now(UTC))
            wait = (fire - datetime.now(UTC)).total_seconds()
            if wait <= INTRADAY_WAIT_S or "--wait-intraday" in sys.argv:
                wanted |= {(p, PlanKind.INTRADAY.value) for p in parks}
                deadline = time.monotonic() + wait + 120
                while time.monotonic() < deadline and not wanted <= set(first_plans(url, began)):
                    time.sleep(1)
            found = first_plans(url, began)
        finally:
            server.terminate()
            server.wait(timeout=120)
    print(f"start-up: {len(parks)} parks, demo backfill; the API answered after {answered:.1f} s")
    after_start = (fire - began).total_seconds()
    for park in parks:
        day_ahead = found.get((park, PlanKind.DAY_AHEAD.value))
        intraday = found.get((park, PlanKind.INTRADAY.value))
        da_text = f"{day_ahead:.1f} s" if day_ahead is not None else "none yet (stuck?)"
        if intraday is not None:
            id_text = f"intraday plan after {intraday:.1f} s"
        else:
            id_text = (
                f"first intraday plan due at the scheduler's {fire:%H:%M:%S} UTC run "
                f"({after_start:.0f} s after start; not waited for)"
            )
        print(f"start-up: park {park} day-ahead plan after {da_text}, {id_text}")
    if found:
        last = max(v for (p, k), v in found.items() if k == PlanKind.DAY_AHEAD.value)
        print(f"start-up: every park had a plan in force after {last:.1f} s")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    """All of it; ``--start-up-only`` skips the load tests, ``--wait-intraday`` waits for the
    first scheduled intraday plans however far off."""
    print(f"load average (1, 5, 15 min) before: {load_average()}")
    if "--start-up-only" not in sys.argv:
        latency_and_ingestion()
    start_up()
    print(f"load average (1, 5, 15 min) after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
