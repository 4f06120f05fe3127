"""A cascade of heat pumps for heat hotter than one pump lifts: 140 degC steam from a
30 degC cooling-water stream, a low stage lifting it to an 80 degC loop and a high stage
from that loop to 145 degC. The optimum is known by hand: the stages' input split is fixed
by their COPs, and the cascade carries the steam exactly where its electricity per kWh_th
costs less than the gas boiler's heat."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller import columns as pc
from controller.config import DEFAULT_CONFIG, Objective
from controller.fallback.rules import fallback_dispatch
from controller.inputs.cop import KELVIN, cascade_cop, cascade_electric_per_heat
from controller.inputs.dispatch_inputs import prepare
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import PlanKind, PlanStatus
from sites import columns

NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
POWER_TOL_KW = 0.5  # solver tolerances scaled to kW rows, far below anything metered
STEAM_KW_TH = 1000.0
QUALITY = 0.5
COP_LOW = QUALITY * (80 + KELVIN) / (80 - 30)  # 3.53: 30 degC stream to the 80 degC loop
COP_HIGH = QUALITY * (145 + KELVIN) / (145 - 80)  # 3.22: 80 degC loop to 145 degC steam
GAS_CNY_PER_KWH_TH = 0.37 / 0.92  # the boiler's heat: 0.402 CNY/kWh_th
CASCADE_KWH_PER_KWH_TH = 1 / COP_HIGH + (COP_HIGH - 1) / (COP_HIGH * COP_LOW)  # 0.506
HEAT_SHIFT_KWH_TH = DEFAULT_CONFIG.tolerances[Objective.COST].absolute / (
    GAS_CNY_PER_KWH_TH - 0.5 * CASCADE_KWH_PER_KWH_TH
)
"""Heat the CO2 tier may move from the cascade to the boiler (gas emits less per kWh_th
than this grid's electricity does through the cascade) within the cost tier's 1 CNY."""


def cascade_mapping(price_cny_per_kwh: float) -> dict[str, Any]:
    """``base_mapping`` without PV and battery, every band at ``price_cny_per_kwh``: 140 degC
    steam from a cascade (1 MW each stage) on a 30 degC stream, or from a gas boiler."""
    raw = base_mapping()
    raw["assets"]["pv"] = []
    raw["assets"]["batteries"] = []
    raw["tariff"]["band_prices_cny_per_kwh"] = {
        b: price_cny_per_kwh for b in ("critical_peak", "peak", "flat", "valley", "deep_valley")
    }
    raw["assets"]["heat_demands"] = [
        {
            "name": "steam",
            "temperature_degc": 140,
            "peak_kw_th": 2000,
            "annual_energy_mwh_th": 5000,
            "process_share": 1.0,
            "space_heating_share": 0.0,
            "process_load": "plant",
        }
    ]
    raw["assets"]["waste_heat"] = [
        {
            "name": "cooling_water",
            "process_load": "plant",
            "heat_per_load_kw_th_per_kw": 0.5,
            "max_kw_th": 2000,
            "supply_temperature_degc": 30,
        }
    ]
    common = {"bus": "pcc", "electric_kw": 1000, "supplies": "steam", "carnot_quality": QUALITY}
    raw["assets"]["heat_pumps"] = [
        {**common, "name": "hp_high", "sink_temperature_degc": 145, "source": "hp_low"},
        {**common, "name": "hp_low", "sink_temperature_degc": 80, "source": "cooling_water"},
    ]
    raw["assets"]["boilers"] = [
        {
            "name": "gas",
            "fuel": "gas",
            "supplies": "steam",
            "capacity_kw_th": 3000,
            "efficiency": 0.92,
            "fuel_price_cny_per_kwh": 0.37,
            "emission_factor_kg_per_kwh_fuel": 0.202,
        }
    ]
    return raw


def _forecast(site: Any) -> Any:
    return forecast(
        site,
        day_index(),
        load_plant_kw=1000.0,
        heat_demand_steam_kw_th=STEAM_KW_TH,
        waste_heat_cooling_water_kw_th=2000.0,
    )


def test_the_closed_form_of_a_cascade() -> None:
    low, high = np.array(COP_LOW), np.array(COP_HIGH)
    per_heat = cascade_electric_per_heat([high, low])
    assert per_heat[0] == pytest.approx(1 / COP_HIGH)
    assert per_heat[1] == pytest.approx((COP_HIGH - 1) / (COP_HIGH * COP_LOW))
    assert cascade_cop([high, low]) == pytest.approx(1 / CASCADE_KWH_PER_KWH_TH)
    # energy: what the steam gets is the input of both stages and the stream's heat
    stream = (COP_LOW - 1) * per_heat[1]
    assert float(per_heat[0] + per_heat[1] + stream) == pytest.approx(1.0)


def test_the_cascade_carries_the_steam_where_its_electricity_costs_less_than_gas() -> None:
    # 0.5 CNY/kWh x 0.506 kWh/kWh_th = 0.253 CNY/kWh_th, below gas at 0.402: all steam from
    # the cascade, the stages' input split (COP_high - 1) / COP_low : 1
    site = site_from(cascade_mapping(0.5))
    result = plan(site, _forecast(site), NO_DEMAND_CHARGE)
    report = check_plan(site, result)
    assert report.ok, report
    assert result.status is PlanStatus.OPTIMAL
    frame = result.frame
    assert frame[pc.heat_pump_cop("hp_low")].to_numpy() == pytest.approx(COP_LOW)
    assert frame[pc.heat_pump_cop("hp_high")].to_numpy() == pytest.approx(COP_HIGH)
    high = frame[columns.heat_pump_kw("hp_high")].to_numpy()
    low = frame[columns.heat_pump_kw("hp_low")].to_numpy()
    # the cascade balance holds in every interval: all the low stage's heat to the high one
    assert low * COP_LOW == pytest.approx(high * (COP_HIGH - 1), abs=POWER_TOL_KW)
    assert frame[pc.heat_pump_to_stage_kw_th("hp_low")].to_numpy() == pytest.approx(
        low * COP_LOW, abs=POWER_TOL_KW
    )
    # only the high stage's heat reaches the steam: not counted twice
    assert frame[pc.heat_pump_heat_kw_th("hp_low")].to_numpy() == pytest.approx(0.0)
    boiler = frame[pc.boiler_heat_kw_th("gas")].to_numpy()
    delivered = frame[pc.heat_pump_heat_kw_th("hp_high")].to_numpy()
    assert delivered + boiler == pytest.approx(STEAM_KW_TH, abs=POWER_TOL_KW)
    assert boiler.sum() * 0.25 <= HEAT_SHIFT_KWH_TH + POWER_TOL_KW
    running = high > 1.0
    assert running.sum() >= len(frame) - 1  # the CO2 tier moves at most one interval's worth
    ratio = low[running] / high[running]
    assert ratio == pytest.approx((COP_HIGH - 1) / COP_LOW, rel=1e-4)
    # the low stage draws the stream for its source, nothing else does
    stream = frame[pc.waste_heat_to_heat_pump_kw_th("cooling_water")].to_numpy()
    assert stream == pytest.approx((COP_LOW - 1) * low, abs=POWER_TOL_KW)
    total = high + low
    expected = delivered * CASCADE_KWH_PER_KWH_TH
    assert total == pytest.approx(expected, abs=POWER_TOL_KW)


def test_the_cascade_stays_off_where_its_electricity_costs_more_than_gas() -> None:
    # 1.2 CNY/kWh x 0.506 = 0.607 CNY/kWh_th, above gas at 0.402: all steam from the boiler
    site = site_from(cascade_mapping(1.2))
    result = plan(site, _forecast(site), NO_DEMAND_CHARGE)
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    for pump in ("hp_high", "hp_low"):
        assert frame[columns.heat_pump_kw(pump)].to_numpy() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert frame[pc.boiler_heat_kw_th("gas")].to_numpy() == pytest.approx(
        STEAM_KW_TH, abs=POWER_TOL_KW
    )


def test_a_small_low_stage_limits_the_cascade() -> None:
    # a 100 kW low stage gives at most 353 kW_th to the loop: the high stage lifts that and
    # its own 100 / (COP_high - 1) x COP_high... : at most 353 x COP_high / (COP_high - 1)
    # kW_th of steam; the boiler gives the rest
    raw = cascade_mapping(0.5)
    raw["assets"]["heat_pumps"][1]["electric_kw"] = 100
    site = site_from(raw)
    result = plan(site, _forecast(site), NO_DEMAND_CHARGE)
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    most = 100 * COP_LOW * COP_HIGH / (COP_HIGH - 1)
    assert frame[columns.heat_pump_kw("hp_low")].to_numpy() == pytest.approx(
        100.0, abs=POWER_TOL_KW
    )
    assert frame[pc.heat_pump_heat_kw_th("hp_high")].to_numpy() == pytest.approx(
        most, abs=POWER_TOL_KW
    )
    assert frame[pc.boiler_heat_kw_th("gas")].to_numpy() == pytest.approx(
        STEAM_KW_TH - most, abs=POWER_TOL_KW
    )


def test_the_fallback_runs_a_cascade_as_one_unit_and_its_plan_passes_the_check() -> None:
    # the rules serve the steam from the cascade at its combined COP (it is the steam's only
    # heat pump): 1000 kW_th x 0.506 kWh/kWh_th of input, split by the closed form
    site = site_from(cascade_mapping(0.5))
    fc = _forecast(site)
    inputs = prepare(site, fc, NO_DEMAND_CHARGE, PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
    d = fallback_dispatch(site, inputs)
    high, low = d.heat_pump_kw[0], d.heat_pump_kw[1]
    assert high + low == pytest.approx(STEAM_KW_TH * CASCADE_KWH_PER_KWH_TH)
    assert high == pytest.approx(STEAM_KW_TH / COP_HIGH)
    assert low * COP_LOW == pytest.approx(high * (COP_HIGH - 1))
    assert d.heat_pump_heat_kw_th[0] == pytest.approx(STEAM_KW_TH)
    assert d.heat_pump_heat_kw_th[1] == pytest.approx(0.0)
    assert d.waste_heat_to_heat_pump_kw_th[0] == pytest.approx((COP_LOW - 1) * low)
    assert d.boiler_heat_kw_th[0] == pytest.approx(0.0)

    def _raising(highs: Any) -> None:
        raise RuntimeError("injected solver failure")

    result = plan(site, fc, NO_DEMAND_CHARGE, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(site, result)
    assert report.ok, report


def test_the_fallback_keeps_each_stage_within_its_rating() -> None:
    # a 100 kW low stage limits the cascade to 100 / per_heat_low kW_th of steam
    raw = cascade_mapping(0.5)
    raw["assets"]["heat_pumps"][1]["electric_kw"] = 100
    site = site_from(raw)
    inputs = prepare(site, _forecast(site), NO_DEMAND_CHARGE, PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
    d = fallback_dispatch(site, inputs)
    most = 100 * COP_LOW * COP_HIGH / (COP_HIGH - 1)
    assert d.heat_pump_kw[1] == pytest.approx(100.0)
    assert d.heat_pump_heat_kw_th[0] == pytest.approx(most)
    assert d.boiler_heat_kw_th[0] == pytest.approx(STEAM_KW_TH - most)


def test_the_check_finds_a_cascade_whose_stages_do_not_balance() -> None:
    # the low stage 10 kW above the balance (its heat to the loop raised with it, so that
    # only the cascade's balance breaks): 35 kW_th more than the high stage takes, far
    # above the check's 0.05 kW
    site = site_from(cascade_mapping(0.5))
    result = plan(site, _forecast(site), NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok
    frame = result.frame.copy()
    frame[columns.heat_pump_kw("hp_low")] += 10.0
    frame[pc.heat_pump_to_stage_kw_th("hp_low")] += 10.0 * COP_LOW
    broken = dataclasses.replace(result, _frame=frame)
    problems = [p for p in check_plan(site, broken).problems if "cascade" in p]
    assert len(problems) == 1
    assert "heat pump cascade hp_low -> hp_high" in problems[0]
    # and a low stage that also counts its heat at the demand is counted twice: found
    frame = result.frame.copy()
    frame[pc.heat_pump_heat_kw_th("hp_low")] = frame[pc.heat_pump_to_stage_kw_th("hp_low")]
    doubled = dataclasses.replace(result, _frame=frame)
    assert any("hp_low (a lower stage)" in p for p in check_plan(site, doubled).problems)
