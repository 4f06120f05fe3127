"""A new park in the running service: a plan in force from day one, whatever its history.

The park is not bundled (a site YAML with a pandapower network, ``tests/support/own_park.py``);
three weeks of its history are posted through the measurements API; the service's clock is
then set to 0, 1, 2, 7, 14 and 21 days after the first measurement, the operator triggers a
re-plan each time, and the plan in force must name the fallback forecasts the documented
minimums say it needs with that much history (``tests/support/cold_start.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from cold_start import HISTORY_DAYS, expected_methods
from own_park import SITE_ID, OwnPark, history_frame, write_own_park
from service_helpers import PARK

from controller.plans.plan import PlanStatus
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.pipeline import Pipeline
from controller.service.settings import ServiceSettings
from sites import load_site

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the test client's own notice about its HTTP library
    from starlette.testclient import TestClient

FIRST = pd.Timestamp("2026-03-01 00:00", tz="Asia/Shanghai")  # the first measurement
CLOCK_PAST_ISSUE = pd.Timedelta(minutes=7)  # the clock runs 7 minutes into a quarter hour
BATCH = 4000  # points per POST, below the service's batch limit


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> OwnPark:
    return write_own_park(tmp_path_factory.mktemp("new-park"), 1)


class Operator:
    def __init__(self, client: TestClient, token: str, clock: list[pd.Timestamp]) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clock = clock

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1/sites/{SITE_ID}{path}", headers=self.headers, **kwargs)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/sites/{SITE_ID}{path}", headers=self.headers)


@pytest.fixture
def operator_factory(sqlite_url: str, park: OwnPark) -> Iterator[Callable[[], Operator]]:
    made: list[TestClient] = []

    def factory() -> Operator:
        clock = [FIRST + CLOCK_PAST_ISSUE]
        settings = ServiceSettings(
            database_url=sqlite_url,
            sites=[PARK, str(park.site_file)],
            scheduler=False,
            startup_catch_up=False,
            demo=False,
            forecast_processes=0,
            # the history is posted ahead of the clock, which then moves through it
            measurement_future_skew_s=60 * 86400.0,
        )
        app = create_app(settings, clock=lambda: clock[0].to_pydatetime())
        service = app.state.service
        token = create_key(service.engine, Role.OPERATOR, [], service.parks.ids).token
        client = TestClient(app)
        made.append(client)
        return Operator(client, token, clock)

    yield factory
    for client in made:
        client.close()


def post_history(operator: Operator, park: OwnPark, days: int) -> None:
    frame = history_frame(park.folder, days, start=FIRST)
    long = frame.melt(id_vars="timestamp", var_name="series", value_name="value")
    points = [
        {"series": s, "ts": t, "value": float(v)}
        for t, s, v in zip(long["timestamp"], long["series"], long["value"], strict=True)
    ]
    for first in range(0, len(points), BATCH):
        posted = operator.post("/measurements", json={"points": points[first : first + BATCH]})
        assert posted.status_code == 201, posted.text


def test_a_new_park_has_a_plan_in_force_on_fallback_forecasts_from_day_one(
    operator_factory: Callable[[], Operator], park: OwnPark
) -> None:
    operator = operator_factory()
    post_history(operator, park, max(HISTORY_DAYS))
    site = load_site(park.site_file)
    for days in HISTORY_DAYS:  # the clock moves on: the history before it grows
        issue = FIRST + pd.Timedelta(days=days)
        operator.clock[0] = issue + CLOCK_PAST_ISSUE
        run = operator.post("/replan", params={"wait": True})
        assert run.status_code == 201, (days, run.text)
        assert run.json()["status"] == "succeeded"
        current = operator.get("/plans/current").json()
        assert current["id"] == run.json()["plan_id"]
        assert current["metadata"]["status"] in {PlanStatus.OPTIMAL.value, PlanStatus.RELAXED.value}
        assert datetime.fromisoformat(current["start"]) == issue.to_pydatetime()
        expected = expected_methods(site, days)
        fallbacks = current["metadata"]["forecast_fallbacks"]
        assert {c: f.split(":")[0] for c, f in fallbacks.items()} == {
            c: m.value for c, m in expected.items()
        }, days
        health = operator.client.get("/health").json()["sites"][SITE_ID]
        assert health["forecast"] == ("fallback baselines" if expected else "models")
        assert health["forecast_fallbacks"] == fallbacks


def test_a_failed_run_is_reported_and_leaves_the_rule_based_plan_in_force(
    operator_factory: Callable[[], Operator], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("forecast service down")

    monkeypatch.setattr(Pipeline, "run", broken)
    operator = operator_factory()
    issue = FIRST
    run = operator.post("/replan", params={"wait": True})
    assert run.status_code == 500
    assert run.json()["status"] == "failed" and "forecast service down" in run.json()["error"]
    assert run.json()["plan_id"] is None
    current = operator.get("/plans/current")
    assert current.status_code == 200
    plan = current.json()
    assert plan["metadata"]["status"] == PlanStatus.FALLBACK.value
    assert "planning failed: RuntimeError: forecast service down" in plan["metadata"]["notes"]
    assert datetime.fromisoformat(plan["start"]) == issue.to_pydatetime()
    assert datetime.fromisoformat(plan["end"]) == issue + pd.Timedelta(days=1)
    health = operator.client.get("/health").json()["sites"][SITE_ID]
    assert any("forecast service down" in r for r in health["reasons"])
    assert any("rule-based fallback" in r for r in health["reasons"])
    assert health["forecast"] == "fallback baselines"  # on the declared baselines
