"""A week of closed-loop replay through the production controller, checked every interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from controller import columns as pc
from controller.config import DEFAULT_CONFIG
from sim.forecaster import PrefetchingForecaster, RefittingForecaster
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sim.replay import ReplayResult, energy_balance_error_kw, replay
from sites import columns, load_bundled_site
from sites.history.derive import load_history
from sites.schema import Fuel

SITE = load_bundled_site("gaotang-textile")
TRUTH = load_history(SITE).frame
START = pd.Timestamp("2016-03-07", tz="Asia/Shanghai")  # history before it trains forecasts
END = START + pd.Timedelta(days=7)
POISON_FROM = START + pd.Timedelta(days=3)
INTRADAY_EVERY = pd.Timedelta(hours=6)  # fewer re-plans keep the test quick; same code path
BALANCE_TOL_KW = 1e-3  # AC power flow converges to 1e-8 MVA; 1 W is far above round-off
SOC_TOL_KWH = 1e-6


def _run(truth: pd.DataFrame) -> tuple[ReplayResult, OptimiserPolicy]:
    policy = OptimiserPolicy(SITE, PrefetchingForecaster(SITE, truth), INTRADAY_EVERY)
    return replay(SITE, truth, policy, START, END), policy


@pytest.fixture(scope="module")
def week() -> tuple[ReplayResult, OptimiserPolicy]:
    return _run(TRUTH)


def test_electricity_is_conserved_every_interval(week) -> None:  # type: ignore[no-untyped-def]
    result, _ = week
    assert len(result.frame) == 7 * 96
    error = energy_balance_error_kw(SITE, result.frame)
    assert np.abs(error).max() < BALANCE_TOL_KW


def test_storage_changes_match_the_flows(week) -> None:  # type: ignore[no-untyped-def]
    result, _ = week
    frame = result.frame
    for b in SITE.assets.batteries:
        soc = frame[pc.battery_soc_kwh(b.name)].to_numpy()
        before = np.concatenate([[b.capacity_kwh * b.initial_soc_fraction], soc[:-1]])
        flows = (
            frame[columns.battery_charge_kw(b.name)] * b.charge_efficiency
            - frame[columns.battery_discharge_kw(b.name)] / b.discharge_efficiency
        ) * 0.25
        np.testing.assert_allclose(soc - before, flows, atol=SOC_TOL_KWH)
        assert soc.min() >= b.soc_min_kwh - SOC_TOL_KWH and soc.max() <= b.soc_max_kwh + SOC_TOL_KWH


def test_heat_is_conserved_every_interval(week) -> None:  # type: ignore[no-untyped-def]
    result, _ = week
    frame = result.frame
    a = SITE.assets
    supplied = sum(frame[pc.heat_pump_heat_kw_th(h.name)] for h in a.heat_pumps)
    supplied += sum(frame[pc.waste_heat_direct_kw_th(w.name)] for w in a.waste_heat)
    supplied += sum(frame[pc.boiler_heat_kw_th(b.name)] for b in a.boilers)
    supplied += sum(
        frame[pc.thermal_storage_discharge_kw_th(t.name)]
        - frame[pc.thermal_storage_charge_kw_th(t.name)]
        for t in a.thermal_storage
    )
    demand = sum(frame[columns.heat_demand_kw_th(d.name)] for d in a.heat_demands)
    unmet_kwh = result.counters.heat_unmet_kwh_th
    dumped_kwh = result.counters.heat_dumped_kwh_th
    gap = (demand - supplied).to_numpy()
    # Supplied heat equals demand except where the plant reported unmet or dumped heat.
    assert np.clip(gap, 0, None).sum() * 0.25 == pytest.approx(unmet_kwh, abs=1e-3)
    # The KPI (same definition as a plan's) reads the unmet heat the plant wrote.
    assert result.kpis.heat_unmet_kwh_th == pytest.approx(unmet_kwh, abs=1e-3)
    assert np.clip(-gap, 0, None).sum() * 0.25 == pytest.approx(dumped_kwh, abs=1e-3)


def test_fuel_of_fired_boilers_is_counted_in_cost_and_co2(week) -> None:  # type: ignore[no-untyped-def]
    result, _ = week
    frame = result.frame
    fired = [b for b in SITE.assets.boilers if b.fuel is not Fuel.ELECTRIC]
    assert fired, "the test park needs a fuel-fired boiler"
    for b in fired:
        fuel = frame[pc.boiler_fuel_kw(b.name)]
        np.testing.assert_allclose(fuel * b.efficiency, frame[pc.boiler_heat_kw_th(b.name)])
    cost = sum(
        b.fuel_price_cny_per_kwh * frame[pc.boiler_fuel_kw(b.name)].sum() * 0.25 for b in fired
    )
    assert cost > 0
    assert result.kpis.fuel_cost_cny == pytest.approx(cost, rel=1e-9)


def test_the_controller_never_saw_the_future(week) -> None:  # type: ignore[no-untyped-def]
    _, policy = week
    times = policy.decisions.decision_times
    assert len(times) == 7 * 96
    assert policy.decisions.latest_history_seen is not None
    assert policy.decisions.latest_history_seen < END - pd.Timedelta(minutes=15)
    # The strongest check: poison everything from day 3 on; what was decided before is equal.
    poisoned = TRUTH.copy()
    rng = np.random.default_rng(1)
    after = poisoned.index >= POISON_FROM
    poisoned.loc[after] = rng.permutation(poisoned.loc[after].to_numpy())
    result, _ = _run(poisoned)
    before = result.frame.index < POISON_FROM
    clean = week[0].frame
    setpoints = [c for c in clean.columns if c.startswith(("battery_", "heat_pump_"))]
    pd.testing.assert_frame_equal(result.frame.loc[before, setpoints], clean.loc[before, setpoints])


def test_results_are_identical_on_a_second_run(week) -> None:  # type: ignore[no-untyped-def]
    again, _ = _run(TRUTH)
    pd.testing.assert_frame_equal(again.frame, week[0].frame, check_exact=True)
    assert again.kpis == week[0].kpis
    assert again.provenance["inputs_hash"] == week[0].provenance["inputs_hash"]


def test_adherence_is_measured_against_the_schedule_the_utility_received(week) -> None:  # type: ignore[no-untyped-def]
    result, policy = week
    assert result.adherence is not None
    assert result.adherence.intervals_committed == len(result.frame)  # every day committed
    schedule = policy.committed_schedule().loc[result.frame.index]
    deviation = (result.frame[pc.GRID_IMPORT_KW] - result.frame[pc.GRID_EXPORT_KW]) - (
        schedule[pc.GRID_IMPORT_KW] - schedule[pc.GRID_EXPORT_KW]
    )
    band = policy.config.deviation_band_kw(
        (schedule[pc.GRID_IMPORT_KW] - schedule[pc.GRID_EXPORT_KW]).to_numpy()
    )
    outside = np.abs(deviation.to_numpy()) > band
    assert result.adherence.intervals_within_band == len(result.frame) - int(outside.sum())
    assert 0 < result.adherence.intervals_within_band < len(result.frame)  # forecasts err
    # the deviation is costed at the tariff's price, energy beyond the band's edge
    beyond = np.clip(np.abs(deviation.to_numpy()) - band, 0.0, None)
    assert result.kpis.deviation_outside_band_kwh == pytest.approx(beyond.sum() * 0.25)
    price = SITE.tariff.deviation_price_cny_per_kwh
    assert result.kpis.deviation_cost_cny == pytest.approx(price * beyond.sum() * 0.25)
    assert result.kpis.deviation_cost_cny > 0


def test_every_plan_passes_the_invariant_check(week) -> None:  # type: ignore[no-untyped-def]
    result, policy = week
    assert result.counters.plans_made > 7
    assert result.counters.plans_failing_check == 0, policy.decisions.check_problems


def test_rule_based_baseline_runs_through_the_same_plant() -> None:
    result = replay(SITE, TRUTH, RuleBasedPolicy(SITE), START, START + pd.Timedelta(days=1))
    assert np.abs(energy_balance_error_kw(SITE, result.frame)).max() < BALANCE_TOL_KW
    assert result.counters.plans_made == 0
    assert result.adherence is None  # commits no schedule


def test_rule_based_with_a_forecaster_commits_the_rules_dispatch_and_pays_its_deviation() -> None:
    """A park without our controller still sends the market a schedule: the rules' dispatch
    of its day-ahead forecast. Its decisions are the real-time rules' all the same; the bill
    has the flow outside the schedule's band."""
    end = START + pd.Timedelta(days=1)
    plain = replay(SITE, TRUTH, RuleBasedPolicy(SITE), START, end)
    policy = RuleBasedPolicy(SITE, RefittingForecaster(SITE))
    committing = replay(SITE, TRUTH, policy, START, end)
    assert plain.kpis.deviation_cost_cny == 0.0
    decisions = [c for c in plain.frame.columns if c != pc.DEVIATION_OUTSIDE_BAND_KW]
    pd.testing.assert_frame_equal(committing.frame[decisions], plain.frame[decisions])
    # today's schedule was committed at start-up; tomorrow's at the gate
    first = policy.committed[START.normalize()]
    gate = START.normalize() + pd.Timedelta(hours=SITE.gate_time.hour)
    assert first.index[0] == START
    assert policy.committed[START.normalize() + pd.Timedelta(days=1)].index[0] == gate
    schedule = first.loc[committing.frame.index]
    committed = (schedule[pc.GRID_IMPORT_KW] - schedule[pc.GRID_EXPORT_KW]).to_numpy()
    actual = committing.frame[pc.GRID_IMPORT_KW] - committing.frame[pc.GRID_EXPORT_KW]
    band = np.maximum(
        DEFAULT_CONFIG.deviation_band_fraction * np.abs(committed),
        DEFAULT_CONFIG.deviation_band_min_kw,
    )
    outside = np.clip(np.abs(actual.to_numpy() - committed) - band, 0.0, None)
    np.testing.assert_allclose(
        committing.frame[pc.DEVIATION_OUTSIDE_BAND_KW].to_numpy(), outside, atol=1e-9
    )
    assert outside.sum() > 0.0  # a forecast is never exact
    assert committing.adherence is not None and committing.adherence.intervals_committed == 96


def test_a_policy_that_has_committed_nothing_yet_reports_no_committed_interval() -> None:
    policy = OptimiserPolicy(SITE, PrefetchingForecaster(SITE, TRUTH), INTRADAY_EVERY)
    index = pd.date_range(START, periods=3, freq="15min")
    actual = pd.DataFrame({pc.GRID_IMPORT_KW: [1.0, 2.0, 3.0], pc.GRID_EXPORT_KW: 0.0}, index)
    adherence = policy.adherence(actual)
    assert adherence.intervals_committed == 0
    assert np.isnan(adherence.share_within_band)
