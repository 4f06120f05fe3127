"""The running service under load: plan-in-force latency, 304s, measurement ingestion.

A real ``microgrid serve`` (uvicorn, one process, SQLite in WAL mode) on loopback; the load
comes from this process (a second process) over keep-alive HTTP/1.1 connections:

- GET the plan in force (full JSON body, a 96-interval plan of the largest park) from 50
  concurrent clients, each sending its next request as soon as the last is answered
  (closed loop: the service's saturation latency), and at fixed offered rates of
  :data:`PACED_RATES` requests/s spread over the 50 clients (utilities polling every
  half second, and a fleet polling very hard);
- the same with ``If-None-Match`` (every answer a 304 without body);
- measurement ingestion: batches of :data:`BATCH` points from 4 concurrent clients.
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

from controller.plan import PlanKind
from controller.planner import plan as make_plan
from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.feeder import replay_values
from controller.service.parks import load_parks
from controller.service.pipeline import store_plan
from controller.service.store.sites import upsert_sites
from sites import columns

PARK = "chiping-aluminium"
CLIENTS = 50
SECONDS = 6.0
PACED_RATES = (100.0, 1000.0)
BATCH = 2000
INGEST_CLIENTS = 4
INGEST_BATCHES = 40


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
        f"{name:<44} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
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


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        utility, operator = prepare(url)
        port = free_port()
        env = os.environ | {
            "MICROGRID_SCHEDULER": "false",
            "MICROGRID_STARTUP_CATCH_UP": "false",
            "MICROGRID_SITES": f'["{PARK}"]',
            "MICROGRID_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "controller.cli.main", "serve", "--no-demo"]
            + ["--database-url", url, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
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
                report(f"{name} (closed loop)", latencies, statuses, SECONDS)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
