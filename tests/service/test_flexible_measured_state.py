"""The state a plan of a park with flexible loads and hydrogen starts from, as the service
reads it from a real store (SQLite and PostgreSQL): the hydrogen tank's level and each
batch's energy so far, metered where metered, else what the plan in force expected, and
each shiftable share's backlog from the plan in force."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from conftest import Harness
from service_helpers import PARK

from controller import columns as pc
from controller.inputs.forecast_data import as_forecast
from controller.inputs.state import MeasuredState, default_state
from controller.planner import rule_based_plan
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.pipeline import STATE_MAX_AGE, measured_state, store_plan
from sites import columns
from sites.history.derive import load_history

FLEX_PARK = "liaocheng-chemical-chp"
ZONE = "Asia/Shanghai"
DAY = pd.Timestamp("2026-03-02", tz=ZONE)
ISSUE = DAY + pd.Timedelta(hours=8)  # two hours into the batch's 06:00-22:00 window
QUARTER = pd.Timedelta(minutes=15)
ENERGY_TOL_KWH = 1e-6  # sums of a few kW x 0.25 h values: round-off only


def _post(harness: Harness, points: list[tuple[str, pd.Timestamp, float]]) -> None:
    body = [{"series": s, "ts": at.isoformat(), "value": v} for s, at, v in points]
    posted = harness.client.post(
        f"/api/v1/sites/{FLEX_PARK}/measurements",
        json={"points": body},
        headers=harness.headers("operator"),
    )
    assert posted.status_code < 300, posted.text


def _state(harness: Harness, at: pd.Timestamp = ISSUE) -> MeasuredState:
    site = harness.service.parks.by_id[FLEX_PARK]
    with db.read(harness.service.engine) as connection:
        return measured_state(connection, site, at)


def _store_rule_based_day(harness: Harness) -> pd.DataFrame:
    """The rule-based plan of the day (the 2016 history's 2 March on 2026's dates), in force."""
    site = harness.service.parks.by_id[FLEX_PARK]
    history = load_history(site).frame
    day = history.loc["2016-03-02"].copy()
    day.index = pd.date_range(DAY, periods=len(day), freq=QUARTER)
    made = rule_based_plan(site, as_forecast(day), default_state(site), PlanKind.DAY_AHEAD, "test")
    store_plan(harness.service.engine, made, DAY.date(), None, None)
    return made.frame


def test_nothing_metered_and_no_plan_starts_from_the_site_file(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, FLEX_PARK])
    site = harness.service.parks.by_id[FLEX_PARK]
    state = _state(harness)
    (tank,) = site.assets.hydrogen_tanks
    assert state.hydrogen_level_kg == {tank.name: tank.capacity_kg * tank.initial_level_fraction}
    assert state.batch_delivered_kwh == {"resin_batch": 0.0}
    assert state.shift_backlog_kwh == {"utility_pumping": 0.0}
    assert state.shift_recent_kwh == {}  # no metered load: the backlog counts as just deferred


def test_the_plan_in_force_gives_the_state_its_meters_do_not(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, FLEX_PARK])
    frame = _store_rule_based_day(harness)
    before = frame.loc[ISSUE - QUARTER]
    state = _state(harness)
    # the rule-based plan runs the batch from the window's opening: what it drew in the first
    # two hours of the window (2.4 MW: 12 MWh spread evenly over the 20 intervals it needs)
    drawn = frame[columns.batch_kw("resin_batch")].loc[
        DAY + pd.Timedelta(hours=6) : ISSUE - QUARTER
    ]
    assert drawn.sum() * 0.25 == pytest.approx(8 * 2400.0 * 0.25)
    assert state.batch_delivered_kwh["resin_batch"] == pytest.approx(
        drawn.sum() * 0.25, abs=ENERGY_TOL_KWH
    )
    assert state.hydrogen_level_kg["h2_store"] == pytest.approx(
        before[pc.tank_level_kg("h2_store")]
    )
    # at the window's opening a new window starts from nothing, whatever the plan says
    opening = _state(harness, DAY + pd.Timedelta(hours=6))
    assert opening.batch_delivered_kwh["resin_batch"] == 0.0


def test_metered_batch_draw_and_hydrogen_level_override_the_plan(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, FLEX_PARK])
    _store_rule_based_day(harness)
    opened = DAY + pd.Timedelta(hours=6)
    # 1.2 MW metered over the first hour and a half of the window, one interval missing
    draws = [(columns.batch_kw("resin_batch"), opened + k * QUARTER, 1200.0) for k in range(6)]
    _post(harness, draws[:3] + draws[4:])
    _post(harness, [(pc.tank_level_kg("h2_store"), ISSUE - QUARTER, 123.0)])
    state = _state(harness)
    assert state.batch_delivered_kwh["resin_batch"] == pytest.approx(
        5 * 1200.0 * 0.25, abs=ENERGY_TOL_KWH
    )
    assert state.hydrogen_level_kg["h2_store"] == 123.0
    # a level older than the state's age limit is not the level now: the plan's is
    later = ISSUE + STATE_MAX_AGE + QUARTER
    assert _state(harness, later).hydrogen_level_kg["h2_store"] != 123.0


def test_the_shift_window_before_the_horizon_comes_from_the_metered_load(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, FLEX_PARK])
    site = harness.service.parks.by_id[FLEX_PARK]
    (shift,) = site.assets.shiftable_loads
    steps = shift.shift_steps - 1
    load = columns.load_kw(shift.load)
    _post(harness, [(load, ISSUE - (k + 1) * QUARTER, 2000.0 + 100.0 * k) for k in range(steps)])
    recent = _state(harness).shift_recent_kwh[shift.name]
    expected = [shift.max_fraction * (2000.0 + 100.0 * k) * 0.25 for k in reversed(range(steps))]
    assert recent == pytest.approx(expected)  # oldest first


@pytest.mark.parametrize(
    ("series", "value"),
    [(columns.batch_kw("resin_batch"), 9000.0), (pc.tank_level_kg("h2_store"), 601.0)],
)
def test_a_batch_draw_or_hydrogen_level_beyond_its_asset_is_refused(
    harness_factory: Callable[..., Harness], database_url: str, series: str, value: float
) -> None:
    harness = harness_factory(database_url, sites=[PARK, FLEX_PARK])
    refused = harness.client.post(
        f"/api/v1/sites/{FLEX_PARK}/measurements",
        json={"points": [{"series": series, "ts": ISSUE.isoformat(), "value": value}]},
        headers=harness.headers("operator"),
    )
    assert refused.status_code == 422 and series in refused.text
