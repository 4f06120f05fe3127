"""Prices posted by the operator: a posting re-plans the park at once and the new plan prices
the intervals it covers with them (charging moves into the posted cheap hours); a bad posting
is refused with every reason and stores nothing; a utility key cannot post."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from controller import columns as pc
from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.prices import store as price_store
from controller.service.settings import ServiceSettings
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, RunStatus, Trigger
from sites import columns

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PARK = "gaotang-solar-textile"
ZONE = "Asia/Shanghai"
NOW = datetime(2026, 5, 10, 16, 0, tzinfo=UTC)  # midnight in the park: no sun for hours
CHEAP_START = NOW + timedelta(hours=2)
CHEAP_END = NOW + timedelta(hours=4)
DEAR = 2.0
CHEAP = 0.01
PRICE_RTOL = 1e-9
CHARGE = columns.battery_charge_kw("bess")


@pytest.fixture
def client_and_keys(database_url: str) -> tuple[TestClient, dict[str, dict[str, str]]]:
    settings = ServiceSettings(
        database_url=database_url,
        sites=[PARK],
        scheduler=False,
        startup_catch_up=False,
        demo=False,
        forecast_processes=0,
        key_cache_ttl_s=0.0,
        history_days=3,
    )
    app = create_app(settings, clock=lambda: NOW)
    service = app.state.service
    service.runner.clock = lambda: NOW
    ReplayFeeder(service.engine, service.parks, lambda: NOW, 3)()
    ids = service.parks.ids

    def key(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_key(service.engine, role, [PARK], ids).token}"}

    client = TestClient(app)
    yield client, {"utility": key(Role.UTILITY), "operator": key(Role.OPERATOR)}
    client.close()
    service.engine.dispose()


def _day_of_prices() -> list[dict[str, Any]]:
    stamps = pd.date_range(NOW, periods=96, freq="15min", tz=UTC).tz_convert(ZONE)
    return [
        {
            "timestamp": t.isoformat(),
            "import_price_cny_per_kwh": CHEAP if CHEAP_START <= t < CHEAP_END else DEAR,
        }
        for t in stamps
    ]


def _in_force(client: TestClient) -> tuple[int, pd.DataFrame]:
    service = client.app.state.service  # type: ignore[attr-defined]
    with db.read(service.engine) as connection:
        header = plan_store.in_force(connection, PARK, NOW)
        assert header is not None
        stored = plan_store.load(connection, header.id, ZONE)
    assert stored is not None
    return header.id, stored.frame


def _cheap(frame: pd.DataFrame) -> Any:
    index = pd.DatetimeIndex(frame.index)
    return (index >= pd.Timestamp(CHEAP_START)) & (index < pd.Timestamp(CHEAP_END))


def test_posted_prices_replan_and_move_the_charging_into_the_cheap_hours(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    service = client.app.state.service  # type: ignore[attr-defined]
    first = service.runner.run(PARK, Job.INTRADAY, Trigger.SCHEDULE)
    assert first.status is RunStatus.SUCCEEDED, first.error
    before_id, before = _in_force(client)

    url = f"/api/v1/sites/{PARK}/prices"
    body = {"prices": _day_of_prices(), "note": "day-ahead market"}
    posted = client.post(url, headers=keys["operator"], params={"wait": True}, json=body)
    assert posted.status_code == 201, posted.text
    posting = posted.json()
    assert posting["intervals"] == 96 and posting["replan"]["status"] == "succeeded"
    after_id, after = _in_force(client)
    assert after_id == posting["replan"]["plan_id"] != before_id

    # The plan prices every interval the posting covers with the posted price.
    index = pd.DatetimeIndex(after.index)
    covered = index < pd.Timestamp(NOW + timedelta(days=1))
    cheap = _cheap(after)
    assert after.loc[covered & cheap, pc.PRICE_CNY_PER_KWH].to_numpy() == pytest.approx(
        CHEAP, rel=PRICE_RTOL
    )
    assert after.loc[covered & ~cheap, pc.PRICE_CNY_PER_KWH].to_numpy() == pytest.approx(
        DEAR, rel=PRICE_RTOL
    )
    # Charging moves into the cheap hours, away from the dear ones before the sun rises.
    night = index < pd.Timestamp(NOW + timedelta(hours=6))
    charged_cheap = float(after.loc[cheap, CHARGE].sum())
    assert charged_cheap > float(before.loc[_cheap(before), CHARGE].sum()) + 100.0
    assert float(after.loc[night & ~cheap, CHARGE].sum()) < 0.01 * charged_cheap

    # The posting is stored as posted, with the run it triggered; the KPIs use its prices.
    read = client.get(f"{url}/{posting['id']}", headers=keys["operator"]).json()
    assert [p["import_price_cny_per_kwh"] for p in read["prices"]] == [
        p["import_price_cny_per_kwh"] for p in body["prices"]
    ]
    with db.read(service.engine) as connection:
        run = run_store.get(connection, posting["replan"]["run_id"])
    assert run is not None and run.trigger is Trigger.PRICES


BAD = [
    (
        {"timestamp": "2026-05-11T02:00:00", "import_price_cny_per_kwh": 0.5},
        ("timestamp",),
        "timezone",
    ),
    (
        {"timestamp": "2026-05-11T02:05:00+08:00", "import_price_cny_per_kwh": 0.5},
        ("timestamp",),
        "quarter hour",
    ),
    (
        {"timestamp": "2026-05-11T02:00:00+08:00", "import_price_cny_per_kwh": -0.2},
        ("import_price_cny_per_kwh",),
        "greater than or equal to 0",
    ),
    (
        {"timestamp": "2026-05-11T02:00:00+08:00", "import_price_cny_per_kwh": 50},
        ("import_price_cny_per_kwh",),
        "less than or equal to 5",
    ),
    (
        {"timestamp": "2026-05-11T02:00:00+08:00", "import_price_cny_per_kwh": "cheap"},
        ("import_price_cny_per_kwh",),
        "valid number",
    ),
    (
        {
            "timestamp": "2026-05-11T02:00:00+08:00",
            "import_price_cny_per_kwh": 0.5,
            "export_price_cny_per_kwh": -3,
        },
        ("export_price_cny_per_kwh",),
        "greater than or equal to -1",
    ),
]


def test_a_bad_posting_is_refused_with_its_reasons_and_changes_nothing(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    service = client.app.state.service  # type: ignore[attr-defined]
    url = f"/api/v1/sites/{PARK}/prices"
    # An interval already past: stored, no re-plan (nothing runs behind the test's back).
    good = {"timestamp": "2026-05-10T23:00:00+08:00", "import_price_cny_per_kwh": 0.3}
    stored = client.post(url, headers=keys["operator"], json={"prices": [good]})
    assert stored.status_code == 201, stored.text
    assert stored.json()["replan"] is None
    with db.read(service.engine) as connection:
        runs_before = len(run_store.recent(connection, [PARK], 100))

    for entry, field, rule in BAD:
        answer = client.post(url, headers=keys["operator"], json={"prices": [good, entry]})
        assert answer.status_code == 422, answer.text
        errors = answer.json()["detail"]
        assert any(
            e["loc"][-len(field) :] == list(field)
            and e["loc"][:3] == ["body", "prices", 1]
            and rule in e["msg"]
            and e["input"] == entry[field[-1]]
            for e in errors
        ), errors

    twice = client.post(url, headers=keys["operator"], json={"prices": [good, good]})
    assert twice.status_code == 422
    (problem,) = twice.json()["detail"]["problems"]
    assert problem.startswith("prices[1].timestamp: got 2026-05-10T23:00:00+08:00: already given")

    listed = client.get(url, headers=keys["operator"]).json()
    assert [p["id"] for p in listed] == [stored.json()["id"]]  # only the good posting
    with db.read(service.engine) as connection:
        assert len(run_store.recent(connection, [PARK], 100)) == runs_before  # no re-plan

    # A new posting of the same interval is a new version: it prices the interval, and the
    # first stays readable as posted.
    again = client.post(
        url, headers=keys["operator"], json={"prices": [good | {"import_price_cny_per_kwh": 0.4}]}
    )
    assert again.status_code == 201, again.text
    listed = client.get(url, headers=keys["operator"]).json()
    assert [p["id"] for p in listed] == [again.json()["id"], stored.json()["id"]]
    first = client.get(f"{url}/{stored.json()['id']}", headers=keys["operator"]).json()
    assert first["prices"][0]["import_price_cny_per_kwh"] == 0.3
    moment = datetime.fromisoformat(good["timestamp"])
    with db.read(service.engine) as connection:
        (price,) = price_store.in_window(connection, PARK, moment, moment + timedelta(hours=1))
    assert price.import_price_cny_per_kwh == 0.4


def test_a_utility_key_cannot_post_prices(
    client_and_keys: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = client_and_keys
    url = f"/api/v1/sites/{PARK}/prices"
    body = {"prices": [{"timestamp": "2026-05-11T01:00:00+08:00", "import_price_cny_per_kwh": 0.3}]}
    answer = client.post(url, headers=keys["utility"], json=body)
    assert answer.status_code == 403, answer.text
    assert client.get(url, headers=keys["operator"]).json() == []
