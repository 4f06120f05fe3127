"""Small parks whose optimal dispatch is known by hand."""

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
from controller.inputs.cop import KELVIN
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import PlanStatus
from network_models.verify import NetworkVerifier
from sites import columns

POWER_TOL_KW = 0.5  # solver tolerances scaled to kW rows, far below anything metered
ENERGY_TOL_KWH = 0.5
LINE_LIMIT_RTOL = 0.02
"""A binding line is planned to within 2 % of its rating: the linear flow model and the
polygon of its MVA circle are exact to about that; the AC check allows none above it."""
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
SPILL_TOL_KWH = DEFAULT_CONFIG.tolerances[Objective.RENEWABLES].absolute + ENERGY_TOL_KWH


def _midday_surplus(site_raw: dict, export_price: float) -> tuple:
    raw = base_mapping() if site_raw is None else site_raw
    raw["tariff"]["export_price_cny_per_kwh"] = export_price
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 10) & (hours < 14), 1800.0, 0.0)
    return site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=1000.0)


@pytest.mark.parametrize("export_price", [0.4, 5.0])
def test_surplus_pv_is_stored_not_exported_while_the_battery_has_room(export_price: float) -> None:
    # 800 kW surplus for 4 h (3.2 MWh) and an empty battery with room for 1.7 MWh: the
    # battery stores all it can take (1.7 / 0.95 MWh charged), only the rest is exported.
    # Even at an export price far above every import price (5 CNY/kWh, where cost alone
    # would export everything) the renewables tier stores first.
    site, fc = _midday_surplus(base_mapping(), export_price)
    empty = MeasuredState({"bess": 200.0}, month_peak_import_kw=1e6)
    result = plan(site, fc, empty)
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.status is PlanStatus.OPTIMAL
    frame = result.frame
    sunny = (fc["pv_roof_kw_p50"] > 0).to_numpy()
    charged = frame.loc[sunny, columns.battery_charge_kw("bess")].sum() * 0.25
    exported = frame[pc.GRID_EXPORT_KW].sum() * 0.25
    surplus = (frame[columns.pv_kw("roof")] - 1000.0 - frame[pc.NETWORK_LOSSES_KW]).clip(lower=0)
    # the renewables tier is held to its tolerance, which the cost tier may use (at 5 CNY/kWh
    # it does: SPILL_TOL_KWH more export)
    assert charged == pytest.approx((1900.0 - 200.0) / 0.95, abs=SPILL_TOL_KWH)
    assert exported == pytest.approx(surplus.sum() * 0.25 - charged, abs=ENERGY_TOL_KWH)
    assert frame[pc.pv_curtailed_kw("roof")].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    soc = frame[pc.battery_soc_kwh("bess")]
    assert soc[sunny].max() == pytest.approx(1900.0, abs=SPILL_TOL_KWH)
    assert frame.loc[~sunny, pc.GRID_EXPORT_KW].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)


def test_battery_charges_in_the_deep_valley() -> None:
    raw = base_mapping()
    raw["assets"]["pv"] = []
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(deep_valley=DEEP_VALLEY)
    site = site_from(raw)
    index = day_index()
    result = plan(site, forecast(site, index, load_plant_kw=1000.0), NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    charge = frame[columns.battery_charge_kw("bess")]
    deep = frame[pc.PRICE_BAND] == "deep_valley"
    # all charging in the deep valley (10:00-15:00), none elsewhere; from empty to full there
    assert charge[~deep].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert charge[deep].sum() * 0.25 == pytest.approx((1900 - 200) / 0.95, abs=ENERGY_TOL_KWH)
    soc = frame[pc.battery_soc_kwh("bess")]
    assert soc[deep].max() == pytest.approx(1900.0, abs=ENERGY_TOL_KWH)
    assert soc.iloc[-1] == pytest.approx(1000.0, abs=ENERGY_TOL_KWH)  # ends where it started


def _carnot(source_degc: float, sink_degc: float = 65.0, quality: float = 0.5) -> float:
    return quality * (sink_degc + KELVIN) / (sink_degc - source_degc)


def test_heat_pump_uses_warm_waste_heat_before_ambient_air() -> None:
    site = site_from(heat_mapping())
    index = day_index()
    fc = forecast(
        site,
        index,
        load_plant_kw=1000.0,
        heat_demand_hot_water_kw_th=1500.0,
        waste_heat_cooling_water_kw_th=500.0,
        ambient_temperature_degc=0.0,
    )
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    cop_waste, cop_air = _carnot(40.0), _carnot(0.0)
    assert frame[pc.heat_pump_cop("hp_waste")].to_numpy() == pytest.approx(cop_waste)
    assert frame[pc.heat_pump_cop("hp_air")].to_numpy() == pytest.approx(cop_air)
    # the waste-heat stream is the better source: all of it is used, never more
    used = frame[pc.waste_heat_to_heat_pump_kw_th("cooling_water")].to_numpy()
    assert used == pytest.approx(500.0, abs=POWER_TOL_KW)
    waste_heat = 500.0 * cop_waste / (cop_waste - 1)
    assert frame[pc.heat_pump_heat_kw_th("hp_waste")].to_numpy() == pytest.approx(
        waste_heat, abs=POWER_TOL_KW
    )
    # the rest from air (0.8 / 2.6 CNY per kWh_th beats gas at 0.37 / 0.92)
    assert frame[pc.heat_pump_heat_kw_th("hp_air")].to_numpy() == pytest.approx(
        1500.0 - waste_heat, abs=POWER_TOL_KW
    )
    assert frame[pc.boiler_heat_kw_th("gas")].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)


