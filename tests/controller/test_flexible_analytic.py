"""Flexible process loads on a tiny park, where the best plan is known by hand.

Park: one 1 MW process load at the grid bus, no PV, no battery. The tariff is 0.8 CNY/kWh
except the deep valley (10:00-15:00 on a spring day) at 0.1 CNY/kWh, so energy moved into
the valley saves 0.7 CNY/kWh and nothing else matters (no renewables, no demand charge).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import (
    DEEP_VALLEY,
    FLAT,
    base_mapping,
    day_index,
    flat_prices,
    forecast,
    site_from,
)
from rich.console import Console

from controller import columns as pc
from controller.cli.plan_cmd import kpi_table
from controller.config import DEFAULT_CONFIG
from controller.fallback.rules import fallback_dispatch
from controller.inputs import flexible as fx
from controller.inputs.dispatch_inputs import prepare
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.kpi import compute_kpis
from controller.plans.plan import PlanKind, PlanStatus
from controller.plans.serialise import plan_from_json, plan_to_json

POWER_TOL_KW = 0.5  # solver tolerances on kW rows, far below anything metered
ENERGY_TOL_KWH = 0.5
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
LOAD_KW = 1000.0
HANDLING_CNY_PER_KWH = 0.01
"""What moving a kWh of the shiftable load costs: without a price, moves between intervals
of one price are ties the solver may break either way."""


def _site(**assets: list[dict[str, Any]]) -> Any:
    raw = base_mapping()
    raw["assets"]["pv"] = []
    raw["assets"]["batteries"] = []
    raw["assets"].update(assets)
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(deep_valley=DEEP_VALLEY)
    return site_from(raw)


def _plan(site: Any, state: MeasuredState = NO_DEMAND_CHARGE) -> Any:
    index = day_index()
    result = plan(site, forecast(site, index, load_plant_kw=LOAD_KW), state)
    assert result.status is PlanStatus.OPTIMAL, (result.status, result.relaxations)
    report = check_plan(site, result)
    assert report.ok, report
    return result


def _hours(frame: Any) -> np.ndarray:
    return fx.hour_of_day(getattr(frame, "index", frame))


def _batch(**over: Any) -> dict[str, Any]:
    return {
        "name": "melt",
        "bus": "pcc",
        "energy_kwh": 3000.0,
        "max_kw": 1000.0,
        "window_start_hour": 6.0,
        "window_end_hour": 22.0,
        **over,
    }


@pytest.mark.parametrize("min_kw", [0.0, 800.0])
def test_a_batch_lands_in_the_cheapest_window_that_fits(min_kw: float) -> None:
    # 3 h at 1 MW fit in the 5 h valley; with a minimum draw (binaries, the MILP path) too
    site = _site(batch_loads=[_batch(min_kw=min_kw)])
    frame = _plan(site).frame
    power = frame[fx.batch_kw("melt")].to_numpy()
    hours = _hours(frame)
    valley = (hours >= 10) & (hours < 15)
    assert power.sum() * 0.25 == pytest.approx(3000.0, abs=ENERGY_TOL_KWH)
    assert power[~valley].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    running = power > fx.ON_KW
    assert (power[running] >= min_kw - POWER_TOL_KW).all()
    kpis = compute_kpis(site, frame)
    assert kpis.batch_energy_kwh == pytest.approx(3000.0, abs=ENERGY_TOL_KWH)
    assert kpis.batch_run_hours >= 3.0 - 1e-9


def test_a_batch_in_the_valley_counts_its_energy_in_the_plan_until_its_window_closes() -> None:
    # what the service reads back as the next plan's state (batch_delivered_kwh)
    site = _site(batch_loads=[_batch()])
    frame = _plan(site).frame
    delivered = frame[pc.batch_delivered_kwh("melt")].to_numpy()
    hours = _hours(frame)
    inside = (hours >= 6) & (hours < 22)
    np.testing.assert_allclose(
        delivered[inside], np.cumsum(frame[fx.batch_kw("melt")].to_numpy()[inside]) * 0.25
    )
    assert delivered[~inside].max() == 0.0
    assert delivered[hours == 21.75] == pytest.approx(3000.0, abs=ENERGY_TOL_KWH)


def test_a_window_open_at_the_start_counts_on_from_what_it_had() -> None:
    (batch,) = _site(batch_loads=[_batch()]).assets.batch_loads
    # 21:00 to 07:00 the next day: an hour of today's window, then tomorrow's from 06:00
    index = pd.date_range("2026-03-02 21:00", periods=40, freq="15min", tz="Asia/Shanghai")
    power = np.full(40, 1000.0)
    delivered = fx.delivered_by_interval(batch, index, power, delivered_kwh=1800.0)
    np.testing.assert_allclose(delivered[:4], 1800.0 + 250.0 * np.arange(1, 5))
    assert (delivered[4:36] == 0.0).all()  # 22:00 to 06:00: no window open
    np.testing.assert_allclose(delivered[36:], 250.0 * np.arange(1, 5))


def test_a_plan_with_every_flexible_load_round_trips_and_shows_its_kpis() -> None:
    part = {"name": "grinding", "load": "plant", "max_fraction": 0.3, "cost_cny_per_kwh": 0.5}
    site = _site(batch_loads=[_batch()], curtailable_loads=[part], shiftable_loads=[_shift()])
    result = _plan(site)
    again = plan_from_json(plan_to_json(result))
    pd.testing.assert_frame_equal(again.frame, result.frame, check_freq=False)
    assert again.kpis == result.kpis
    table = Console(width=200, record=True)
    table.print(kpi_table(result.kpis))
    text = table.export_text()
    assert "batch energy MWh, hours run" in text and "load curtailed, shifted MWh" in text


def test_a_batch_whose_window_holds_only_part_of_the_valley_fills_that_part_first() -> None:
    # window 13:00-20:00: 2 h of it in the valley (2000 kWh), the last 1000 kWh at 0.8
    site = _site(batch_loads=[_batch(window_start_hour=13.0, window_end_hour=20.0)])
    frame = _plan(site).frame
    power = frame[fx.batch_kw("melt")].to_numpy()
    hours = _hours(frame)
    in_valley = (hours >= 13) & (hours < 15)
    assert power[in_valley] == pytest.approx(1000.0, abs=POWER_TOL_KW)
    assert power[~in_valley].sum() * 0.25 == pytest.approx(1000.0, abs=ENERGY_TOL_KWH)
    assert power[(hours < 13) | (hours >= 20)].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)


def test_the_rule_based_plan_runs_a_batch_as_early_as_its_window_allows() -> None:
    site = _site(batch_loads=[_batch(min_kw=800.0)])
    index = day_index()
    fc = forecast(site, index, load_plant_kw=LOAD_KW)
    inputs = prepare(site, fc, NO_DEMAND_CHARGE, PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
    d = fallback_dispatch(site, inputs)
    assert d.flexible is not None
    power = d.flexible.batch_kw[0]
    hours = _hours(index)
    assert power[(hours >= 6) & (hours < 9)] == pytest.approx(1000.0)
    assert power[(hours < 6) | (hours >= 9)].sum() == 0.0


@pytest.mark.parametrize(("cost", "curtailed_outside_valley_kw"), [(0.5, 300.0), (0.9, 0.0)])
def test_curtailment_happens_only_where_the_price_exceeds_its_cost(
    cost: float, curtailed_outside_valley_kw: float
) -> None:
    part = {"name": "grinding", "load": "plant", "max_fraction": 0.3, "cost_cny_per_kwh": cost}
    site = _site(curtailable_loads=[part])
    frame = _plan(site).frame
    shed = frame[fx.curtailed_kw("grinding")].to_numpy()
    hours = _hours(frame)
    valley = (hours >= 10) & (hours < 15)
    assert shed[valley] == pytest.approx(0.0, abs=POWER_TOL_KW)  # 0.1 < cost: never
    assert shed[~valley] == pytest.approx(curtailed_outside_valley_kw, abs=POWER_TOL_KW)
    kpis = compute_kpis(site, frame)
    shed_kwh = curtailed_outside_valley_kw * 19.0
    assert kpis.load_curtailed_kwh == pytest.approx(shed_kwh, abs=ENERGY_TOL_KWH)
    assert kpis.curtailment_cost_cny == pytest.approx(cost * shed_kwh, abs=cost * ENERGY_TOL_KWH)
    import_cost = (frame["grid_import_kw"] * frame["price_cny_per_kwh"]).sum() * 0.25
    assert frame["cost_cny"].sum() == pytest.approx(import_cost + cost * shed_kwh, rel=1e-9)


def _shift(**over: Any) -> dict[str, Any]:
    return {
        "name": "dyeing",
        "load": "plant",
        "max_fraction": 0.2,
        "max_shift_h": 3.0,
        "max_extra_kw": 500.0,
        "cost_cny_per_kwh": HANDLING_CNY_PER_KWH,
        **over,
    }


def _within_the_shift(frame: Any, first: int = 0) -> None:
    """First in, first out, energy moves by at most 3 h: the backlog is at most the share's
    baseline energy of the last 3 h and at least minus that of the next 3 h (from interval
    ``first`` on: before, the baseline before the plan counts too)."""
    share = np.full(len(frame), 0.2 * LOAD_KW)
    behind = np.convolve(share, np.ones(12))[: len(share)] * 0.25
    ahead = np.convolve(share, np.ones(12))[11:] * 0.25  # s = t + 1 .. t + 12 (0 after)
    ahead = np.concatenate([ahead[1:], [0.0]])
    backlog = fx.backlog_kwh(frame, "dyeing")
    assert (backlog[first:] <= behind[first:] + ENERGY_TOL_KWH).all()
    assert (-backlog <= ahead + ENERGY_TOL_KWH).all()


def test_a_shiftable_load_moves_from_peak_to_valley_within_its_shift() -> None:
    # 200 kW of the load may lag or lead it by up to 3 h: at most 3 h x 200 kW = 600 kWh
    # can lag into the valley from before it, and 600 kWh lead into it from after it
    site = _site(shiftable_loads=[_shift()])
    frame = _plan(site).frame
    down = frame[fx.shift_down_kw("dyeing")].to_numpy()
    up = frame[fx.shift_up_kw("dyeing")].to_numpy()
    hours = _hours(frame)
    valley = (hours >= 10) & (hours < 15)
    assert down[valley].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert up[~valley].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert up.sum() * 0.25 == pytest.approx(1200.0, abs=ENERGY_TOL_KWH)
    assert down.sum() * 0.25 == pytest.approx(1200.0, abs=ENERGY_TOL_KWH)  # conserved
    assert fx.backlog_kwh(frame, "dyeing")[-1] == pytest.approx(0.0, abs=ENERGY_TOL_KWH)
    _within_the_shift(frame)
    kpis = compute_kpis(site, frame)
    assert kpis.load_shifted_kwh == pytest.approx(1200.0, abs=ENERGY_TOL_KWH)
    # against the same day unshifted: 1200 kWh at 0.8 -> 0.1, each paying the handling
    unshifted = (LOAD_KW * 0.25 * np.where(valley, DEEP_VALLEY, FLAT)).sum()
    saved = (FLAT - DEEP_VALLEY - HANDLING_CNY_PER_KWH) * 1200.0
    assert frame["cost_cny"].sum() == pytest.approx(unshifted - saved, rel=1e-6)
    assert kpis.curtailment_cost_cny == pytest.approx(HANDLING_CNY_PER_KWH * 1200.0, rel=1e-6)


def test_a_shift_that_costs_more_than_the_price_spread_does_not_happen() -> None:
    site = _site(shiftable_loads=[_shift(cost_cny_per_kwh=0.75)])
    frame = _plan(site).frame
    assert frame[fx.shift_down_kw("dyeing")].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)


def test_a_backlog_the_horizon_starts_with_is_made_up_within_the_shift() -> None:
    # 300 kWh deferred just before midnight (no record of the hours before): the plan may
    # keep the load lagging by that much (1.5 h of the 200 kW share) and makes it up in the
    # valley with the rest; 300 kWh more are drawn than taken off
    state = MeasuredState(month_peak_import_kw=1e6, shift_backlog_kwh={"dyeing": 300.0})
    site = _site(shiftable_loads=[_shift()])
    frame = _plan(site, state).frame
    down = frame[fx.shift_down_kw("dyeing")].to_numpy()
    up = frame[fx.shift_up_kw("dyeing")].to_numpy()
    assert (up.sum() - down.sum()) * 0.25 == pytest.approx(300.0, abs=ENERGY_TOL_KWH)
    backlog = fx.backlog_kwh(frame, "dyeing")
    assert backlog[0] <= 300.0 + ENERGY_TOL_KWH and backlog[-1] == pytest.approx(0.0, abs=0.5)
    hours = _hours(frame)
    assert up[(hours < 10) | (hours >= 15)].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    _within_the_shift(frame, first=11)
