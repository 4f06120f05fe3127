"""Intraday re-planning against the committed day-ahead schedule, and re-solving the
compiled problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller import columns as pc
from controller.config import DEFAULT_CONFIG
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import PlanKind, PlanStatus
from controller.solver.cache import ModelCache

BAND_TOL_KW = 0.5


def _day() -> tuple:
    site = site_from(base_mapping())
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.clip(1800 * np.sin(np.pi * (hours - 6) / 12), 0, None)
    load = 900 + 300 * ((hours >= 8) & (hours < 20))
    return site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=load)


def _state_after(site_plan: pd.DataFrame, at: pd.Timestamp) -> MeasuredState:
    before = site_plan[site_plan.index < at]
    return MeasuredState(
        {"bess": float(before[pc.battery_soc_kwh("bess")].iloc[-1])},
        month_peak_import_kw=float(before[pc.GRID_IMPORT_KW].max()),
    )


def test_intraday_plan_keeps_the_committed_schedule_when_nothing_changed() -> None:
    site, fc = _day()
    day_ahead = plan(site, fc)
    at = fc.index[48]
    result = plan(
        site, fc.iloc[48:], _state_after(day_ahead.frame, at), PlanKind.INTRADAY, day_ahead
    )
    assert result.kind is PlanKind.INTRADAY and result.status is PlanStatus.OPTIMAL
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    committed = frame[pc.committed_import_kw()] - frame[pc.committed_export_kw()]
    planned = frame[pc.GRID_IMPORT_KW] - frame[pc.GRID_EXPORT_KW]
    band = np.maximum(
        DEFAULT_CONFIG.deviation_band_fraction * committed.abs(),
        DEFAULT_CONFIG.deviation_band_min_kw,
    )
    assert ((planned - committed).abs() <= band + BAND_TOL_KW).all()
    assert result.metadata.objective_terms.get("deviation_cny", 0.0) == pytest.approx(0.0, abs=1e-6)
    schedule = day_ahead.connection_schedule(fc.index[0].date())
    assert list(schedule.columns) == [pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW] and len(schedule) == 96


def test_intraday_deviates_only_as_far_as_a_changed_forecast_forces() -> None:
    site, fc = _day()
    day_ahead = plan(site, fc)
    at = fc.index[64]  # 16:00, after the sun: the battery has what it stored
    changed = fc.iloc[64:].copy()
    changed["load_plant_kw_p50"] += 1500.0  # an unexpected 1.5 MW for the evening
    state = _state_after(day_ahead.frame, at)
    result = plan(site, changed, state, PlanKind.INTRADAY, day_ahead)
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    committed = frame[pc.committed_import_kw()] - frame[pc.committed_export_kw()]
    deviation = (frame[pc.GRID_IMPORT_KW] - frame[pc.GRID_EXPORT_KW] - committed).clip(lower=0)
    band = np.maximum(
        DEFAULT_CONFIG.deviation_band_fraction * committed.abs(),
        DEFAULT_CONFIG.deviation_band_min_kw,
    )
    # the battery covers what it can (500 kW, its stored energy), the grid the rest
    excess = (deviation - band).clip(lower=0)
    battery_energy = (state.battery_soc_kwh["bess"] - 200.0) * 0.95
    expected = 1500.0 * len(frame) * 0.25 - battery_energy
    assert excess.sum() * 0.25 <= expected + 1.0
    assert frame["battery_bess_discharge_kw"].sum() * 0.25 > 0.5 * battery_energy


def test_one_compiled_problem_serves_every_step_of_a_bucket() -> None:
    site, fc = _day()
    cache = ModelCache()
    day_ahead = plan(site, fc, cache=cache)
    for step in (50, 51, 52, 53):  # 46..43 intervals: one 48-interval bucket
        state = _state_after(day_ahead.frame, fc.index[step])
        result = plan(site, fc.iloc[step:], state, PlanKind.INTRADAY, day_ahead, cache=cache)
        assert check_plan(site, result).ok
        assert len(result.frame) == 96 - step
    assert len(cache._entries) == 2  # the day-ahead problem and one intraday problem


def test_settings_that_only_scale_data_share_one_compiled_problem() -> None:
    site, fc = _day()
    cache = ModelCache()
    for share, margin in ((1.0, 1.0), (0.25, 1.0), (1.0, 0.0)):
        config = dataclasses.replace(
            DEFAULT_CONFIG, demand_charge_share=share, peak_margin_scale=margin
        )
        assert plan(site, fc, config=config, cache=cache).status is PlanStatus.OPTIMAL
    assert len(cache._entries) == 1
    plan(
        site, fc, config=dataclasses.replace(DEFAULT_CONFIG, storage_cycle_weight=0.2), cache=cache
    )
    assert len(cache._entries) == 2  # a weight in the objective is structure


def test_plan_is_immutable() -> None:
    site, fc = _day()
    result = plan(site, fc)
    frame = result.frame
    frame.iloc[0, 0] = -1.0
    assert result.frame.iloc[0, 0] != -1.0
    with pytest.raises(AttributeError):
        result.metadata = result.metadata  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.metadata.objective_terms["cost_cny"] = 0.0  # type: ignore[index]
    result.frame[pc.GRID_IMPORT_KW].to_numpy()[0] = -1.0
    assert result.frame[pc.GRID_IMPORT_KW].iloc[0] != -1.0


def test_same_inputs_same_hash_and_no_caller_data_mutated() -> None:
    site, fc = _day()
    before = fc.copy()
    first, second = plan(site, fc), plan(site, fc)
    pd.testing.assert_frame_equal(fc, before)
    assert first.metadata.input_hash == second.metadata.input_hash
    other = plan(site, fc.assign(load_plant_kw_p50=fc["load_plant_kw_p50"] + 1))
    assert other.metadata.input_hash != first.metadata.input_hash


def test_every_stage_problem_of_every_bundled_park_is_dpp() -> None:
    from controller.config import DEFAULT_CONFIG
    from controller.network.linear import network_for
    from controller.solver.cache import ModelCache
    from sites import bundled_sites

    cache = ModelCache()
    for site in bundled_sites():
        linear, _ = network_for(site)
        rows = tuple(int(r) for r in np.flatnonzero(linear.screened))
        for kind in PlanKind:
            entry = cache.get(site, 96, kind, DEFAULT_CONFIG, linear, rows)
            assert all(stage.problem.is_dpp() for stage in entry.model.stages)
            assert [s.tier.value for s in entry.model.stages] == ["renewable_spill_kwh", "cost_cny"]


SIMULTANEOUS_TOL_KW = 1e-3  # solver round-off; a burnt kW is a thousand times that


def test_no_simultaneous_charge_and_discharge_when_export_pays_more_and_the_band_binds() -> None:
    """Export dearer than import and a committed schedule that asks for far more import
    than the park needs: reaching the band's edge by burning energy in the battery (charge
    and discharge at once, which the plant cannot do) is worth less than it costs."""
    raw = base_mapping()
    raw["tariff"]["export_price_cny_per_kwh"] = 1.2  # above every import price (0.8)
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.clip(1800 * np.sin(np.pi * (hours - 6) / 12), 0, None)
    fc = forecast(site, index, pv_roof_kw=pv, load_plant_kw=np.full(96, 900.0))
    day_ahead = plan(site, fc)
    committed = day_ahead.frame.copy()
    committed[pc.GRID_IMPORT_KW] += 2500.0  # the utility holds 2.5 MW more import
    at = fc.index[32]
    result = plan(
        site, fc.iloc[32:], _state_after(day_ahead.frame, at), PlanKind.INTRADAY, committed
    )
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    planned = frame[pc.GRID_IMPORT_KW] - frame[pc.GRID_EXPORT_KW]
    held = frame[pc.committed_import_kw()] - frame[pc.committed_export_kw()]
    assert (held - planned > 1000.0).any()  # the band binds: the plan stays far below it
    both = np.minimum(frame["battery_bess_charge_kw"], frame["battery_bess_discharge_kw"])
    assert both.max() <= SIMULTANEOUS_TOL_KW
    both_grid = np.minimum(frame[pc.GRID_IMPORT_KW], frame[pc.GRID_EXPORT_KW])
    assert both_grid.max() <= SIMULTANEOUS_TOL_KW
