"""The forecast errors the network rows keep a margin for: loads, renewables, and heat
demands as the electric draw of the source the plant would meet them with."""

from __future__ import annotations

import numpy as np
import pytest
from dispatch_cases import day_index, forecast, heat_mapping, site_from

from controller.config import DEFAULT_CONFIG
from controller.inputs.cop import heat_pump_cop
from controller.inputs.dispatch_inputs import prepare
from controller.inputs.state import MeasuredState
from controller.plans.plan import PlanKind
from sites import columns

HEAT_BAND_KW_TH = 100.0
AMBIENT_DEGC = 10.0  # the forecast helper's default ambient temperature


def _errors(raw: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    site = site_from(raw)
    index = day_index(periods=4)
    fc = forecast(site, index, heat_demand_hot_water_kw_th=1000.0, load_plant_kw=500.0)
    demand = columns.heat_demand_kw_th("hot_water")
    fc[columns.quantile(demand, 90)] = 1000.0 + HEAT_BAND_KW_TH
    fc[columns.quantile(demand, 10)] = 1000.0 - HEAT_BAND_KW_TH
    inputs = prepare(site, fc, MeasuredState(), PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
    return inputs.forecast_error_kw


def test_a_heat_demand_enters_as_its_least_efficient_heat_pump_s_draw() -> None:
    """Gas boiler, a waste-heat pump (40 degC source) and an air-source pump (10 degC): heat
    above plan costs the air-source pump the most electricity per kWh_th."""
    raw = heat_mapping()
    errors = _errors(raw)
    air = next(hp for hp in site_from(raw).assets.heat_pumps if hp.name == "hp_air")
    cop = heat_pump_cop(air, np.full(4, AMBIENT_DEGC))
    above, below = errors[columns.heat_pump_kw("hp_air")]
    np.testing.assert_allclose(above, HEAT_BAND_KW_TH / cop)
    np.testing.assert_allclose(below, HEAT_BAND_KW_TH / cop)
    assert columns.heat_pump_kw("hp_waste") not in errors


def test_an_electric_boiler_draws_the_most_and_carries_the_demand_s_band() -> None:
    raw = heat_mapping()
    raw["assets"]["boilers"].append(
        {
            "name": "e_boiler",
            "fuel": "electric",
            "bus": "pcc",
            "supplies": "hot_water",
            "capacity_kw_th": 1000,
            "efficiency": 0.98,
            "fuel_price_cny_per_kwh": 0,
            "emission_factor_kg_per_kwh_fuel": 0,
        }
    )
    above, _ = _errors(raw)[columns.boiler_kw("e_boiler")]
    assert above == pytest.approx(np.full(4, HEAT_BAND_KW_TH / 0.98))
