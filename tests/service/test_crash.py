"""SIGKILL during plan writing and measurement ingestion: acknowledged writes survive whole."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
from service_helpers import PARK, free_port, server_process
from sqlalchemy import func, select

from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.models import plans as plans_t
from controller.service.parks import load_parks
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import RunStatus
from controller.service.store.sites import upsert_sites

SERIES = "ambient_temperature_degc"
PLANS_BEFORE_KILL = 3
MAX_SECONDS = 120


def test_sigkill_mid_write_loses_no_acknowledged_write(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    parks = load_parks([PARK], [])
    with db.write(engine) as connection:
        upsert_sites(connection, {PARK: (parks.by_id[PARK], "bundled")})
    ReplayFeeder(engine, parks, lambda: datetime.now(UTC), 3)()
    key = create_key(engine, Role.OPERATOR, [], parks.ids).token
    headers = {"Authorization": f"Bearer {key}"}
    env = {
        "MICROGRID_SITES": f'["{PARK}"]',
        "MICROGRID_HISTORY_DAYS": "3",
        # the points go years ahead, clear of every plan's inputs
        "MICROGRID_MEASUREMENT_FUTURE_SKEW_S": str(10 * 365 * 86400),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1/sites/{PARK}"
    acked_batches: list[list[datetime]] = []
    acked_plans: list[int] = []
    stop = threading.Event()
    far_future = datetime(2031, 1, 1, tzinfo=UTC)

    def ingest() -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(100_000):
                if stop.is_set():
                    return
                times = [far_future + timedelta(minutes=15 * (n * 200 + i)) for i in range(200)]
                points = [{"series": SERIES, "ts": t.isoformat(), "value": 10.0} for t in times]
                try:
                    r = client.post(
                        f"{base}/measurements", json={"points": points}, headers=headers
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acked_batches.append(times)

    def replan() -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                try:
                    r = client.post(f"{base}/replan", params={"wait": "true"}, headers=headers)
                except httpx.HTTPError:
                    return
                if r.status_code == 201 and r.json()["status"] == "succeeded":
                    acked_plans.append(r.json()["plan_id"])

    with server_process(database_url, port, **env) as process:
        workers = [threading.Thread(target=ingest), threading.Thread(target=replan)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + MAX_SECONDS
        while len(acked_plans) < PLANS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)  # while both loops have requests in flight
        process.wait()
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert len(acked_plans) >= PLANS_BEFORE_KILL and acked_batches

    with server_process(database_url, free_port(), **env):  # restart on the same store
        pass
    with db.read(engine) as connection:
        assert plan_store.incomplete(connection) == []
        for plan_id in acked_plans:
            header = plan_store.get_header(connection, plan_id)
            assert header is not None and header.n_rows > 0
        stored = {
            p.ts
            for p in measurement_store.read(
                connection, PARK, [SERIES], far_future, far_future + timedelta(days=10_000)
            )
        }
        runs = run_store.recent(connection, [PARK], 1000)
        n_plans = connection.scalar(select(func.count()).select_from(plans_t))
    missing = [t for batch in acked_batches for t in batch if t not in stored]
    assert missing == []
    assert all(r.status is not RunStatus.RUNNING for r in runs)
    assert n_plans >= len(acked_plans)
    assert pd.Series([r.plan_id for r in runs if r.plan_id]).is_unique
    engine.dispose()
