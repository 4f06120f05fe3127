"""Utility grid events: an import or export cap for the next two hours re-plans the park at
once, the new plan in force keeps to it, and the event is readable by that utility only."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from controller import columns as pc
from controller.plan import PlanKind
from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.gridevents.rule import capped, export_cap_at
from controller.service.gridevents.store import GridEvent, GridEventKind
from controller.service.pipeline import Horizon
from controller.service.settings import ServiceSettings
from controller.service.store import plans as plan_store
from controller.service.store.runs import Job, RunStatus, Trigger
from sites import load_bundled_site

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PARK = "gaotang-solar-textile"
OTHER = "chiping-aluminium"
NOW = datetime(2026, 5, 10, 4, 0, tzinfo=UTC)  # a Sunday noon in the park
END = NOW + timedelta(hours=2)
TOL_KW = 1.0


def _event(kind: GridEventKind, limit_kw: float, start: datetime, end: datetime) -> GridEvent:
    return GridEvent(1, PARK, kind, start, end, limit_kw, "", NOW, "k", None)


def test_caps_in_force_at_the_horizon_start_tighten_the_limits_and_cut_the_horizon() -> None:
    site = load_bundled_site(PARK)
    issue = pd.Timestamp(NOW).tz_convert(site.location.timezone)
    horizon = Horizon(PlanKind.INTRADAY, issue.date(), issue, issue + pd.Timedelta(hours=12))
    events = [
        _event(GridEventKind.EXPORT_CAP, 2000.0, NOW, END),
        _event(
            GridEventKind.EXPORT_CAP, 3000.0, NOW - timedelta(hours=1), NOW + timedelta(hours=3)
        ),
        _event(GridEventKind.IMPORT_CAP, 100.0, END, END + timedelta(hours=1)),  # not yet
    ]
    limited, cut = capped(site, horizon, events)
    assert limited.grid_connection.export_limit_kw == 2000.0
    assert limited.grid_connection.import_limit_kw == site.grid_connection.import_limit_kw
    assert cut.end == pd.Timestamp(END).tz_convert(site.location.timezone)
    assert cut.issue_time == horizon.issue_time
    assert capped(site, horizon, events[2:]) == (site, horizon)  # nothing in force yet


@pytest.fixture
def client_and_keys(tmp_path: Path) -> tuple[TestClient, dict[str, dict[str, str]]]:
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        sites=[PARK, OTHER],
        scheduler=False,
        startup_catch_up=False,
        forecast_processes=0,
        key_cache_ttl_s=0.0,
        history_days=3,
    )
    app = create_app(settings, clock=lambda: NOW)
    service = app.state.service
    service.runner.clock = lambda: NOW
    ReplayFeeder(service.engine, service.parks, lambda: NOW, 3)()
    ids = service.parks.ids

    def key(role: Role, parks: list[str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_key(service.engine, role, parks, ids).token}"}

    keys = {
        "utility": key(Role.UTILITY, [PARK]),
        "other": key(Role.UTILITY, [OTHER]),
        "operator": key(Role.OPERATOR, []),
    }
    return TestClient(app), keys


def _in_force(client: TestClient) -> tuple[int, pd.DataFrame]:
    service = client.app.state.service  # type: ignore[attr-defined]
    with db.read(service.engine) as connection:
        header = plan_store.in_force(connection, PARK, NOW)
        assert header is not None
        stored = plan_store.load(connection, header.id, "Asia/Shanghai")
    assert stored is not None
    frame = stored.frame
    return header.id, frame[pd.DatetimeIndex(frame.index) < pd.Timestamp(END)]


def test_caps_posted_for_the_next_two_hours_change_the_plan_in_force_at_once(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    service = client.app.state.service  # type: ignore[attr-defined]
    first = service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)
    assert first.status is RunStatus.SUCCEEDED, first.error
    before_id, before = _in_force(client)
    cap_kw = 0.6 * float(before[pc.GRID_IMPORT_KW].max())
    assert float(before[pc.GRID_IMPORT_KW].max()) > cap_kw + 100.0  # the cap binds

    url = f"/api/v1/sites/{PARK}/grid-events"
    body = {
        "kind": "import_cap",
        "start": NOW.isoformat(),
        "end": END.isoformat(),
        "limit_kw": cap_kw,
        "reason": "demand response",
    }
    posted = client.post(url, headers=keys["utility"], params={"wait": True}, json=body)
    assert posted.status_code == 201, posted.text
    event = posted.json()
    assert event["replan"]["status"] == "succeeded" and event["window"] == "in force"
    after_id, after = _in_force(client)
    assert after_id == event["replan"]["plan_id"] != before_id
    assert len(after) == 8  # the plan runs to the window's end
    assert float(after[pc.GRID_IMPORT_KW].max()) <= cap_kw + TOL_KW
    assert event["planned_within_cap"] is True and event["followed"] is None

    export = body | {"kind": "export_cap", "limit_kw": 0.0, "reason": "curtailment order"}
    posted = client.post(url, headers=keys["utility"], params={"wait": True}, json=export)
    assert posted.status_code == 201, posted.text
    curtailed = posted.json()
    export_id, under_both = _in_force(client)
    assert export_id == curtailed["replan"]["plan_id"] != after_id
    assert float(under_both[pc.GRID_EXPORT_KW].max()) <= TOL_KW
    assert float(under_both[pc.GRID_IMPORT_KW].max()) <= cap_kw + TOL_KW  # both caps hold
    assert export_cap_at(service.engine, PARK)(NOW) == 0.0  # the export-limit setpoint
    assert export_cap_at(service.engine, PARK)(END) is None

    listed = client.get(url, headers=keys["utility"])
    assert [e["kind"] for e in listed.json()] == ["export_cap", "import_cap"]
    one = client.get(f"{url}/{event['id']}", headers=keys["operator"])
    assert one.status_code == 200 and one.json()["reason"] == "demand response"
    assert client.get(url, headers=keys["other"]).status_code == 403
    assert client.get(f"{url}/{event['id']}", headers=keys["other"]).status_code == 403
    assert client.post(url, headers=keys["other"], json=body).status_code == 403
    other_url = f"/api/v1/sites/{OTHER}/grid-events/{event['id']}"
    assert client.get(other_url, headers=keys["other"]).status_code == 404  # not its park's


def test_a_bad_event_names_field_value_and_rule(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    body = {
        "kind": "export_cap",
        "start": (NOW + timedelta(minutes=7)).isoformat(),
        "end": NOW.isoformat(),
        "limit_kw": 10.0,
    }
    response = client.post(f"/api/v1/sites/{PARK}/grid-events", headers=keys["utility"], json=body)
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert problems == [
        f"start: got {(NOW + timedelta(minutes=7)).isoformat()}: must be a quarter-hour boundary",
        f"end: got {NOW.isoformat()}: must be after start",
        f"end: got {NOW.isoformat()}: the window must not have passed",
    ]
    negative = client.post(
        f"/api/v1/sites/{PARK}/grid-events",
        headers=keys["utility"],
        json=body | {"start": NOW.isoformat(), "end": END.isoformat(), "limit_kw": -5},
    )
    assert negative.status_code == 422 and "limit_kw" in negative.text
