"""The sizing LP on hourly means (``sim.sizing.coarse``) against the 15-minute LP.

The park and day of ``test_sizing_lp``: prices change on the hour, so where the truth is
constant within each hour the hourly LP has the same optimum; where the load swings within
the hour it is a relaxation, so it promises no more cost than the 15-minute LP.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from sim.sizing.candidates import Candidate
from sim.sizing.coarse import coarsenable, hourly
from sim.sizing.economics import Annualisation
from sim.sizing.lp import period_inputs
from sites import columns
from sites.loader import load_bundled_site
from tests.sim.test_sizing_lp import (
    LOAD_KW,
    PER_KW,
    SIZE_TOL_KWH,
    THRESHOLD_PER_KWH,
    VALLEY,
    _economics,
    _mapping,
    _site,
    _solve,
    _truth,
    _with_heat,
)

RATE_PER_KW_MONTH, SWING_KW = 30.0, 600.0
STANDING_LOSS_RTOL = 2e-3
"""The tank's standing loss (0.5 % an hour) acts on the hour's net flow once an hour rather
than compounding over its quarters: (1 + k + k^2 + k^3) / 4 against 1, a 0.2 % difference
on the heat the tank carries, less on the day's cost."""


def _hourly(site, truth):  # type: ignore[no-untyped-def]
    start, end = truth.index[0], truth.index[-1] + pd.Timedelta(minutes=15)
    inputs = period_inputs(site, truth, start, end)
    assert coarsenable(site, inputs)
    return hourly(inputs)


def test_where_nothing_changes_within_an_hour_the_optimum_is_the_same() -> None:
    site = _site(_with_heat(_mapping(VALLEY)))
    truth = _truth(site, heat_kw_th=800.0)
    economics = _economics(0.95 * THRESHOLD_PER_KWH, PER_KW, thermal_per_kwh=1.0)
    quarter = _solve(site, truth, economics)
    hour = _solve(site, truth, economics, inputs=_hourly(site, truth))
    assert (quarter.step_minutes, hour.step_minutes) == (15, 60)
    assert quarter.battery_kwh > 1000.0  # the spread pays for a battery, so both buy one
    assert hour.battery_kwh == pytest.approx(quarter.battery_kwh, abs=SIZE_TOL_KWH)
    assert hour.battery_kw == pytest.approx(quarter.battery_kw, abs=SIZE_TOL_KWH)
    assert dict(hour.tank_kwh_th)["tank"] == pytest.approx(
        dict(quarter.tank_kwh_th)["tank"], rel=STANDING_LOSS_RTOL
    )
    assert hour.annual_cost_cny == pytest.approx(quarter.annual_cost_cny, rel=STANDING_LOSS_RTOL)


def test_a_load_swinging_within_the_hour_is_relaxed_never_dearer() -> None:
    # 600 kW above and below the mean in alternate quarters, billed 30 CNY/kW a month: the
    # 15-minute LP pays the quarter-hour peak, the hourly one the hour's mean
    raw = _mapping(VALLEY)
    raw["tariff"]["demand_charge_cny_per_kw_month"] = RATE_PER_KW_MONTH
    site = _site(raw)
    truth = _truth(site)
    swing = pd.Series([SWING_KW, -SWING_KW] * (len(truth) // 2), index=truth.index)
    truth[columns.load_kw("plant")] = LOAD_KW + swing
    economics = _economics(0.95 * THRESHOLD_PER_KWH, PER_KW)
    # without storage, by hand: the same energy bill, one month's peak 600 kW apart
    bare = Candidate(0.0, 0.0)
    quarter = _solve(site, truth, economics, fixed=bare)
    hour = _solve(site, truth, economics, fixed=bare, inputs=_hourly(site, truth))
    assert quarter.demand_charge_cny == pytest.approx(RATE_PER_KW_MONTH * (LOAD_KW + SWING_KW))
    assert hour.demand_charge_cny == pytest.approx(RATE_PER_KW_MONTH * LOAD_KW)
    assert quarter.annual_cost_cny - hour.annual_cost_cny == pytest.approx(
        12 * RATE_PER_KW_MONTH * SWING_KW, rel=1e-6
    )
    # with a battery free to shave or to shift: the hourly promise is still the lower
    stored = Candidate(2000.0, 400.0)
    quarter = _solve(site, truth, economics, fixed=stored)
    hour = _solve(site, truth, economics, fixed=stored, inputs=_hourly(site, truth))
    assert hour.annual_cost_cny <= quarter.annual_cost_cny
    assert hour.demand_charge_cny < quarter.demand_charge_cny


def test_hourly_inputs_keep_the_period_and_its_totals() -> None:
    site = _site(_with_heat(_mapping(VALLEY)))
    truth = _truth(site, heat_kw_th=800.0)
    start, end = truth.index[0], truth.index[-1] + pd.Timedelta(minutes=15)
    inputs = period_inputs(site, truth, start, end)
    coarse = hourly(inputs)
    assert (coarse.horizon, coarse.hours_per_step, inputs.hours_per_step) == (24, 1.0, 0.25)
    assert coarse.load_kw.sum() * 1.0 == pytest.approx(inputs.load_kw.sum() * 0.25)
    assert coarse.terminal_mask.tolist() == [0.0] * 23 + [1.0]
    assert coarse.storage_keep[0, 0] == pytest.approx(inputs.storage_keep[0, 0] ** 4)
    assert Annualisation.of(coarse.index, 1.0) == Annualisation.of(inputs.index)


def test_parks_whose_rows_count_quarter_hours_keep_the_15_minute_lp() -> None:
    site = _site(_mapping(VALLEY))
    truth = _truth(site)
    start, end = truth.index[0], truth.index[-1] + pd.Timedelta(minutes=15)
    inputs = period_inputs(site, truth, start, end)
    flexible = load_bundled_site("liaocheng-chemical-chp")  # batch, shift and hydrogen families
    assert not coarsenable(flexible, inputs)
    late = dataclasses.replace(inputs, index=inputs.index + pd.Timedelta(minutes=15))
    assert not coarsenable(site, late)  # not on the hour
