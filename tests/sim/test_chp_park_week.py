"""The bundled park with a gas CHP (Liaocheng chemical with an 8 MW gas turbine and a waste-heat
steam turbine) through a week of closed-loop replay: production controller and the rule-based
baseline, each interval through the plant, every plan checked, electricity and heat conserved
every interval."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from controller import columns as pc
from sim.forecaster import PrefetchingForecaster
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sim.replay import ReplayResult, energy_balance_error_kw, replay
from sites import columns, load_bundled_site
from sites.history.derive import load_history

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
