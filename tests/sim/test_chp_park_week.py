"""The bundled park with the rest of the park's families (Liaocheng chemical with an 8 MW gas
turbine CHP, a waste-heat steam turbine, a batch reactor, a curtailable and a shiftable share
of two loads, an electrolyser with a hydrogen tank and a fuel cell) through a week of
closed-loop replay: production controller and the rule-based baseline, each interval through
the plant, every plan checked, electricity and heat conserved every interval, each day's
batch within its window, no moved energy held longer than the shift allows, the hydrogen
tank following its flows. (The MILP paths of a batch minimum draw and an electrolyser
minimum load are in ``tests/controller/test_flexible_analytic.py`` and
``test_hydrogen_analytic.py``.)"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from controller import columns as pc
from controller.inputs import flexible as fx
from controller.inputs.forecast_data import as_forecast
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import PlanStatus
from sim.forecaster import PrefetchingForecaster
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sim.replay import ReplayResult, energy_balance_error_kw, replay
from sites import columns, load_bundled_site
from sites.history.derive import load_history
from sites.tariff import site_tariff

SITE = load_bundled_site("liaocheng-chemical-chp")
TRUTH = load_history(SITE).frame
START = pd.Timestamp("2016-03-07", tz="Asia/Shanghai")  # history before it trains forecasts
END = START + pd.Timedelta(days=7)
INTRADAY_EVERY = pd.Timedelta(hours=6)  # fewer re-plans keep the test quick; same code path
BALANCE_TOL_KW = 1e-3  # AC power flow converges to 1e-8 MVA; 1 W is far above round-off
HEAT_TOL_KWH = 1e-3  # sums of a week's kW_th x 0.25 h: float round-off only
CHP = SITE.assets.chp[0]
RECOVERY_USED_SHARE = 0.99
"""Share of the waste-heat turbine's available energy used: a plan curtails it only where
renewable energy would otherwise be spilled, and caps it only for the intervals it planned so
(forecast error may leave a capped interval with more to give)."""
ENERGY_TOL_KWH = 1.0  # a 12 MWh batch summed from solver setpoints (1e-7 relative) and plant
BELOW_LOW_FORECAST_SHARE = 0.05
"""Intervals in which a shift's backlog may exceed its bound on the true load: the plans
bound it on the low forecast (P10), which the true load undercuts in about one interval in
ten, and only a run of them within a shift window shows (measured on the Gaotang textile
park: 7 of 672 intervals)."""
BELOW_LOW_FORECAST_EXCESS = 0.10
"""By how much, as a share of the bound (measured there: 6 %)."""
KG_TOL = 1e-6  # kg: the plant's own arithmetic
PEAK_HOLD_SHARE = 0.75
"""Where a plan sheds below its cost to hold the month's peak, the true import may come in
below that peak by the load forecast's error (measured: at 0.83 of the peak so far, at
the least)."""
BATCH = SITE.assets.batch_loads[0]
SHIFT = SITE.assets.shiftable_loads[0]
CURTAIL = SITE.assets.curtailable_loads[0]


@pytest.fixture(scope="module")
def production() -> ReplayResult:
    started = time.perf_counter()
    policy = OptimiserPolicy(SITE, PrefetchingForecaster(SITE, TRUTH), INTRADAY_EVERY)
    result = replay(SITE, TRUTH, policy, START, END)
    # the week's time, for the suite's budget (printed with -s; binaries make each plan a MILP)
    print(f"\nCHP park week, production: {time.perf_counter() - started:.1f} s")
    assert result.counters.plans_failing_check == 0, policy.decisions.check_problems
    return result


@pytest.fixture(scope="module")
def rule_based() -> ReplayResult:
    return replay(SITE, TRUTH, RuleBasedPolicy(SITE), START, END)


@pytest.fixture(params=["production", "rule_based"])
def week(request: pytest.FixtureRequest) -> ReplayResult:
    result: ReplayResult = request.getfixturevalue(request.param)
    return result


def test_every_plan_passes_the_check_and_the_chp_runs_through_the_plant(
    production: ReplayResult,
) -> None:
    counters = production.counters
    assert counters.plans_made > 7 and counters.plans_failing_check == 0
    out = production.frame[columns.chp_kw(CHP.name)].to_numpy()
    minimum = CHP.rated_electric_kw * CHP.min_stable_fraction
    running = out > 0.0
    # the unit ran, and never between off and its minimum stable load, nor above its rating
    assert running.any()
    assert (out[running] >= minimum - BALANCE_TOL_KW).all()
    assert out.max() <= CHP.rated_electric_kw + BALANCE_TOL_KW
    assert production.kpis.chp_run_hours == pytest.approx(running.sum() * 0.25)
    assert production.kpis.chp_starts >= 1.0


def test_the_waste_heat_turbine_gives_what_its_process_makes_available(week: ReplayResult) -> None:
    (unit,) = SITE.assets.recovery_power
    frame = week.frame
    out = frame[columns.recovery_kw(unit.name)].to_numpy()
    process = frame[columns.load_kw(unit.process_load)].to_numpy()
    available = np.minimum(unit.rated_kw, unit.kw_per_process_kw * process)
    np.testing.assert_allclose(frame[pc.recovery_available_kw(unit.name)], available)
    assert (out <= available + BALANCE_TOL_KW).all()
    # zero fuel and no negative export price in the bundled tariff: it runs wherever it can
    assert out.sum() >= RECOVERY_USED_SHARE * available.sum()
    assert week.kpis.recovery_power_kwh == pytest.approx(out.sum() * 0.25)


def test_electricity_is_conserved_every_interval(week: ReplayResult) -> None:
    assert len(week.frame) == 7 * 96
    assert np.abs(energy_balance_error_kw(SITE, week.frame)).max() < BALANCE_TOL_KW


def test_heat_is_conserved_every_interval_with_the_chp_heat(week: ReplayResult) -> None:
    frame, a = week.frame, SITE.assets
    supplied = sum(frame[pc.heat_pump_heat_kw_th(h.name)] for h in a.heat_pumps)
    supplied += sum(frame[pc.waste_heat_direct_kw_th(w.name)] for w in a.waste_heat)
    supplied += sum(frame[pc.boiler_heat_kw_th(b.name)] for b in a.boilers)
    supplied += sum(frame[pc.chp_heat_kw_th(c.name)] for c in a.chp)
    supplied += sum(
        frame[pc.thermal_storage_discharge_kw_th(t.name)]
        - frame[pc.thermal_storage_charge_kw_th(t.name)]
        for t in a.thermal_storage
    )
    demand = sum(frame[columns.heat_demand_kw_th(d.name)] for d in a.heat_demands)
    gap = (demand - supplied).to_numpy()
    counters = week.counters
    assert np.clip(gap, 0, None).sum() * 0.25 == pytest.approx(
        counters.heat_unmet_kwh_th, abs=HEAT_TOL_KWH
    )
    assert np.clip(-gap, 0, None).sum() * 0.25 == pytest.approx(
        counters.heat_dumped_kwh_th, abs=HEAT_TOL_KWH
    )


def test_chp_fuel_and_co2_are_counted_in_the_kpis(week: ReplayResult) -> None:
    frame, a = week.frame, SITE.assets
    fuel_kwh = {c.name: frame[pc.chp_fuel_kw(c.name)].sum() * 0.25 for c in a.chp}
    boiler_kwh = {b.name: frame[pc.boiler_fuel_kw(b.name)].sum() * 0.25 for b in a.boilers}
    starts = sum(frame[pc.chp_start_cny(c.name)].sum() for c in SITE.assets.chp)
    cost = sum(c.fuel_price_cny_per_kwh * fuel_kwh[c.name] for c in SITE.assets.chp)
    cost += sum(b.fuel_price_cny_per_kwh * boiler_kwh[b.name] for b in SITE.assets.boilers)
    assert week.kpis.fuel_cost_cny == pytest.approx(cost + starts, rel=1e-9)
    np.testing.assert_allclose(
        frame[pc.chp_fuel_kw(CHP.name)] * CHP.electric_efficiency,
        frame[columns.chp_kw(CHP.name)],
        rtol=1e-12,
    )


def test_each_days_batch_gets_its_energy_within_its_window(week: ReplayResult) -> None:
    frame = week.frame
    power = frame[fx.batch_kw(BATCH.name)].to_numpy()
    inside = fx.in_window(BATCH, pd.DatetimeIndex(frame.index))
    assert power[~inside].max() == 0.0
    running = power[power > 0.0]
    assert running.min() >= BATCH.min_kw - 1e-6 and running.max() <= BATCH.max_kw + 1e-6
    daily = pd.Series(power * 0.25, index=frame.index).groupby(frame.index.date).sum()
    np.testing.assert_allclose(daily.to_numpy(), BATCH.energy_kwh, atol=ENERGY_TOL_KWH)
    assert week.kpis.batch_energy_kwh == pytest.approx(7 * BATCH.energy_kwh, abs=7 * ENERGY_TOL_KWH)


def test_moved_energy_is_made_up_within_the_shift(week: ReplayResult) -> None:
    # first in, first out, energy moves by at most max_shift_h where the backlog is at most
    # the share's baseline energy (of the true load) over the last max_shift_h hours, and
    # the energy advanced at most that over the next ones
    frame = week.frame
    down = frame[fx.shift_down_kw(SHIFT.name)].to_numpy()
    up = frame[fx.shift_up_kw(SHIFT.name)].to_numpy()
    backlog = fx.backlog_kwh(frame, SHIFT.name)
    np.testing.assert_allclose(backlog, np.cumsum(down - up) * 0.25, atol=1e-6)
    share = SHIFT.max_fraction * frame[columns.load_kw(SHIFT.load)].to_numpy()
    steps = SHIFT.shift_steps
    behind = np.convolve(share, np.ones(steps))[: len(share)] * 0.25
    ahead = np.convolve(share[::-1], np.ones(steps + 1))[: len(share)][::-1] * 0.25
    ahead -= share * 0.25
    # the plans hold these bounds on the load's low forecast (P10); where the true load
    # came in below it, the plant could not take off all that was set and the backlog may
    # exceed the true bound: in a few intervals, by a little
    over = np.concatenate([backlog - behind, -backlog[:-steps] - ahead[:-steps]])
    late = over > ENERGY_TOL_KWH
    assert late.mean() <= BELOW_LOW_FORECAST_SHARE
    assert (
        over[late] <= BELOW_LOW_FORECAST_EXCESS * np.concatenate([behind, ahead[:-steps]])[late]
    ).all()


def test_load_is_curtailed_below_its_cost_only_to_hold_the_months_peak(
    week: ReplayResult,
) -> None:
    # shedding pays where the price is above its cost, or where it holds the import at the
    # month's peak (36 CNY/kW of demand charge): the plans fill the valley up to that peak
    # with the battery, the electrolyser and the batch, and shed there rather than raise it
    frame = week.frame
    shed = frame[fx.curtailed_kw(CURTAIL.name)].to_numpy()
    price = site_tariff(SITE).prices(pd.DatetimeIndex(frame.index)).to_numpy(dtype=float)
    grid = frame[pc.GRID_IMPORT_KW].to_numpy()
    cheap = (shed > 1e-6) & (price < CURTAIL.cost_cny_per_kwh)
    at_peak = grid >= PEAK_HOLD_SHARE * np.maximum.accumulate(grid)
    assert at_peak[cheap].all()
    kpis = week.kpis
    assert kpis.curtailment_cost_cny >= CURTAIL.cost_cny_per_kwh * kpis.load_curtailed_kwh - 1e-6


def test_the_hydrogen_tank_follows_its_flows_within_its_capacity(week: ReplayResult) -> None:
    frame = week.frame
    (tank,) = SITE.assets.hydrogen_tanks
    (unit,) = SITE.assets.electrolysers
    (cell,) = SITE.assets.hydrogen_fuel_cells
    level = frame[pc.tank_level_kg(tank.name)].to_numpy()
    assert level.min() >= 0.0 and level.max() <= tank.capacity_kg + KG_TOL
    made = frame[pc.electrolyser_hydrogen_kg_per_h(unit.name)].to_numpy()
    power = frame[columns.electrolyser_kw(unit.name)].to_numpy()
    np.testing.assert_allclose(made, [unit.hydrogen_kg_per_h(p) for p in power], atol=KG_TOL)
    vented = frame[pc.electrolyser_vented_kg_per_h(unit.name)].to_numpy()
    drawn = frame[columns.hydrogen_fuel_cell_kw(cell.name)].to_numpy() / cell.kwh_per_kg
    offtake = frame[pc.tank_offtake_kg_per_h(tank.name)].to_numpy()
    assert offtake.max() <= tank.max_offtake_kg_per_h + KG_TOL
    before = np.concatenate([[tank.capacity_kg * tank.initial_level_fraction], level[:-1]])
    flows = (made - vented - drawn - offtake) * 0.25
    np.testing.assert_allclose(level, before * tank.kept_over(0.25) + flows, atol=KG_TOL)
    kpis = week.kpis
    assert kpis.hydrogen_made_kg == pytest.approx(made.sum() * 0.25)
    assert kpis.hydrogen_value_cny == pytest.approx(tank.value_cny_per_kg * offtake.sum() * 0.25)


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


def test_the_rule_based_plan_of_the_park_passes_its_check() -> None:
    day = TRUTH.loc[START : START + pd.Timedelta(days=2) - pd.Timedelta(minutes=15)]
    state = MeasuredState(
        batch_delivered_kwh={BATCH.name: 0.0}, shift_backlog_kwh={SHIFT.name: 250.0}
    )
    result = plan(SITE, as_forecast(day), state, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(SITE, result)
    assert report.ok, report
    assert fx.backlog_kwh(result.frame, SHIFT.name)[-1] == pytest.approx(0.0, abs=1e-6)
