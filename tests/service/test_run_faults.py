"""Faults while the service runs, one test each, through real planning runs of a park.

Each fault ends with a plan (``RELAXED`` or ``FALLBACK`` where the fault calls for it; the
last good plan where nothing can be stored), an alarm in ``/health`` and in ``/metrics``
(``microgrid_site_degraded``, ``microgrid_background_failures_active`` or
``microgrid_database_failing``), no crash, nothing acknowledged lost, and the next good run
clears the alarm. The park's history (two days of the replay) is written once per module
and copied into each test's own store; the service runs on a clock the test sets.

Faults with a test elsewhere: the database locked during a re-plan or a scheduled run and a
frozen sensor (``test_faults.py``), the database's files gone (``test_faults.py``), the
database stalled or stopped while clients read and write (``test_stalls.py``), a process
killed mid-write (``test_crash.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import resource
import secrets
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from conftest import service_settings
from live_service import Relay
from service_helpers import PARK
from sqlalchemy.engine import make_url

from controller import columns as pc
from controller.planner import plan as real_planner
from controller.plans.plan import PlanStatus
from controller.service import db
from controller.service import pipeline as pipeline_module
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.context import Service
from controller.service.feeder import ReplayFeeder
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store.runs import Job, JobRun, RunStatus, Trigger
from controller.service.validation import (
    SPIKE_RATIO,
    SPIKE_SHARE_OF_BOUND,
    Bound,
    bounds_of,
    without_spikes,
)
from forecasting import ForecastModels
from sites.history.series import SeriesKind, expected_series

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the test client's own notice about its HTTP library
    from starlette.testclient import TestClient

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
"""12:00 in the park's zone: every test plans the same afternoon (one compiled problem), on
the first of a month (no day of the month yet to choose a peak target from)."""
HISTORY_DAYS = 2
GAP = timedelta(hours=4)
"""The stored history ends this long before :data:`NOW`; each test writes the rest itself
(or, for the missing hours, does not)."""
STEP = timedelta(minutes=15)
ENERGY_TOL_KWH = 0.5
"""The solver's tolerance on a storage level, as in the planner's own tests."""
DEGRADED = f'microgrid_site_degraded{{site="{PARK}"}} 1.0'
NOT_DEGRADED = f'microgrid_site_degraded{{site="{PARK}"}} 0.0'


class SetClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Park:
    service: Service
    client: TestClient
    clock: SetClock
    operator: dict[str, str]

    def run(self) -> JobRun:
        return self.service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)

    def feed(self) -> None:
        """The replay's measurements up to the clock's time (what the park's meters sent)."""
        ReplayFeeder(self.service.engine, self.service.parks, self.clock, HISTORY_DAYS)()

    def reasons(self) -> list[str]:
        answer = self.client.get("/health").json()
        return list(answer["sites"][PARK]["reasons"])

    def metrics(self) -> str:
        return self.client.get("/metrics", headers=self.operator).text

    def post(self, series: str, at: datetime, value: float) -> int:
        point = {"series": series, "ts": at.isoformat(), "value": value}
        answer = self.client.post(
            f"/api/v1/sites/{PARK}/measurements", json={"points": [point]}, headers=self.operator
        )
        return answer.status_code

    def in_force(self) -> plan_store.PlanHeader:
        with db.read(self.service.engine) as connection:
            header = plan_store.in_force(connection, PARK, self.clock())
        assert header is not None
        return header

    def assert_healthy(self) -> None:
        reasons = self.reasons()
        assert reasons == [], reasons
        assert NOT_DEGRADED in self.metrics()


@pytest.fixture(scope="module")
def fed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the park's replayed history up to :data:`NOW` minus :data:`GAP`."""
    path = tmp_path_factory.mktemp("fed") / "store.db"
    app = create_app(service_settings(f"sqlite:///{path}", sites=[PARK]))
    service = app.state.service
    ReplayFeeder(service.engine, service.parks, lambda: NOW - GAP, HISTORY_DAYS)()
    service.engine.dispose()
    return path


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        a.backup(b)


@pytest.fixture
def park(fed_store: Path, tmp_path: Path) -> Iterator[Park]:
    path = tmp_path / "store.db"
    _copy(fed_store, path)
    yield from _park(f"sqlite:///{path}")


def _park(url: str, **overrides: Any) -> Iterator[Park]:
    clock = SetClock(NOW)
    settings = service_settings(url, sites=[PARK], history_days=HISTORY_DAYS, **overrides)
    app = create_app(settings, clock=clock)
    service = app.state.service
    operator = create_key(service.engine, Role.OPERATOR, [], service.parks.ids).token
    client = TestClient(app)
    try:
        yield Park(service, client, clock, {"Authorization": f"Bearer {operator}"})
    finally:
        client.close()
        service.engine.dispose()


def test_hours_of_missing_measurements_plan_on_with_an_alarm_cleared_when_they_return(
    park: Park,
) -> None:
    run = park.run()  # the newest measurement is 4 h old
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert park.in_force().id == run.plan_id
    assert any("no measurement since" in r for r in park.reasons()), park.reasons()
    assert DEGRADED in park.metrics()
    park.feed()  # the meters' backlog arrives
    again = park.run()
    assert again.status is RunStatus.SUCCEEDED and park.in_force().id == again.plan_id
    park.assert_healthy()


def _spike_target(park: Park) -> tuple[str, datetime, float, float]:
    """A load series, a time an hour ago and a spike value within the series' bound that
    jumps from both neighbours by more than the spike rule's ratio and share."""
    site = park.service.parks.by_id[PARK]
    bounds = bounds_of(site)
    at = NOW - timedelta(hours=1)
    loads = [c for c, spec in expected_series(site).items() if spec.kind is SeriesKind.LOAD]
    with db.read(park.service.engine) as connection:
        for series in loads:
            around = [
                measurement_store.latest(connection, PARK, series, at + k * STEP)
                for k in (-1, 0, 1)
            ]
            if any(p is None for p in around):
                continue
            before, now, after = (p.value for p in around if p is not None)
            spike = 0.95 * bounds[series].high
            higher = max(before, after)
            if spike > SPIKE_RATIO * higher and spike - higher > SPIKE_SHARE_OF_BOUND * (
                bounds[series].high
            ):
                return series, at, spike, now
    raise AssertionError("no load series leaves room for a spike within its bound")


def test_a_spike_is_left_out_of_the_plan_with_an_alarm_until_it_is_corrected(park: Park) -> None:
    park.feed()
    series, at, spike, true_value = _spike_target(park)
    assert park.post(series, at, spike) == 201  # within the series' bound: accepted
    reasons = park.reasons()
    assert any(f"{series}: a spike to {spike:g}" in r for r in reasons), reasons
    assert DEGRADED in park.metrics()
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED and park.in_force().id == run.plan_id
    assert park.post(series, at, true_value) == 201  # the operator corrects it
    again = park.run()
    assert again.status is RunStatus.SUCCEEDED
    park.assert_healthy()


def test_a_battery_level_below_its_window_is_planned_back_into_it_with_an_alarm(
    park: Park,
) -> None:
    park.feed()
    site = park.service.parks.by_id[PARK]
    battery = site.assets.batteries[0]
    column = pc.battery_soc_kwh(battery.name)
    low = battery.soc_min_kwh - 300.0
    assert park.post(column, NOW - STEP, low) == 201  # within 0..capacity: accepted
    reasons = park.reasons()
    assert any(f"{column} reported {low:g}" in r and "outside its window" in r for r in reasons)
    assert DEGRADED in park.metrics()
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED, run.error
    header = park.in_force()
    assert header.id == run.plan_id
    with db.read(park.service.engine) as connection:
        stored = plan_store.load(connection, header.id, site.location.timezone)
    assert stored is not None
    assert stored.metadata["initial_battery_soc_kwh"][battery.name] == pytest.approx(low)
    frame = stored.frame
    first = frame.iloc[0]
    charged = first[pc.battery_soc_kwh(battery.name)]
    assert charged >= battery.soc_min_kwh - ENERGY_TOL_KWH  # back in its window at once
    park.clock.now = NOW + STEP  # a quarter hour on, the meter reports it in its window
    park.feed()
    assert park.post(column, NOW, battery.soc_min_kwh + 300.0) == 201
    assert park.run().status is RunStatus.SUCCEEDED
    park.assert_healthy()


@pytest.mark.parametrize("hours", [-2, 3])
def test_a_clock_jump_between_runs_is_an_alarm_until_a_run_finds_it_steady(
    park: Park, hours: int
) -> None:
    park.feed()
    assert park.run().status is RunStatus.SUCCEEDED
    park.assert_healthy()
    park.clock.now = NOW + timedelta(hours=hours)  # set back, or forward, by hand
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED, run.error
    header = park.in_force()
    assert header.id == run.plan_id
    assert pd.Timestamp(header.start) == pd.Timestamp(park.clock.now)  # planned at the new time
    way = "back" if hours < 0 else "forward"
    reasons = park.reasons()
    assert any(f"clock jumped {way} by {abs(hours)}.0 h" in r for r in reasons), reasons
    assert DEGRADED in park.metrics()
    park.feed()  # forward: the meters' values up to the new time arrive
    again = park.run()  # the clock is steady now
    assert again.status is RunStatus.SUCCEEDED
    park.assert_healthy()


def test_nan_in_a_forecast_is_repaired_relaxed_and_alarmed_until_a_clean_forecast(
    park: Park, monkeypatch: pytest.MonkeyPatch
) -> None:
    park.feed()
    predict = ForecastModels.predict

    def with_nan(self: ForecastModels, *args: Any, **kwargs: Any) -> Any:
        made = predict(self, *args, **kwargs)
        frame = made.frame.copy()
        column = next(
            c for c in frame.columns if str(c).startswith("load_") and str(c).endswith("_p50")
        )
        frame.iloc[2:6, frame.columns.get_loc(column)] = np.nan
        return dataclasses.replace(made, frame=frame)

    monkeypatch.setattr(ForecastModels, "predict", with_nan)
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED, run.error
    header = park.in_force()
    assert header.id == run.plan_id and header.status == PlanStatus.RELAXED.value
    reasons = park.reasons()
    assert any("made on repaired data" in r and "missing value" in r for r in reasons), reasons
    assert DEGRADED in park.metrics()
    monkeypatch.setattr(ForecastModels, "predict", predict)
    assert park.run().status is RunStatus.SUCCEEDED
    park.assert_healthy()


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


def _timing_out(highs: Any) -> None:
    """HiGHS itself, with no time at all (and no basis kept from an earlier solve, which
    would be optimal at once): it stops at its time limit."""
    highs.clearSolver()
    highs.setOptionValue("time_limit", 0.0)
    highs.run()


@pytest.mark.parametrize("solver", [_raising, _timing_out], ids=["raises", "times_out"])
def test_a_failing_solver_gives_a_fallback_plan_and_an_alarm_until_it_solves_again(
    park: Park, monkeypatch: pytest.MonkeyPatch, solver: Callable[[Any], None]
) -> None:
    park.feed()
    monkeypatch.setattr(pipeline_module, "make_plan", functools.partial(real_planner, run=solver))
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED, run.error
    header = park.in_force()
    assert header.id == run.plan_id and header.status == PlanStatus.FALLBACK.value
    reasons = park.reasons()
    assert any("rule-based fallback: the solver failed" in r for r in reasons), reasons
    assert DEGRADED in park.metrics()
    monkeypatch.setattr(pipeline_module, "make_plan", real_planner)
    assert park.run().status is RunStatus.SUCCEEDED
    assert park.in_force().status != PlanStatus.FALLBACK.value
    park.assert_healthy()


def test_a_solution_not_proven_optimal_is_an_alarm_until_a_proven_one(
    park: Park, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HiGHS reports ``solved_inaccurate`` only for a branch and bound stopped with an
    incumbent (a park with gas CHP units, ``test_chp_analytic.py``); here the park's own plan
    is made with that outcome as the planner records it (its note)."""
    park.feed()

    def inaccurate(*args: Any, **kwargs: Any) -> Any:
        made = real_planner(*args, **kwargs)
        notes = tuple(
            "solver outcome: solved_inaccurate" if n.startswith("solver outcome:") else n
            for n in made.metadata.notes
        )
        return dataclasses.replace(made, metadata=dataclasses.replace(made.metadata, notes=notes))

    monkeypatch.setattr(pipeline_module, "make_plan", inaccurate)
    run = park.run()
    assert run.status is RunStatus.SUCCEEDED and park.in_force().id == run.plan_id
    reasons = park.reasons()
    assert any("solved_inaccurate" in r for r in reasons), reasons
    assert DEGRADED in park.metrics()
    monkeypatch.setattr(pipeline_module, "make_plan", real_planner)
    assert park.run().status is RunStatus.SUCCEEDED
    park.assert_healthy()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _postgres_fault(fault: str, base: str, relay: Relay) -> Iterator[None]:
    """``read-only``: the server takes no writes in new sessions (as a standby after a
    failover); ``down``: the server's port closed (the relay cut). Over when the block ends."""
    database = make_url(base).database
    with psycopg.connect(_libpq(base), autocommit=True) as admin:  # a session from before
        if fault == "down":
            relay.cut()
        else:
            admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
        try:
            yield
        finally:
            if fault == "down":
                relay.restore()
            else:
                admin.execute(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')


@pytest.mark.parametrize("fault", ["read-only", "down"])
def test_postgresql_read_only_or_down_during_a_write_keeps_the_plan_and_loses_nothing(
    request: pytest.FixtureRequest, fault: str
) -> None:
    base = request.getfixturevalue("postgres_database")
    schema = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(base)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    relayed = (
        url.set(host="127.0.0.1", port=relay.port)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    parks = _park(relayed, db_busy_timeout_s=1.0, db_write_wait_s=2.0)
    park = next(parks)
    try:
        park.feed()
        good = park.run()
        assert good.status is RunStatus.SUCCEEDED, good.error
        utility = create_key(park.service.engine, Role.UTILITY, [PARK], [PARK]).token
        poll = f"/api/v1/sites/{PARK}/plans/current"
        bearer = {"Authorization": f"Bearer {utility}"}
        assert park.client.get(poll, headers=bearer).json()["id"] == good.plan_id
        park.assert_healthy()
        with db.read(park.service.engine) as connection:
            stored = measurement_store.count(connection, PARK)
        point = {"series": "grid_import_kw", "ts": (NOW - STEP).isoformat(), "value": 1.0}
        with _postgres_fault(fault, base, relay):
            park.service.engine.dispose()  # new sessions: read-only, or refused
            with pytest.raises(db.DatabaseUnavailable):
                park.run()  # its start cannot be recorded: shown instead, and raised
            refused = park.client.post(
                f"/api/v1/sites/{PARK}/measurements",
                json={"points": [point]},
                headers=park.operator,
            )
            assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
            assert refused.json()["detail"]["code"] == "database_unavailable"
            word = "read-only" if fault == "read-only" else "unavailable"
            assert word in refused.json()["detail"]["message"], refused.text
            cached = park.client.get(poll, headers=bearer)  # the last good plan, still served
            assert cached.status_code == 200 and cached.json()["id"] == good.plan_id
            health = park.client.get("/health").json()
            if fault == "read-only":
                (failure,) = health["background_failures"]
                assert "could not be recorded" in failure and "read-only" in failure
                assert health["dependencies"]["database"]["status"] == "down"
            else:
                assert health["status"] == "unavailable", health
            metrics = park.metrics()
            assert "microgrid_database_failing 1.0" in metrics
            assert "microgrid_background_failures_active 1.0" in metrics
        park.service.engine.dispose()
        again = park.run()  # the next good run
        assert again.status is RunStatus.SUCCEEDED, again.error
        park.assert_healthy()
        metrics = park.metrics()
        assert "microgrid_database_failing 0.0" in metrics
        assert "microgrid_background_failures_active 0.0" in metrics
        with db.read(park.service.engine) as connection:
            assert measurement_store.count(connection, PARK) == stored  # the 503 stored nothing
        accepted = park.client.post(
            f"/api/v1/sites/{PARK}/measurements", json={"points": [point]}, headers=park.operator
        )
        assert accepted.status_code == 201
    finally:
        parks.close()


DISK_ROOM_BYTES = 256 * 1024
"""Room left for the store's files to grow: a few batches of a day's points."""


@contextmanager
def _files_limited(folder: Path) -> Iterator[None]:
    """No file of this process may grow past its largest store file plus
    :data:`DISK_ROOM_BYTES` (the kernel's ``RLIMIT_FSIZE``: a write past it fails as on a
    full disk) until the block ends: the disk is then freed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    largest = max(p.stat().st_size for p in folder.glob("store.db*"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + DISK_ROOM_BYTES, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_full_disk_refuses_writes_with_the_reason_keeps_the_plan_and_loses_nothing(
    park: Park, tmp_path: Path
) -> None:
    park.feed()
    good = park.run()
    assert good.status is RunStatus.SUCCEEDED, good.error
    with db.read(park.service.engine) as connection:
        before = measurement_store.count(connection, PARK)
    first = pd.Timestamp(NOW) - pd.Timedelta(days=HISTORY_DAYS + 2)  # before the history

    def post(day: int) -> Any:
        times = pd.date_range(first - pd.Timedelta(days=day), periods=96, freq="15min")
        points = [
            {"series": "grid_import_kw", "ts": t.isoformat(), "value": 100.0 + i}
            for i, t in enumerate(times)
        ]
        return park.client.post(
            f"/api/v1/sites/{PARK}/measurements", json={"points": points}, headers=park.operator
        )

    acknowledged = 0
    with _files_limited(tmp_path):
        day, answer = 0, post(0)
        while answer.status_code == 201 and day < 100:
            acknowledged += 96
            day += 1
            answer = post(day)
        assert answer.status_code == 503, answer.text  # full: refused, with the reason
        assert answer.headers["Retry-After"].isdigit()
        assert "disk" in answer.json()["detail"]["message"], answer.text
        assert acknowledged > 0  # the store took writes until it was full
        try:  # a run now: its start may still fit, its forecast and plan do not
            failed = park.run()
            assert failed.status is RunStatus.FAILED
        except db.DatabaseUnavailable:
            assert park.client.get("/health").json()["background_failures"]
        assert park.in_force().id == good.plan_id  # the last good plan stays in force
        health = park.client.get("/health").json()
        database = health["dependencies"]["database"]
        assert database["status"] == "down" and "disk" in database["reason"], database
        assert health["status"] == "degraded"
        assert "microgrid_database_failing 1.0" in park.metrics()
    again = post(day)  # space freed: the refused batch is taken
    assert again.status_code == 201, again.text
    acknowledged += 96
    assert park.run().status is RunStatus.SUCCEEDED  # the next good run
    park.assert_healthy()
    assert "microgrid_database_failing 0.0" in park.metrics()
    with db.read(park.service.engine) as connection:
        assert measurement_store.count(connection, PARK) == before + acknowledged
    with sqlite3.connect(tmp_path / "store.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_spike_is_made_missing_in_the_history_and_a_lasting_rise_is_not() -> None:
    bound = {"load_kw": Bound(0.0, 1000.0, "kW")}
    index = pd.date_range("2026-06-01", periods=6, freq="15min", tz="Asia/Shanghai")
    spiked = pd.DataFrame({"load_kw": [100.0, 110.0, 900.0, 105.0, 400.0, 410.0]}, index=index)
    cleaned = without_spikes(spiked, bound)
    assert np.isnan(cleaned["load_kw"].iloc[2])  # 900 among 110 and 105: a spike
    assert cleaned["load_kw"].drop(index[2]).tolist() == [100.0, 110.0, 105.0, 400.0, 410.0]
    assert spiked["load_kw"].iloc[2] == 900.0  # the caller's frame is left alone
