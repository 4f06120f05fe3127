"""A stalled or stopped database does not take the API down (issue: keep answering).

The service runs on a real port (uvicorn) on a real database. A second connection holds the
database's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a ``SHARE ROW EXCLUSIVE``
lock on the measurements) while 60 operators post measurements; a utility polls the plan in
force meanwhile, its key verified against the store every half second, and
``/health`` is asked. Then, on PostgreSQL, the database is cut off (a relay in front of it
closes every connection and the port) and every route is asked once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from conftest import service_settings
from live_service import Relay, serving
from real_plans import real_plan
from service_helpers import PARK, quarter_hour
from sqlalchemy.engine import make_url

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store

ZONE = "Asia/Shanghai"
POLL = f"/api/v1/sites/{PARK}/plans/current"
WRITERS = 60
P99_LIMIT_S = 0.025
"""The issue's figure: plan polls keep p99 under 25 ms while writes are stalled."""
HEALTH_LIMIT_S = 1.0
ROUTE_LIMIT_S = 2.0
"""The issue's figure: with PostgreSQL stopped, every route answers within 2 s."""
STALL = {"db_busy_timeout_s": 1.5, "db_write_wait_s": 8.0, "key_cache_ttl_s": 0.5}
"""Writes give up on the lock after 1.5 s (503) and wait up to 8 s for a write slot: some
writers are refused during the stall, the rest are stored once it ends. The utility's key
is trusted for 0.5 s only (default 5 s): during the stall it is verified against the store
again and again, through the same worker threads and connections the writers hold."""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another client holds the lock every write of measurements needs, until the block ends."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with psycopg.connect(_libpq(database_url)) as connection:
        connection.execute("LOCK TABLE measurements IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.rollback()


def _service_with_plan(database_url: str, **overrides: Any) -> tuple[Any, dict[str, str], int]:
    app = create_app(service_settings(database_url, **(STALL | overrides)))
    service = app.state.service
    ids = service.parks.ids
    keys = {
        role.value: create_key(service.engine, role, [PARK], ids).token
        for role in (Role.UTILITY, Role.OPERATOR, Role.ADMIN)
    }
    begin = quarter_hour(datetime.now(UTC), ZONE)
    header = store_plan(
        service.engine, real_plan(PARK, begin, 8, PlanKind.INTRADAY), begin.date(), None, None
    )
    return app, keys, header.id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_plan_polls_and_health_answer_while_60_writers_wait_on_a_database_lock(
    database_url: str,
) -> None:
    app, keys, _plan_id = _service_with_plan(database_url)
    utility, operator = _bearer(keys["utility"]), _bearer(keys["operator"])
    first = quarter_hour(datetime.now(UTC), ZONE).to_pydatetime()
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get(POLL, headers=utility).status_code == 200  # plan encoded and kept

        def post(i: int) -> httpx.Response:
            ts = (first - timedelta(minutes=15 * i)).isoformat()
            point = {"series": "grid_import_kw", "ts": ts, "value": 100.0 + i}
            with httpx.Client(base_url=base, timeout=30) as own:
                return own.post(
                    f"/api/v1/sites/{PARK}/measurements",
                    json={"points": [point]},
                    headers=operator,
                )

        latencies: list[float] = []
        with ThreadPoolExecutor(WRITERS) as pool:
            with write_lock_held(database_url):
                posted = [pool.submit(post, i) for i in range(WRITERS)]
                time.sleep(1.0)  # every writer is now in, waiting for the lock or a write slot
                until = time.monotonic() + 2.0
                while time.monotonic() < until:
                    started = time.perf_counter()
                    polled = client.get(POLL, headers=utility)
                    latencies.append(time.perf_counter() - started)
                    assert polled.status_code == 200
                started = time.perf_counter()
                health = client.get("/health")
                health_s = time.perf_counter() - started
            answers = [f.result() for f in posted]  # the lock is released: the rest get in

    p99 = float(np.percentile(latencies, 99))
    print(  # the figures, for the record (pytest -s)
        f"{make_url(database_url).get_backend_name()}: {len(latencies)} polls, p99 "
        f"{p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; /health {health_s * 1000:.0f} "
        f"ms; writers stored {sum(a.status_code == 201 for a in answers)}, refused 503 "
        f"{sum(a.status_code == 503 for a in answers)}"
    )
    assert p99 < P99_LIMIT_S, f"plan polls p99 {p99 * 1000:.1f} ms during the stall"
    assert health_s < HEALTH_LIMIT_S
    database = health.json()["dependencies"]["database"]
    assert database["status"] == "busy" and "database busy" in database["reason"]
    assert health.json()["status"] == "degraded"
    # every writer got an answer: stored (201) or refused with the reason and Retry-After
    codes = sorted({a.status_code for a in answers})
    assert codes == [201, 503], codes
    for refused in (a for a in answers if a.status_code == 503):
        assert refused.headers["Retry-After"].isdigit()
        assert refused.json()["detail"]["code"] == "database_busy"
    with db.read(app.state.service.engine) as connection:
        stored = measurement_store.count(connection, PARK)
    assert stored == sum(a.status_code == 201 for a in answers)  # nothing acknowledged lost


def test_every_route_answers_within_2_s_with_postgresql_stopped(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("a stopped database server is a PostgreSQL case")
    url = make_url(database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    app, keys, plan_id = _service_with_plan(relayed, key_cache_ttl_s=5.0)
    today = datetime.now(UTC).date().isoformat()
    values = {
        "site_id": PARK,
        "plan_id": str(plan_id),
        "kind": "intraday",
        "plan_date": today,
        "key_id": "abcd",
        "device": "battery",
    }
    with serving(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        for token in keys.values():  # each key verified once while the database answers
            assert client.get("/api/v1/sites", headers=_bearer(token)).status_code == 200
        assert client.get(POLL, headers=_bearer(keys["utility"])).status_code == 200
        relay.cut()
        answers: dict[str, tuple[int, float, httpx.Response]] = {}
        for path, methods in app.openapi()["paths"].items():
            for method in methods:
                concrete = path.format(**{k: values.get(k, "x") for k in _fields(path)})
                started = time.perf_counter()
                answer = client.request(
                    method.upper(),
                    concrete,
                    headers=_bearer(keys["admin"]),
                    params={"start": today, "end": today} if method == "get" else None,
                    json={} if method in ("post", "put", "patch") else None,
                )
                answers[f"{method.upper()} {path}"] = (
                    answer.status_code,
                    time.perf_counter() - started,
                    answer,
                )
        poll = client.get(POLL, headers=_bearer(keys["utility"]))
        health = client.get("/health")
    print(
        f"slowest route with the database stopped: {max(s for _, s, _ in answers.values()):.2f} s"
    )
    slow = {route: round(s, 2) for route, (_, s, _) in answers.items() if s >= ROUTE_LIMIT_S}
    assert not slow, slow
    errors = {route: code for route, (code, _, _) in answers.items() if code >= 500 and code != 503}
    assert not errors, errors
    for route, (code, _, answer) in answers.items():
        if code == 503 and route != "GET /health":
            assert answer.json().get("detail", {}).get("code", "").startswith("database_"), (
                route,
                answer.text[:300],
            )
            assert answer.json()["detail"]["code"].startswith("database_"), route
            assert "Retry-After" in answer.headers, route
    assert sum(code == 503 for code, _, _ in answers.values()) >= 3  # the store was asked
    assert poll.status_code == 200 and poll.json()["id"] == plan_id  # the cached plan
    assert health.status_code == 503 and health.json()["dependencies"]["database"]["status"] == (
        "down"
    )


def _fields(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
