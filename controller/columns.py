"""Column names of a plan frame that only plans have; the rest come from :mod:`sites.columns`.

Units are in the names; every flow is non-negative. A plan also carries the injection columns
of :func:`network_models.build.build_network` (dispatched PV and wind, loads, battery charge
and discharge, heat-pump and electric-boiler input) so that the AC verifier reads it directly.
"""

from __future__ import annotations

GRID_IMPORT_KW = "grid_import_kw"
GRID_EXPORT_KW = "grid_export_kw"
NETWORK_LOSSES_KW = "network_losses_kw"
"""Network losses the plan expects (from the AC power flow at its operating point)."""
PRICE_BAND = "price_band"
PRICE_CNY_PER_KWH = "price_cny_per_kwh"
EXPORT_PRICE_CNY_PER_KWH = "export_price_cny_per_kwh"
COST_CNY = "cost_cny"
"""Energy cost of the interval: import, degradation, fuel, minus export revenue (the demand
charge is a charge on the horizon's peak and is reported in the KPIs only)."""
CO2_KG = "co2_kg"
GRID_IMPORT_CEILING_KW = "grid_import_ceiling_kw"
"""A setpoint to the batteries' local controller: hold the connection point's import at or
below this, as far as the batteries' power and charge allow (charge less, then discharge
more), whatever the interval's true load and renewables turn out to be. The month's peak
allowance, or the planned import where the plan raises the peak."""
DEVIATION_OUTSIDE_BAND_KW = "deviation_outside_band_kw"
"""How far the connection-point flow lay beyond the committed schedule's tolerance band
(either direction; NaN where nothing was committed): a replay's actuals carry it."""


def pv_available_kw(name: str) -> str:
    return f"pv_{name}_available_kw"


def pv_curtailed_kw(name: str) -> str:
    return f"pv_{name}_curtailed_kw"


def wind_available_kw(name: str) -> str:
    return f"wind_{name}_available_kw"


def wind_curtailed_kw(name: str) -> str:
    return f"wind_{name}_curtailed_kw"


def battery_soc_kwh(name: str) -> str:
    """State of charge at the end of the interval."""
    return f"battery_{name}_soc_kwh"


def heat_pump_heat_kw_th(name: str) -> str:
    """Heat a heat pump delivers to its heat demand (0 for the lower stage of a cascade)."""
    return f"heat_pump_{name}_heat_kw_th"


def heat_pump_cop(name: str) -> str:
    return f"heat_pump_{name}_cop"


def heat_pump_to_stage_kw_th(name: str) -> str:
    """Heat the lower stage of a cascade gives its upper stage's evaporator (all its heat out;
    a plan has the column for lower stages only)."""
    return f"heat_pump_{name}_to_stage_kw_th"


def waste_heat_available_kw_th(name: str) -> str:
    return f"waste_heat_{name}_available_kw_th"


def waste_heat_direct_kw_th(name: str) -> str:
    """Waste heat delivered straight to heat demands (hot enough for them)."""
    return f"waste_heat_{name}_direct_kw_th"


def waste_heat_to_heat_pump_kw_th(name: str) -> str:
    """Waste heat taken up by heat pumps as their source (heat out - electric in)."""
    return f"waste_heat_{name}_to_heat_pump_kw_th"


def thermal_storage_charge_kw_th(name: str) -> str:
    return f"thermal_storage_{name}_charge_kw_th"


def thermal_storage_discharge_kw_th(name: str) -> str:
    return f"thermal_storage_{name}_discharge_kw_th"


def thermal_storage_level_kwh_th(name: str) -> str:
    """Stored heat at the end of the interval."""
    return f"thermal_storage_{name}_level_kwh_th"


def boiler_heat_kw_th(name: str) -> str:
    return f"boiler_{name}_heat_kw_th"


def boiler_fuel_kw(name: str) -> str:
    """Fuel input of a fuel-fired boiler (kW of fuel, lower heating value)."""
    return f"boiler_{name}_fuel_kw"


def recovery_available_kw(name: str) -> str:
    """Output a waste-heat or waste-pressure generator could give in the interval."""
    return f"recovery_{name}_available_kw"


def chp_heat_kw_th(name: str) -> str:
    """Heat of a gas CHP unit to the heat demand it supplies."""
    return f"chp_{name}_heat_kw_th"


def chp_fuel_kw(name: str) -> str:
    """Fuel input of a gas CHP unit (kW of fuel, lower heating value)."""
    return f"chp_{name}_fuel_kw"


def chp_on(name: str) -> str:
    """1 where a CHP unit runs in the interval, 0 where it is off."""
    return f"chp_{name}_on"


def chp_start_cny(name: str) -> str:
    """Start cost of a CHP unit, in the interval it starts."""
    return f"chp_{name}_start_cny"


def heat_unmet_kw_th(name: str) -> str:
    """Heat demand no asset could serve (non-zero only in a relaxed plan)."""
    return f"heat_demand_{name}_unmet_kw_th"


def committed_import_kw() -> str:
    return "committed_grid_import_kw"


def committed_export_kw() -> str:
    return "committed_grid_export_kw"


def committed_band_kw() -> str:
    """Half-width of the tolerance band around the committed net import (NaN where nothing
    was committed): :meth:`controller.config.DispatchConfig.deviation_band_kw`."""
    return "committed_band_kw"


# Flexible process loads and hydrogen (controller.inputs.flexible, controller.inputs.hydrogen).


def batch_on(name: str) -> str:
    """1 where a batch load runs in the interval, 0 where it does not."""
    return f"batch_{name}_on"


def batch_delivered_kwh(name: str) -> str:
    """Energy a batch load has had in its window at the end of the interval (0 outside its
    windows): the state the next plan starts from."""
    return f"batch_{name}_delivered_kwh"


def shift_deferred_kwh(name: str) -> str:
    """Energy a shiftable load has deferred and not yet made up, at the end of the interval."""
    return f"shift_{name}_deferred_kwh"


def shift_advanced_kwh(name: str) -> str:
    """Energy a shiftable load has taken early and not yet taken off, at the interval's end."""
    return f"shift_{name}_advanced_kwh"


def electrolyser_hydrogen_kg_per_h(name: str) -> str:
    """Hydrogen an electrolyser makes (along its curve at its input)."""
    return f"electrolyser_{name}_hydrogen_kg_per_h"


def electrolyser_vented_kg_per_h(name: str) -> str:
    """Hydrogen an electrolyser makes that its tank does not take (vented)."""
    return f"electrolyser_{name}_vented_kg_per_h"


def electrolyser_on(name: str) -> str:
    """1 where an electrolyser runs in the interval, 0 where it is off."""
    return f"electrolyser_{name}_on"


def fuel_cell_hydrogen_kg_per_h(name: str) -> str:
    """Hydrogen a fuel cell draws from its tank."""
    return f"hydrogen_fuel_cell_{name}_hydrogen_kg_per_h"


def tank_level_kg(name: str) -> str:
    """Hydrogen in a tank at the end of the interval."""
    return f"hydrogen_tank_{name}_level_kg"


def tank_offtake_kg_per_h(name: str) -> str:
    """Hydrogen taken from a tank to be sold or used by the process."""
    return f"hydrogen_tank_{name}_offtake_kg_per_h"
