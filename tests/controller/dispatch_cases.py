"""Small parks and forecasts with known optimal dispatch, for the planner's tests."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from sites import Site, columns, load_site_mapping
from sites.history.derive import load_history
from sites.history.series import expected_series

ZONE = "Asia/Shanghai"
SPRING_DAY = "2025-04-15"  # spring calendar: deep valley 10:00-15:00, peak 16:00-22:00
FLAT = 0.8
DEEP_VALLEY = 0.1


def flat_prices(deep_valley: float = FLAT) -> dict[str, float]:
    """Every band at FLAT except the deep valley."""
    prices = {b: FLAT for b in ("critical_peak", "peak", "flat", "valley")}
    prices["deep_valley"] = deep_valley
    return prices


def base_mapping() -> dict[str, Any]:
    """A 10 kV park: grid at bus ``pcc``, a feeder to bus ``feeder``; a 1 MW load at the
    grid bus, 2 MWp PV on the feeder, a 2 MWh / 500 kW battery at the grid bus."""
    return {
        "id": "tiny-park",
        "name": "Tiny park",
        "location": {"latitude": 36.5, "longitude": 116.0, "altitude_m": 30},
        "grid_connection": {
            "pcc_bus": "pcc",
            "voltage_kv": 10,
            "import_limit_kw": 10000,
            "export_limit_kw": 5000,
            "contracted_demand_kw": 5000,
        },
        "tariff": {
            "calendar": "shandong-2025",
            "band_prices_cny_per_kwh": flat_prices(),
            "demand_charge_cny_per_kw_month": 0.0,
            "export_price_cny_per_kwh": 0.4,
        },
        "assets": {
            "pv": [
                {
                    "name": "roof",
                    "bus": "feeder",
                    "peak_kw": 2000,
                    "tilt_deg": 15,
                    "azimuth_deg": 180,
                    "inverter_kva": 2000,
                }
            ],
            "batteries": [
                {
                    "name": "bess",
                    "bus": "pcc",
                    "capacity_kwh": 2000,
                    "charge_kw": 500,
                    "discharge_kw": 500,
                    "charge_efficiency": 0.95,
                    "discharge_efficiency": 0.95,
                    "soc_min_fraction": 0.1,
                    "soc_max_fraction": 0.95,
                    "initial_soc_fraction": 0.5,
                    "degradation_cost_cny_per_kwh": 0.02,
                }
            ],
            "electric_loads": [
                {"name": "plant", "bus": "pcc", "peak_kw": 2000, "annual_energy_mwh": 8000}
            ],
        },
        "network": {
            "buses": [{"name": "pcc", "vn_kv": 10}, {"name": "feeder", "vn_kv": 10}],
            "lines": [
                {
                    "name": "l_feeder",
                    "from_bus": "pcc",
                    "to_bus": "feeder",
                    "length_km": 0.5,
                    "r_ohm_per_km": 0.125,
                    "x_ohm_per_km": 0.1,
                    "c_nf_per_km": 0.0,
                    "max_i_ka": 0.4,
                }
            ],
        },
    }


def heat_mapping() -> dict[str, Any]:
    """``base_mapping`` without PV and battery, with a 60 degC heat demand served by a heat
    pump on a 40 degC waste-heat stream, an air-source heat pump and a gas boiler."""
    raw = base_mapping()
    raw["assets"]["pv"] = []
    raw["assets"]["batteries"] = []
    raw["assets"]["heat_demands"] = [
        {
            "name": "hot_water",
            "temperature_degc": 60,
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
            "max_kw_th": 500,
            "supply_temperature_degc": 40,
        }
    ]
    common = {"bus": "pcc", "electric_kw": 1000, "sink_temperature_degc": 65}
    raw["assets"]["heat_pumps"] = [
        {
            **common,
            "name": "hp_waste",
            "source": "cooling_water",
            "supplies": "hot_water",
            "carnot_quality": 0.5,
        },
        {
            **common,
            "name": "hp_air",
            "source": "ambient",
            "supplies": "hot_water",
            "carnot_quality": 0.5,
        },
    ]
    raw["assets"]["boilers"] = [
        {
            "name": "gas",
            "fuel": "gas",
            "supplies": "hot_water",
            "capacity_kw_th": 3000,
            "efficiency": 0.92,
            "fuel_price_cny_per_kwh": 0.37,
            "emission_factor_kg_per_kwh_fuel": 0.202,
        }
    ]
    return raw


def site_from(raw: dict[str, Any]) -> Site:
    return load_site_mapping(copy.deepcopy(raw), source="test")


def day_index(day: str = SPRING_DAY, periods: int = 96) -> pd.DatetimeIndex:
    return pd.date_range(day, periods=periods, freq="15min", tz=ZONE)


def forecast(site: Site, index: pd.DatetimeIndex, **series: float | np.ndarray) -> pd.DataFrame:
    """A P50 forecast frame: every expected series 0 (ambient 10 degC) unless given by
    column name without the _p50 suffix."""
    frame = pd.DataFrame(index=index)
    for column in expected_series(site):
        default = 10.0 if column == columns.AMBIENT_TEMPERATURE_DEGC else 0.0
        value = series.get(column, default)
        frame[columns.quantile(column, 50)] = np.broadcast_to(value, (len(index),)).astype(float)
    return frame


def history_forecast(site: Site, day: str) -> pd.DataFrame:
    """The bundled history of ``day`` as a perfect P50 forecast."""
    frame = load_history(site).frame.loc[day]
    return frame.rename(columns={c: columns.quantile(c, 50) for c in expected_series(site)})
