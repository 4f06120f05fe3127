"""Faults while running, one test each: the database locked during accepted work, and a
frozen sensor. Each ends in an answer that says why, or an alarm in ``/health`` and
``/metrics`` that the next good data clears; nothing acknowledged is lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Harness
from real_plans import real_plan
from service_helpers import PARK, quarter_hour
from sqlalchemy.engine import make_url

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.pipeline import store_plan
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, Trigger

LOCKED = {"db_busy_timeout_s": 0.5, "db_write_wait_s": 1.0}


@contextmanager
def locked(url: str) -> Iterator[None]:
    """Another connection holds the SQLite store's write lock until the block ends."""
    path = make_url(url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def h(harness_factory: Callable[..., Harness], sqlite_url: str) -> Harness:
    return harness_factory(sqlite_url, **LOCKED)


def test_a_replan_while_the_database_is_locked_is_refused_not_lost(
    h: Harness, sqlite_url: str
) -> None:
    replan = f"/api/v1/sites/{PARK}/replan"
    with locked(sqlite_url):
        refused = h.client.post(replan, headers=h.headers("operator"))
    assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
    assert refused.json()["detail"]["code"] == "database_busy"
    with db.read(h.service.engine) as connection:
        assert run_store.recent(connection, [PARK]) == []  # nothing claimed, nothing made
    accepted = h.client.post(replan, headers=h.headers("operator"))
    assert accepted.status_code == 202
    with db.read(h.service.engine) as connection:
        (run,) = run_store.recent(connection, [PARK])
    assert run.id == accepted.json()["run_id"]  # the 202 names a recorded run


def test_a_scheduled_run_the_store_cannot_record_is_shown_in_health_and_metrics(
    h: Harness, sqlite_url: str
) -> None:
    with locked(sqlite_url), pytest.raises(db.DatabaseBusy):
        h.service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)
    health = h.client.get("/health").json()
    assert health["status"] == "degraded"
    (failure,) = health["background_failures"]
    assert "intraday run of gaotang-textile (could not be recorded)" in failure
    assert "database busy" in failure
    metrics = h.client.get("/metrics", headers=h.headers("operator")).text
    assert 'microgrid_background_failures_total{what="intraday"} 1.0' in metrics


def test_a_frozen_sensor_raises_an_alarm_that_moving_values_clear(h: Harness) -> None:
    url = f"/api/v1/sites/{PARK}/measurements"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 15)

    def post(values: list[float], first: datetime) -> None:
        points = [
            {
                "series": "load_auxiliaries_kw",
                "ts": (first + timedelta(minutes=15 * i)).isoformat(),
                "value": v,
            }
            for i, v in enumerate(values)
        ]
        answer = h.client.post(url, json={"points": points}, headers=h.headers("operator"))
        assert answer.status_code == 201, answer.text

    post([412.5] * 16, now - timedelta(hours=4))  # the same reading for four hours
    reasons = h.client.get("/health").json()["sites"][PARK]["reasons"]
    assert any("load_auxiliaries_kw frozen" in r and "412.5" in r for r in reasons), reasons
    post([398.0], now)  # it moves again
    reasons = h.client.get("/health").json()["sites"][PARK]["reasons"]
    assert not any("frozen" in r for r in reasons), reasons


def test_with_the_store_gone_a_verified_key_still_reads_the_cached_plan_marked_stale(
    h: Harness, sqlite_url: str, tmp_path: Path
) -> None:
    begin = quarter_hour(datetime.now(UTC), "Asia/Shanghai")
    plan = real_plan(PARK, begin, 8, PlanKind.INTRADAY)
    header = store_plan(h.service.engine, plan, begin.date(), None, None)
    poll = f"/api/v1/sites/{PARK}/plans/current"
    assert h.client.get(poll, headers=h.headers("utility")).json()["id"] == header.id
    h.service.plans_changed()  # the resolution must be made again: the store is asked
    path = make_url(sqlite_url).database
    assert path is not None
    for suffix in ("", "-wal", "-shm"):  # the store's files gone (a lost volume)
        if Path(path + suffix).exists():
            Path(path + suffix).rename(tmp_path / f"gone{suffix}")
    h.service.engine.dispose()
    stale = h.client.get(poll, headers=h.headers("utility"))
    assert stale.status_code == 200 and stale.json()["id"] == header.id
    assert stale.headers["Warning"].startswith('110 - "stale: database unavailable')
    assert int(stale.headers["X-Plan-Resolved-Age"]) >= 0
    never_verified = create_key_token_unverified()
    refused = h.client.get(poll, headers={"Authorization": f"Bearer {never_verified}"})
    assert refused.status_code == 503 and refused.json()["detail"]["code"].startswith("database_")
    health = h.client.get("/health")
    assert health.status_code == 503
    assert health.json()["dependencies"]["database"]["status"] == "down"


def create_key_token_unverified() -> str:
    """A well-formed key this service never verified (its id must be looked up)."""
    return "mg_0123abcd_" + "x" * 43