def test_hot_waste_heat_is_used_directly_and_never_beyond_what_is_available() -> None:
    raw = heat_mapping()
    raw["assets"]["waste_heat"][0]["supply_temperature_degc"] = 70  # hotter than the 60 degC demand
    raw["assets"]["heat_pumps"] = [
        hp for hp in raw["assets"]["heat_pumps"] if hp["name"] == "hp_air"
    ]
    site = site_from(raw)
    index = day_index()
    fc = forecast(
        site,
        index,
        load_plant_kw=1000.0,
        heat_demand_hot_water_kw_th=1500.0,
        waste_heat_cooling_water_kw_th=400.0,
    )
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    direct = result.frame[pc.waste_heat_direct_kw_th("cooling_water")].to_numpy()
    assert direct == pytest.approx(400.0, abs=POWER_TOL_KW)


def _line_limited(with_battery: bool) -> tuple:
    raw = base_mapping()
    raw["network"]["lines"][0]["max_i_ka"] = 0.1  # 1.73 MVA at 10 kV
    raw["grid_connection"]["export_limit_kw"] = 0
    raw["assets"]["electric_loads"][0]["peak_kw"] = 4000
    raw["assets"]["batteries"][0]["bus"] = "feeder"
    if not with_battery:
        raw["assets"]["batteries"] = []
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 10) & (hours < 13), 2000.0, 0.0)
    return site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=3000.0)


def test_binding_line_limit_curtails_exactly_the_excess() -> None:
    site, fc = _line_limited(with_battery=False)
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.metadata.network.ok
    frame = result.frame
    loading = NetworkVerifier(site).verify(frame).line_loading_percent["l_feeder"]
    sunny = fc["pv_roof_kw_p50"] > 0
    # curtailed to the line's limit: not above it, and not more than LINE_LIMIT_RTOL below
    assert loading[sunny].max() <= 100.0 + 1e-6
    assert loading[sunny].min() >= 100.0 * (1 - LINE_LIMIT_RTOL)
    curtailed = frame.loc[sunny, pc.pv_curtailed_kw("roof")]
    assert (curtailed > 100.0).all()
    assert any(
        "line l_feeder" in b.constraint or b.constraint == "network_limit" for b in result.binding
    )


def _sunny_line_loading(flow_margin: float) -> tuple[float, float, int]:
    """Lowest and highest AC loading of the binding line while the sun shines, and the AC
    tightening rounds the plan took, with flow rows ``flow_margin`` below the rating."""
    site, fc = _line_limited(with_battery=False)
    config = dataclasses.replace(DEFAULT_CONFIG, flow_margin_fraction=flow_margin)
    result = plan(site, fc, NO_DEMAND_CHARGE, config=config)
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.metadata.network.ok
    loading = NetworkVerifier(site).verify(result.frame).line_loading_percent["l_feeder"]
    sunny = loading[fc["pv_roof_kw_p50"] > 0]
    return float(sunny.min()), float(sunny.max()), result.metadata.ac_rounds


MARGIN_STEP_TOL_PERCENT = 0.05
"""Moving the margin by one point moves a binding line's AC loading by one point, up to the
linear model's error over so small a move (a few hundredths of a point on this feeder)."""


