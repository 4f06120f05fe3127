"""``check_plan`` holds physics whatever a plan relaxed: storage levels within [0, capacity],
power within ratings, and no interval that imports and exports at once.

Each case takes a real RELAXED plan (a measured SoC outside its window, so the window's limits
are named as relaxed) and breaks one physical rule in its frame.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from dispatch_cases import (
    DEEP_VALLEY,
    base_mapping,
    day_index,
    flat_prices,
    forecast,
    heat_mapping,
    site_from,
)

from controller import columns as pc
from controller.config import DEFAULT_CONFIG, Objective
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import Plan, PlanStatus
from sites import Site

BEYOND_KWH = 14.0  # well above the checker's 0.05 kWh tolerance
COST_ATOL_CNY = 0.01  # the KPIs and this sum add the same products in another order


@pytest.fixture(scope="module")
def relaxed() -> tuple[Site, Plan]:
    raw = base_mapping()
    raw["assets"]["batteries"][0]["discharge_kw"] = 100  # 25 kWh a quarter hour at most
    site = site_from(raw)
    # 2,000 kWh measured in a 2,000 kWh battery whose window ends at 1,900 kWh: the first
    # intervals are above the window whatever the plan does
    result = plan(
        site, forecast(site, day_index(), load_plant_kw=1000.0), MeasuredState({"bess": 2000.0})
    )
    assert result.status is PlanStatus.RELAXED
    assert any(r.constraint.startswith("battery_soc_max") for r in result.relaxations)
    assert check_plan(site, result).ok, check_plan(site, result)
    return site, result


def with_frame(result: Plan, frame: object) -> Plan:
    return dataclasses.replace(result, _frame=frame)


def test_the_relaxed_plan_stays_within_capacity(relaxed: tuple[Site, Plan]) -> None:
    site, result = relaxed
    (battery,) = site.assets.batteries
    soc = result.frame[pc.battery_soc_kwh(battery.name)]
    assert soc.max() <= battery.capacity_kwh and soc.min() >= 0.0
    assert soc.iloc[0] > battery.soc_max_kwh  # the window did give way


def test_a_level_above_capacity_is_rejected_even_where_the_window_was_relaxed(
    relaxed: tuple[Site, Plan],
) -> None:
    site, result = relaxed
    (battery,) = site.assets.batteries
    frame = result.frame
    column = pc.battery_soc_kwh(battery.name)
    frame[column] = frame[column] + (battery.capacity_kwh + BEYOND_KWH - frame[column].max())
    report = check_plan(site, with_frame(result, frame))
    assert any(p.startswith("battery_capacity[bess]: 2014 above 2000") for p in report.problems)


def test_trading_both_ways_in_one_interval_is_rejected(relaxed: tuple[Site, Plan]) -> None:
    site, result = relaxed
    frame = result.frame
    both_kw = 100.0  # the same 100 kW more in and out: the balance still holds
    frame.iloc[40, frame.columns.get_loc(pc.GRID_IMPORT_KW)] += both_kw
    frame.iloc[40, frame.columns.get_loc(pc.GRID_EXPORT_KW)] += both_kw
    report = check_plan(site, with_frame(result, frame))
    assert [p for p in report.problems if "both ways" in p] == [
        f"grid_import_and_export_at_once (kW both ways): {both_kw:g} above 0 at "
        f"{frame.index[40]} (1 interval(s))"
    ]


def with_tank() -> Site:
    raw = heat_mapping()
    raw["assets"]["thermal_storage"] = [
        {
            "name": "tank",
            "supplies": "hot_water",
            "capacity_kwh_th": 3000,
            "charge_kw_th": 1000,
            "discharge_kw_th": 1000,
            "standing_loss_fraction_per_hour": 0.005,
            "temperature_degc": 90,
        }
    ]
    return site_from(raw)


def test_a_tank_above_its_capacity_is_rejected() -> None:
    site = with_tank()
    (tank,) = site.assets.thermal_storage
    fc = forecast(
        site,
        day_index(),
        load_plant_kw=1000.0,
        heat_demand_hot_water_kw_th=1500.0,
        waste_heat_cooling_water_kw_th=500.0,
    )
    result = plan(site, fc)
    assert check_plan(site, result).ok, check_plan(site, result)
    column = pc.thermal_storage_level_kwh_th(tank.name)
    frame = result.frame
    frame[column] = tank.capacity_kwh_th + BEYOND_KWH
    report = check_plan(site, with_frame(result, frame))
    assert any(p.startswith(f"storage_capacity[{tank.name}]") for p in report.problems)


def test_a_measured_tank_level_above_capacity_is_clipped_and_reported() -> None:
    site = with_tank()
    (tank,) = site.assets.thermal_storage
    fc = forecast(
        site,
        day_index(),
        load_plant_kw=1000.0,
        heat_demand_hot_water_kw_th=1500.0,
        waste_heat_cooling_water_kw_th=500.0,
    )
    above = tank.capacity_kwh_th * 1.2
    result = plan(site, fc, MeasuredState({}, {tank.name: above}))
    level = result.frame[pc.thermal_storage_level_kwh_th(tank.name)]
    assert level.max() <= tank.capacity_kwh_th
    assert result.metadata.initial_storage_level_kwh_th[tank.name] == tank.capacity_kwh_th
    assert any("clipped" in str(r) for r in result.relaxations)
    assert check_plan(site, result).ok, check_plan(site, result)


def test_a_cost_only_plan_with_export_dearer_than_import_never_trades_both_ways() -> None:
    """Deep valley at 0.1 CNY/kWh, export at 0.4: the LP imports and exports at once for the
    difference (it books the export revenue of the connection's full export limit); the plan
    books one direction per interval, and its bill is that of the net flow."""
    raw = base_mapping()
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(deep_valley=DEEP_VALLEY)
    site = site_from(raw)
    assert site.tariff.export_price_cny_per_kwh > DEEP_VALLEY
    config = dataclasses.replace(
        DEFAULT_CONFIG, priority=(Objective.COST,), enforce_policy_targets=False
    )
    result = plan(site, forecast(site, day_index(), load_plant_kw=300.0), config=config)
    frame = result.frame
    both = np.minimum(frame[pc.GRID_IMPORT_KW], frame[pc.GRID_EXPORT_KW])
    assert both.max() == 0.0  # netted exactly, not to a tolerance
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.metadata.objective_terms["export_revenue_cny"] > 0  # what the LP booked
    assert result.kpis.export_revenue_cny == 0.0  # no renewables here: nothing to sell
    bill = (
        frame[pc.GRID_IMPORT_KW] * frame[pc.PRICE_CNY_PER_KWH]
        - frame[pc.GRID_EXPORT_KW] * frame[pc.EXPORT_PRICE_CNY_PER_KWH]
    ).sum() * 0.25
    assert result.kpis.energy_cost_cny - result.kpis.export_revenue_cny == pytest.approx(
        bill, abs=COST_ATOL_CNY
    )
