"""Never without a plan: infeasible inputs give RELAXED plans that name what gave way; a
solver failure gives a FALLBACK plan within every hard limit; bad data is repaired and
reported, not raised."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from dispatch_cases import base_mapping, day_index, forecast, heat_mapping, site_from

from controller import columns as pc
from controller.config import DEFAULT_CONFIG
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import Plan, PlanStatus
from sites import columns

POWER_TOL_KW = 0.5
ENERGY_TOL_KWH = 0.5


def _named(result: Plan, constraint: str) -> list:
    return [r for r in result.relaxations if r.constraint.startswith(constraint)]


def test_heat_demand_no_asset_can_meet_is_relaxed_and_named() -> None:
    raw = heat_mapping()
    raw["assets"]["boilers"][0]["capacity_kw_th"] = 200  # far below the 1.5 MW demand
    site = site_from(raw)
    fc = forecast(
        site,
        day_index(),
        load_plant_kw=1000.0,
        heat_demand_hot_water_kw_th=4000.0,
        waste_heat_cooling_water_kw_th=500.0,
    )
    result = plan(site, fc)
    assert result.status is PlanStatus.RELAXED
    assert check_plan(site, result).ok, check_plan(site, result)
    unmet = _named(result, "heat_unmet[hot_water]")
    assert len(unmet) == 1 and len(unmet[0].intervals) == 96
    # most the assets can give: both heat pumps at 1 MW electric (waste-heat source capped),
    # and the boiler at 200 kW_th
    frame = result.frame
    served = 4000.0 - frame[pc.heat_unmet_kw_th("hot_water")]
    assert unmet[0].amount == pytest.approx((4000.0 - served).max(), abs=POWER_TOL_KW)
    assert "hot_water" in str(unmet[0])


def test_soc_outside_its_window_is_relaxed_and_named() -> None:
    site = site_from(base_mapping())
    fc = forecast(site, day_index(), load_plant_kw=1000.0)
    result = plan(site, fc, MeasuredState({"bess": 50.0}))  # window starts at 200 kWh
    assert result.status is PlanStatus.RELAXED
    assert check_plan(site, result).ok, check_plan(site, result)
    low = _named(result, "battery_soc_min[bess]")
    assert low and low[0].amount == pytest.approx(150.0 - 0.95 * 500 * 0.25, abs=ENERGY_TOL_KWH)
    assert low[0].intervals[0] == fc.index[0]
    # it is brought back into the window at full charging power
    assert result.frame[columns.battery_charge_kw("bess")].iloc[0] == pytest.approx(
        500.0, abs=POWER_TOL_KW
    )


def test_import_limit_below_the_load_is_relaxed_and_named() -> None:
    raw = base_mapping()
    raw["grid_connection"]["import_limit_kw"] = 800
    raw["assets"]["batteries"] = []
    raw["assets"]["pv"] = []
    site = site_from(raw)
    fc = forecast(site, day_index(), load_plant_kw=1000.0)
    result = plan(site, fc)
    assert result.status is PlanStatus.RELAXED
    assert check_plan(site, result).ok, check_plan(site, result)
    over = _named(result, "grid_import_limit")
    assert over and over[0].amount == pytest.approx(200.0, abs=5.0)  # + network losses
    assert len(over[0].intervals) == 96


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


@pytest.mark.parametrize("how", ["raises", "zero_time_limit"])
def test_solver_failure_gives_a_fallback_plan_within_hard_limits(
    how: str,
) -> None:
    site = site_from(base_mapping())
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 9) & (hours < 15), 1900.0, 0.0)
    fc = forecast(site, index, pv_roof_kw=pv, load_plant_kw=800.0)
    if how == "raises":
        result = plan(site, fc, run=_raising)
    else:
        config = dataclasses.replace(DEFAULT_CONFIG, time_limit_s=0.0, warm_start=False)
        result = plan(site, fc, config=config)
    assert result.status is PlanStatus.FALLBACK
    assert any("solver failed" in note for note in result.metadata.notes)
    report = check_plan(site, result)
    assert report.ok, report
    assert result.relaxations == ()  # every hard limit held
    frame = result.frame
    assert frame[pc.GRID_IMPORT_KW].max() <= 10000 + POWER_TOL_KW
    assert frame[pc.GRID_EXPORT_KW].max() <= 5000 + POWER_TOL_KW
    soc = frame[pc.battery_soc_kwh("bess")]
    assert soc.min() >= 200 - ENERGY_TOL_KWH and soc.max() <= 1900 + ENERGY_TOL_KWH
    assert result.metadata.network.ok
    # self-consumption first: while anything is exported the battery charges at full power
    # or is full
    exporting = frame[pc.GRID_EXPORT_KW] > POWER_TOL_KW
    assert exporting.any()
    charge = frame.loc[exporting, columns.battery_charge_kw("bess")]
    full = soc[exporting] >= 1900 - ENERGY_TOL_KWH
    assert ((charge >= 500 - POWER_TOL_KW) | full).all()


def test_bad_forecast_data_is_repaired_and_reported_not_raised() -> None:
    site = site_from(base_mapping())
    fc = forecast(site, day_index(), pv_roof_kw=500.0, load_plant_kw=1000.0)
    fc.iloc[10:14, fc.columns.get_loc("load_plant_kw_p50")] = np.nan
    fc.iloc[20, fc.columns.get_loc("pv_roof_kw_p50")] = -50.0
    fc = fc.drop(columns=["ambient_temperature_degc_p50"])
    result = plan(site, fc)
    assert result.status is PlanStatus.RELAXED
    assert check_plan(site, result).ok, check_plan(site, result)
    details = " ".join(r.detail for r in result.relaxations if r.constraint == "data")
    assert "load_plant_kw_p50 has 4 missing" in details
    assert "negative" in details and "ambient_temperature_degc_p50" in details
    assert result.frame[columns.load_kw("plant")].iloc[11] == pytest.approx(1000.0)


def test_forecast_without_time_zone_or_rows_gives_a_plan() -> None:
    site = site_from(base_mapping())
    fc = forecast(site, day_index(), load_plant_kw=1000.0)
    naive = fc.tz_localize(None)
    result = plan(site, naive)
    assert result.status is PlanStatus.RELAXED
    assert result.index.tz is not None and len(result.index) == 96
    empty = plan(site, fc.iloc[0:0])
    assert empty.status is PlanStatus.FALLBACK and len(empty.frame) == 0


def test_policy_targets_hold_where_feasible_and_are_reported_where_not() -> None:
    # 1.9 MW of PV for 8 h on a 300 kW load, no battery: 84 % of it cannot be used on site.
    raw = base_mapping()
    raw["assets"]["batteries"] = []
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 8) & (hours < 16), 1900.0, 0.0)
    result = plan(site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=300.0))
    assert result.status is PlanStatus.RELAXED
    assert check_plan(site, result).ok, check_plan(site, result)
    k = result.kpis
    assert k.export_ratio <= 0.20 + 1e-6  # held: the rest is curtailed, not exported
    assert k.export_ratio == pytest.approx(0.20, abs=1e-4)  # and exported up to it
    shortfall = _named(result, "self_consumption_target")
    assert len(shortfall) == 1 and not k.meets_self_consumption_target
    spill = k.curtailed_kwh + k.export_kwh
    assert shortfall[0].amount == pytest.approx(spill - 0.4 * k.renewable_available_kwh, abs=1.0)