def test_flow_margin_holds_a_binding_line_that_share_below_its_rating() -> None:
    low, high, rounds = _sunny_line_loading(0.0)
    low_m, high_m, rounds_m = _sunny_line_loading(0.01)
    assert rounds == rounds_m == 0
    assert high_m == pytest.approx(high - 1.0, abs=MARGIN_STEP_TOL_PERCENT)
    assert low_m == pytest.approx(low - 1.0, abs=MARGIN_STEP_TOL_PERCENT)


def test_ac_check_tightens_a_line_the_flow_rows_let_over_its_rating() -> None:
    # a negative margin lets the rows carry the line 3 % over its rating: the AC check finds
    # it over, the line's rows are tightened by the error and re-solved, and the plan holds
    low, high, rounds = _sunny_line_loading(-0.03)
    assert rounds >= 1
    assert high <= 100.0 + 1e-6
    assert low >= 100.0 * (1 - LINE_LIMIT_RTOL)


def test_binding_line_limit_shifts_the_excess_into_the_battery() -> None:
    site, fc = _line_limited(with_battery=True)
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.metadata.network.ok
    frame = result.frame
    # the battery beside the PV takes the excess the line cannot carry: nothing curtailed
    assert frame[pc.pv_curtailed_kw("roof")].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    sunny = fc["pv_roof_kw_p50"] > 0
    assert frame.loc[sunny, columns.battery_charge_kw("bess")].min() > 100.0


LOAD_BAND_KW = 200.0  # the load's P90 above its P50 in the feeder test below


def _feeder_load_plan(scale: float) -> tuple[float, float]:
    """A 1,700 kW load (P90 1,900 kW) behind a 1.73 MVA feeder, with a battery beside it, the
    network margin ``scale`` forecast bands: the feeder's AC loading at the plan and when
    the load comes in at its P90 (highest over the day)."""
    raw = base_mapping()
    raw["network"]["lines"][0]["max_i_ka"] = 0.1  # 1.73 MVA at 10 kV
    raw["assets"]["electric_loads"][0]["bus"] = "feeder"
    raw["assets"]["electric_loads"][0]["peak_kw"] = 4000
    raw["assets"]["batteries"][0]["bus"] = "feeder"
    raw["assets"]["pv"] = []
    site = site_from(raw)
    index = day_index(periods=24)
    # 1,700 kW for 90 minutes (the battery holds 760 kWh it can give), then 800 kW for
    # four and a half hours to charge it back to its starting level
    load = np.where(np.arange(24) < 6, 1700.0, 800.0)
    fc = forecast(site, index, load_plant_kw=load)
    fc[columns.quantile(columns.load_kw("plant"), 90)] = load + LOAD_BAND_KW
    fc[columns.quantile(columns.load_kw("plant"), 10)] = load - LOAD_BAND_KW
    config = dataclasses.replace(DEFAULT_CONFIG, network_margin_scale=scale)
    result = plan(site, fc, NO_DEMAND_CHARGE, config=config)
    assert result.status is PlanStatus.OPTIMAL
    assert check_plan(site, result).ok, check_plan(site, result)
    verifier = NetworkVerifier(site)
    at_plan = verifier.verify(result.frame).line_loading_percent["l_feeder"]
    high = result.frame.assign(**{columns.load_kw("plant"): load + LOAD_BAND_KW})
    at_p90 = verifier.verify(high).line_loading_percent["l_feeder"]
    return float(at_plan.max()), float(at_p90.max())


def test_the_network_rows_keep_the_load_forecast_band_below_the_feeder_rating() -> None:
    """Planned at its P50 alone, the feeder runs at its limit and the load's P90 overloads
    it; with the band as margin, the battery discharges that much more and the feeder holds
    at the P90 too."""
    at_plan, at_p90 = _feeder_load_plan(0.0)
    assert at_plan == pytest.approx(100.0, abs=100.0 * LINE_LIMIT_RTOL)
    assert at_p90 > 105.0  # 200 kW on a 1.73 MVA feeder: about 11 points
    at_plan_m, at_p90_m = _feeder_load_plan(1.0)
    assert at_p90_m <= 100.0
    assert at_p90_m == pytest.approx(100.0, abs=100.0 * LINE_LIMIT_RTOL)
    assert at_plan_m < at_plan - 8.0
