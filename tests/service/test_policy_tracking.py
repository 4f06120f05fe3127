"""Year- and month-to-date policy ratios and the month's peak from measurements posted through
the API, against a real store (SQLite and PostgreSQL), worked out by hand."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from conftest import Harness
from service_helpers import OTHER_PARK, PARK

from controller import columns as pc
from controller.service import db
from controller.service.feeder import ReplayFeeder
from controller.service.pipeline import measured_state
from controller.service.store import measurements as measurement_store
from sites import columns
from sites.history.series import expected_series

ZONE = "Asia/Shanghai"
AT = pd.Timestamp("2026-03-01 01:00", tz=ZONE)
POWER_TOL_KW = 1e-6  # the rules' own arithmetic: float round-off only


def _points(series: str, first: str, values: list[float]) -> list[dict[str, object]]:
    start = pd.Timestamp(first, tz=ZONE)
    return [
        {"series": series, "ts": (start + i * pd.Timedelta(minutes=15)).isoformat(), "value": v}
        for i, v in enumerate(values)
    ]


def test_year_and_month_to_date_from_the_meters(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    # synthetic meter readings around midnight: the accounting is tested, not plausibility
    harness = harness_factory(database_url, measurement_plausibility_checks=False)
    points = (
        # February: 4 quarter hours of 1,000 kW PV, 300 kW exported
        _points("pv_pv_dye_house_kw", "2026-02-28 10:00", [600.0] * 4)
        + _points("pv_pv_weaving_kw", "2026-02-28 10:00", [400.0] * 4)
        + _points("grid_export_kw", "2026-02-28 10:00", [300.0] * 4)
        + _points("grid_import_kw", "2026-02-28 10:00", [0.0, 2500.0, 0.0, 0.0])
        + _points("grid_import_kw", "2026-03-01 00:00", [1200.0, 900.0, 0.0, 0.0, 0.0, 3000.0])
        # March: 2 quarter hours of 800 kW, nothing exported, 2 of 5,000 kW, 900 exported
        + _points("pv_pv_dye_house_kw", "2026-03-01 00:00", [800.0, 800.0, 5000.0, 5000.0])
        + _points("grid_export_kw", "2026-03-01 00:00", [0.0, 0.0, 900.0, 900.0])
        # the quarter hour ``at`` is in has not ended: not counted
        + _points("pv_pv_dye_house_kw", "2026-03-01 01:15", [4000.0])
        # January: PV metered, export not: counted as generation, not in the ratios
        + _points("pv_pv_weaving_kw", "2026-01-15 10:00", [2000.0])
        # last year: not this year's
        + _points("pv_pv_dye_house_kw", "2025-12-31 23:00", [3000.0] * 4)
    )
    client = harness.client
    posted = client.post(
        f"/api/v1/sites/{PARK}/measurements",
        json={"points": points},
        headers=harness.headers("operator"),
    )
    assert posted.status_code == 201, posted.text
    answer = client.get(
        f"/api/v1/sites/{PARK}/policy",
        params={"at": (AT + pd.Timedelta(minutes=20)).isoformat()},  # 01:20: up to 01:15
        headers=harness.headers("utility"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    year, month = body["year_to_date"], body["month_to_date"]
    available = 4 * 1000 * 0.25 + 2 * 800 * 0.25 + 2 * 5000 * 0.25
    exported = 4 * 300 * 0.25 + 2 * 900 * 0.25
    assert year["renewable_available_kwh"] == pytest.approx(available + 2000.0 * 0.25)
    assert year["renewable_available_export_metered_kwh"] == pytest.approx(available)
    assert year["intervals_export_metered"] == 8
    assert year["export_kwh"] == pytest.approx(exported)
    assert year["self_consumption_ratio"] == pytest.approx((available - exported) / available)
    assert year["export_ratio"] == pytest.approx(exported / available)
    assert year["intervals_measured"] == 9
    assert year["missing"] == []
    march_available = 2 * 800 * 0.25 + 2 * 5000 * 0.25
    assert month["renewable_available_kwh"] == pytest.approx(march_available)
    assert month["export_ratio"] == pytest.approx(2 * 900 * 0.25 / march_available)
    assert month["intervals"] == 5  # 00:00 .. 01:00
    assert body["remaining_export_budget_kwh"] == pytest.approx(0.2 * available - exported)
    assert body["min_self_consumption_ratio"] == 0.6 and body["max_export_ratio"] == 0.2
    assert pd.Timestamp(body["at"]) == AT + pd.Timedelta(minutes=15)
    # the month's peak so far: 1,200 kW at 00:00 (01:15's 3,000 kW has not ended)
    assert month["peak_import_kw"] == 1200.0 and year["peak_import_kw"] == 2500.0
    assert body["demand_charge_cny_per_kw_month"] > 0


def test_without_an_export_meter_the_ratios_are_unknown(harness: Harness) -> None:
    points = _points("pv_pv_dye_house_kw", "2026-02-28 10:00", [600.0] * 4)
    harness.client.post(
        f"/api/v1/sites/{PARK}/measurements",
        json={"points": points},
        headers=harness.headers("operator"),
    )
    body = harness.client.get(
        f"/api/v1/sites/{PARK}/policy",
        params={"at": AT.isoformat()},
        headers=harness.headers("utility"),
    ).json()
    year = body["year_to_date"]
    assert year["renewable_available_kwh"] == pytest.approx(600.0)
    assert year["self_consumption_ratio"] is None and year["export_ratio"] is None
    assert year["missing"] == ["grid_export_kw"]
    assert body["remaining_export_budget_kwh"] is None
    assert year["peak_import_kw"] is None  # no import metered: no peak known
    other = harness.client.get(
        f"/api/v1/sites/{OTHER_PARK}/policy", headers=harness.headers("utility")
    )
    assert other.status_code == 403


def test_the_planner_is_told_whether_the_months_peak_was_metered(harness: Harness) -> None:
    site = harness.service.parks.by_id[PARK]
    issue = pd.Timestamp("2026-03-02 00:00", tz=ZONE)
    with db.read(harness.service.engine) as connection:
        before = measured_state(connection, site, issue)
    assert not before.month_peak_metered and before.month_peak_import_kw == 0.0
    harness.client.post(
        f"/api/v1/sites/{PARK}/measurements",
        json={
            "points": _points("grid_import_kw", "2026-02-28 10:00", [9000.0])  # last month
            + _points("grid_import_kw", "2026-03-01 10:00", [2400.0, 2600.0])
        },
        headers=harness.headers("operator"),
    )
    with db.read(harness.service.engine) as connection:
        after = measured_state(connection, site, issue)
    assert after.month_peak_metered and after.month_peak_import_kw == 2600.0


def test_each_plan_holds_the_annual_targets_over_the_metered_year_so_far(harness: Harness) -> None:
    """The planner's year-to-date tally (from which each plan holds what is left of the
    annual self-consumption and export budget) is the metered year the utility reads."""
    site = harness.service.parks.by_id[PARK]
    issue = pd.Timestamp("2026-03-02 00:00", tz=ZONE)
    with db.read(harness.service.engine) as connection:
        empty = measured_state(connection, site, issue).renewables_year_to_date
    assert empty.available_kwh == empty.export_kwh == 0.0  # nothing metered: no budget
    harness.client.post(
        f"/api/v1/sites/{PARK}/measurements",
        json={
            "points": _points("pv_pv_dye_house_kw", "2026-02-28 10:00", [2000.0] * 4)
            + _points("grid_export_kw", "2026-02-28 10:00", [500.0] * 4)
        },
        headers=harness.headers("operator"),
    )
    with db.read(harness.service.engine) as connection:
        tally = measured_state(connection, site, issue).renewables_year_to_date
    assert tally.available_kwh == pytest.approx(4 * 2000.0 * 0.25)
    assert tally.export_kwh == pytest.approx(4 * 500.0 * 0.25)
    assert tally.used_on_site_kwh == pytest.approx(4 * 1500.0 * 0.25)
    assert tally.year_fraction_left == pytest.approx((365 - 31 - 28 - 1) / 365)  # 2 March 00:00
    assert tally.export_budget_kwh(0.2) == pytest.approx(0.2 * 2000.0 - 500.0)


def test_the_demo_meter_posts_the_grid_exchange_so_the_months_peak_is_known(
    harness: Harness,
) -> None:
    """The demo's history has no grid exchange; its feeder posts what the connection point's
    meter would show (the rules' dispatch of the park without storage): at least what the
    loads draw beyond the PV and wind (heat pumps and electric boilers draw more), and the
    planner's month peak so far is the highest of it."""
    site = harness.service.parks.by_id[PARK]
    now = pd.Timestamp("2026-03-02 12:00", tz=ZONE)
    ReplayFeeder(harness.service.engine, harness.service.parks, lambda: now, 2).feed_site(site, now)
    index = pd.date_range(now - pd.Timedelta(days=2), now, freq="15min", inclusive="left")
    with db.read(harness.service.engine) as connection:
        frame = measurement_store.frame(
            connection,
            site,
            [*expected_series(site), pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW],
            index[0].to_pydatetime(),
            now.to_pydatetime(),
        )
        state = measured_state(connection, site, now)
    assert frame[pc.GRID_IMPORT_KW].notna().all()
    loads = frame[[columns.load_kw(x.name) for x in site.assets.electric_loads]].sum(axis=1)
    meters = [columns.pv_kw(x.name) for x in site.assets.pv]
    renewables = frame[meters + [columns.wind_kw(x.name) for x in site.assets.wind]].sum(axis=1)
    net = frame[pc.GRID_IMPORT_KW] - frame[pc.GRID_EXPORT_KW]
    assert (net >= loads - renewables - POWER_TOL_KW).all()
    assert state.month_peak_metered
    march = frame.loc[frame.index >= pd.Timestamp("2026-03-01", tz=ZONE), pc.GRID_IMPORT_KW]
    assert state.month_peak_import_kw == pytest.approx(march.max())
