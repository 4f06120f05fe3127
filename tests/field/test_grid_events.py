"""Utility grid events: an import or export cap, or a target exchange profile, for the next
hours re-plans the park at once, the new plan in force keeps to it (or names the slack where
it cannot), and the event is readable by that utility only."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from controller import columns as pc
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.gridevents.rule import connection_caps_at, limited
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


def test_events_become_per_interval_limits_over_the_horizon() -> None:
    site = load_bundled_site(PARK)
    grid = site.grid_connection
    issue = pd.Timestamp(NOW).tz_convert(site.location.timezone)
    horizon = Horizon(PlanKind.INTRADAY, issue.date(), issue, issue + pd.Timedelta(hours=12))
    later = END + timedelta(hours=1)
    target = GridEvent(
        4,
        PARK,
        GridEventKind.TARGET,
        later,
        later + timedelta(minutes=30),
        50.0,
        "",
        NOW,
        "k",
        None,
        ((later, 400.0), (later + timedelta(minutes=15), -300.0)),
    )
    events = [
        _event(GridEventKind.EXPORT_CAP, 2000.0, NOW, END),
        _event(
            GridEventKind.EXPORT_CAP, 3000.0, NOW - timedelta(hours=1), NOW + timedelta(hours=3)
        ),
        _event(GridEventKind.IMPORT_CAP, 100.0, END, END + timedelta(hours=1)),  # ahead
        target,
    ]
    out = limited(site, horizon, events)
    assert out.end == horizon.end and out.issue_time == horizon.issue_time  # not cut
    limits = {pd.Timestamp(t).tz_convert("UTC"): (i, x) for t, i, x in out.grid_limits_kw}
    assert limits[pd.Timestamp(NOW)] == (grid.import_limit_kw, 2000.0)
    assert limits[pd.Timestamp(END)] == (100.0, 3000.0)  # the import cap ahead, already held
    assert limits[pd.Timestamp(later)] == (450.0, 0.0)  # import target 400 +- 50
    assert limits[pd.Timestamp(later + timedelta(minutes=15))] == (0.0, 350.0)  # export 300
    assert len(limits) == 4 * 3 + 2  # 12:00-15:00 and the target's two intervals
    assert limited(site, horizon, []) == horizon


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
    assert len(after) == 8  # the window's rows of the plan in force
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
    caps = connection_caps_at(service.engine, PARK)  # the connection point's setpoints
    assert caps(NOW) == (cap_kw, 0.0)
    assert caps(END) == (None, None)

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


def test_a_target_exchange_profile_is_held_per_interval_or_relaxed_by_name(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    service = client.app.state.service  # type: ignore[attr-defined]
    first = service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)
    assert first.status is RunStatus.SUCCEEDED, first.error
    _, before = _in_force(client)
    net = (before[pc.GRID_IMPORT_KW] - before[pc.GRID_EXPORT_KW]).to_numpy()
    # demand response: half the planned exchange in each interval, within 20 kW
    targets = [round(0.5 * float(v), 1) for v in net]
    assert max(abs(v - t) for v, t in zip(net, targets, strict=True)) > 100.0  # it binds
    url = f"/api/v1/sites/{PARK}/grid-events"
    body = {
        "kind": "target",
        "start": NOW.isoformat(),
        "end": END.isoformat(),
        "target_kw": targets,
        "tolerance_kw": 20.0,
        "reason": "demand response baseline",
    }
    posted = client.post(url, headers=keys["utility"], params={"wait": True}, json=body)
    assert posted.status_code == 201, posted.text
    event = posted.json()
    assert event["replan"]["status"] == "succeeded"
    assert event["planned_within_target"] is True, event["intervals"]
    assert event["intervals_planned_within"] == 8 and len(event["intervals"]) == 8
    assert event["followed"] is None and event["relaxed"] == []
    _, after = _in_force(client)
    for (_, row), target in zip(after.iterrows(), targets, strict=True):
        assert row[pc.GRID_IMPORT_KW] <= max(target + 20.0, 0.0) + TOL_KW
        assert row[pc.GRID_EXPORT_KW] <= max(20.0 - target, 0.0) + TOL_KW
    caps = connection_caps_at(service.engine, PARK)(NOW)
    assert caps == (max(targets[0] + 20.0, 0.0), max(20.0 - targets[0], 0.0))

    # zero exchange through the evening (20:00-24:00): beyond what the park can do alone
    evening = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)  # 20:00 in the park
    island = body | {
        "start": evening.isoformat(),
        "end": (evening + timedelta(hours=4)).isoformat(),
        "target_kw": [0.0] * 16,
        "tolerance_kw": 0.0,
        "reason": "island drill",
    }
    posted = client.post(url, headers=keys["utility"], params={"wait": True}, json=island)
    assert posted.status_code == 201, posted.text
    drill = posted.json()
    assert drill["window"] == "ahead" and drill["replan"]["status"] == "succeeded"
    names = [r["constraint"] for r in drill["relaxed"]]
    assert any(n.startswith("grid_import_limit") for n in names), drill
    assert drill["planned_within_target"] is False

    assert client.get(f"{url}/{drill['id']}", headers=keys["other"]).status_code == 403
    wrong = client.post(url, headers=keys["utility"], json=body | {"target_kw": [1.0, 2.0]})
    assert wrong.status_code == 422
    assert "one per quarter hour of the window (8)" in wrong.text
