"""Column names of time series, one function per kind, so every package spells them alike.

Units are in the names (kW, kW_th, degC); each column is non-negative where it is a flow.
"""

from __future__ import annotations

AMBIENT_TEMPERATURE_DEGC = "ambient_temperature_degc"


def pv_kw(name: str) -> str:
    """Available (history, forecast) or dispatched (plan) PV output of one array."""
    return f"pv_{name}_kw"


def wind_kw(name: str) -> str:
    return f"wind_{name}_kw"


def load_kw(name: str) -> str:
    return f"load_{name}_kw"


def battery_charge_kw(name: str) -> str:
    return f"battery_{name}_charge_kw"


def battery_discharge_kw(name: str) -> str:
    return f"battery_{name}_discharge_kw"


def heat_pump_kw(name: str) -> str:
    """Electric input of a heat pump."""
    return f"heat_pump_{name}_kw"


def boiler_kw(name: str) -> str:
    """Electric input of an electric boiler."""
    return f"boiler_{name}_kw"


def chp_kw(name: str) -> str:
    """Electric output of a gas CHP unit."""
    return f"chp_{name}_kw"


def batch_kw(name: str) -> str:
    """Draw of a batch load in the interval."""
    return f"batch_{name}_kw"


def curtailed_kw(name: str) -> str:
    """Power shed from a curtailable load (off its electric load's forecast)."""
    return f"curtail_{name}_kw"


def shift_down_kw(name: str) -> str:
    """Power a shiftable load takes off its electric load's forecast (moved elsewhere)."""
    return f"shift_{name}_down_kw"


def shift_up_kw(name: str) -> str:
    """Power a shiftable load adds to its electric load's forecast (moved here)."""
    return f"shift_{name}_up_kw"


def electrolyser_kw(name: str) -> str:
    """Electric input of an electrolyser."""
    return f"electrolyser_{name}_kw"


def hydrogen_fuel_cell_kw(name: str) -> str:
    """Electric output of a fuel cell drawing on a hydrogen tank."""
    return f"hydrogen_fuel_cell_{name}_kw"


def recovery_kw(name: str) -> str:
    """Electric output of a waste-heat or waste-pressure generator."""
    return f"recovery_{name}_kw"


def heat_demand_kw_th(name: str) -> str:
    return f"heat_demand_{name}_kw_th"


def waste_heat_kw_th(name: str) -> str:
    """Available heat of a waste-heat stream."""
    return f"waste_heat_{name}_kw_th"


QUANTILES = (10, 50, 90)
"""Forecast quantiles in percent: P10, P50 (the point forecast), P90."""


def quantile(column: str, percent: int) -> str:
    """A forecast column: ``quantile("pv_roof_kw", 50)`` -> ``"pv_roof_kw_p50"``."""
    if percent not in QUANTILES:
        raise ValueError(f"percent={percent} must be one of {QUANTILES}")
    return f"{column}_p{percent}"
