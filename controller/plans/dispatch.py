"""A dispatch as arrays (from the optimiser or the fallback rules) and its plan frame."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.inputs.dispatch_inputs import (
    HOURS_PER_STEP,
    NO_LIMIT,
    DispatchInputs,
    chp_was_on,
    layout_for,
)
from controller.inputs.flexible import FlexibleDispatch, flexible_frame
from controller.inputs.hydrogen import HydrogenDispatch, hydrogen_frame
from sites import Site, columns


@dataclass(frozen=True)
class Dispatch:
    """Setpoints and flows over the real intervals (rows follow the site's asset order)."""

    pv_kw: np.ndarray
    wind_kw: np.ndarray
    battery_charge_kw: np.ndarray
    battery_discharge_kw: np.ndarray
    battery_soc_kwh: np.ndarray
    heat_pump_kw: np.ndarray
    heat_pump_heat_kw_th: np.ndarray
    waste_heat_direct_kw_th: np.ndarray
    """(n_direct_pairs, T), pairs as in ``Layout.direct_pairs``."""
    waste_heat_to_heat_pump_kw_th: np.ndarray
    """(n_streams, T)"""
    storage_charge_kw_th: np.ndarray
    storage_discharge_kw_th: np.ndarray
    storage_level_kwh_th: np.ndarray
    boiler_heat_kw_th: np.ndarray
    heat_unmet_kw_th: np.ndarray
    grid_import_kw: np.ndarray
    grid_export_kw: np.ndarray
    losses_kw: np.ndarray
    slacks: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Soft-constraint slacks by name (kW, kWh, kWh_th), as the relaxation report reads them."""
    chp_electric_kw: np.ndarray | None = None
    """(n_chp, T) electric output of each CHP unit; None for a site without CHP."""
    chp_on: np.ndarray | None = None
    """(n_chp, T) 1 where a unit runs; None: on wherever its output is positive."""
    flexible: FlexibleDispatch | None = None
    """The flexible process loads' setpoints; None for a site without them."""
    hydrogen: HydrogenDispatch | None = None
    """Electrolysers, fuel cells and tanks; None for a site without hydrogen."""
    recovery_kw: np.ndarray | None = None
    """(n_recovery, T) output of each waste-heat or waste-pressure generator; None: none."""


def chp_on_from(electric_kw: np.ndarray, on: np.ndarray | None) -> np.ndarray:
    """On/off per unit and interval: the commitment where there is one, else output > 0."""
    running = (electric_kw > ON_KW).astype(float)
    if on is None:
        return running
    return np.maximum(np.round(np.clip(on, 0.0, 1.0)), running)


ON_KW = 1e-3
"""Electric output above which a CHP unit counts as running [kW] (solver noise is below)."""


def chp_starts(was_on: np.ndarray, on: np.ndarray) -> np.ndarray:
    """(n_chp, T) 1 where a unit starts: on now, off in the interval before (before the
    first: ``was_on``, (n_chp,))."""
    before = np.asarray(was_on, dtype=float).reshape(-1, 1)
    previous = np.concatenate([before, on[:, :-1]], axis=1) if on.size else on
    return np.clip(on - previous, 0.0, None)


def _clean(values: np.ndarray) -> np.ndarray:
    """Solver output: tiny negatives from tolerances become 0."""
    out = np.asarray(values, dtype=float).copy()
    out[np.abs(out) < 1e-7] = 0.0
    return out


def _flow(values: np.ndarray) -> np.ndarray:
    """Solver output as a non-negative flow: cleaned, then clipped at 0."""
    return np.clip(_clean(values), 0, None)


def net_connection_flows(
    import_kw: np.ndarray, export_kw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The connection point's flows with what is imported and exported in the same interval
    cancelled: one meter, one direction per interval.

    Where export pays more than import (the tariff's export price above a valley band), an
    LP can book both at once for the difference: "not both" is not convex, so the model
    cannot rule it out. The energy balance holds either way (the same amount leaves both
    sides), so the plan carries the net flow and its costs are counted on it.
    """
    both = np.minimum(import_kw, export_kw)
    return import_kw - both, export_kw - both


def dispatch_frame(site: Site, inputs: DispatchInputs, d: Dispatch) -> pd.DataFrame:
    """The plan frame: every column of :mod:`controller.columns` that applies to the site.

    Each asset family is worked out as one (n_assets, T) array; the frame takes its rows."""
    a = site.assets
    layout = layout_for(site)
    real = inputs.real
    data: dict[str, np.ndarray] = {}
    available = real(inputs.pv_available_kw)
    used = np.minimum(_clean(d.pv_kw), available)
    dispatched, curtailed = np.clip(used, 0, None), np.clip(available - used, 0, None)
    for i, array in enumerate(a.pv):
        data[columns.pv_kw(array.name)] = dispatched[i]
        data[pc.pv_available_kw(array.name)] = available[i]
        data[pc.pv_curtailed_kw(array.name)] = curtailed[i]
    available = real(inputs.wind_available_kw)
    used = np.minimum(_clean(d.wind_kw), available)
    dispatched, curtailed = np.clip(used, 0, None), np.clip(available - used, 0, None)
    for i, turbine in enumerate(a.wind):
        data[columns.wind_kw(turbine.name)] = dispatched[i]
        data[pc.wind_available_kw(turbine.name)] = available[i]
        data[pc.wind_curtailed_kw(turbine.name)] = curtailed[i]
    loads = real(inputs.load_kw)
    for i, load in enumerate(a.electric_loads):
        data[columns.load_kw(load.name)] = loads[i]
    charge, discharge = _flow(d.battery_charge_kw), _flow(d.battery_discharge_kw)
    soc = _clean(d.battery_soc_kwh)
    for i, battery in enumerate(a.batteries):
        data[columns.battery_charge_kw(battery.name)] = charge[i]
        data[columns.battery_discharge_kw(battery.name)] = discharge[i]
        data[pc.battery_soc_kwh(battery.name)] = soc[i]
    electric, heat, cop = _flow(d.heat_pump_kw), _flow(d.heat_pump_heat_kw_th), real(inputs.cop)
    for i, pump in enumerate(a.heat_pumps):
        data[columns.heat_pump_kw(pump.name)] = electric[i]
        data[pc.heat_pump_heat_kw_th(pump.name)] = heat[i]
        data[pc.heat_pump_cop(pump.name)] = cop[i]
        if i in layout.lower_stages:
            data[pc.heat_pump_to_stage_kw_th(pump.name)] = cop[i] * electric[i]
    waste = real(inputs.waste_heat_available_kw_th)
    to_pump = _flow(d.waste_heat_to_heat_pump_kw_th)
    direct_pairs = _clean(d.waste_heat_direct_kw_th)
    for w, stream in enumerate(a.waste_heat):
        direct = np.zeros(inputs.n_steps)
        for k, (source, _) in enumerate(layout.direct_pairs):
            if source == w:
                direct += direct_pairs[k]
        data[pc.waste_heat_available_kw_th(stream.name)] = waste[w]
        data[pc.waste_heat_direct_kw_th(stream.name)] = np.clip(direct, 0, None)
        data[pc.waste_heat_to_heat_pump_kw_th(stream.name)] = to_pump[w]
    charge, discharge = _flow(d.storage_charge_kw_th), _flow(d.storage_discharge_kw_th)
    level = _clean(d.storage_level_kwh_th)
    for i, store in enumerate(a.thermal_storage):
        data[pc.thermal_storage_charge_kw_th(store.name)] = charge[i]
        data[pc.thermal_storage_discharge_kw_th(store.name)] = discharge[i]
        data[pc.thermal_storage_level_kwh_th(store.name)] = level[i]
    boiler_heat = _flow(d.boiler_heat_kw_th)
    for i, boiler in enumerate(a.boilers):
        heat = boiler_heat[i]
        data[pc.boiler_heat_kw_th(boiler.name)] = heat
        if i in layout.electric_boilers:
            data[columns.boiler_kw(boiler.name)] = heat / boiler.efficiency
        else:
            data[pc.boiler_fuel_kw(boiler.name)] = heat / boiler.efficiency
    chp_cost = np.zeros(inputs.n_steps)
    chp_co2 = np.zeros(inputs.n_steps)
    if a.chp:
        chp_electric = _flow(np.asarray(d.chp_electric_kw, dtype=float))
        on = chp_on_from(chp_electric, d.chp_on)
        starts = chp_starts(chp_was_on(site, inputs), on)
        for i, chp in enumerate(a.chp):
            fuel = chp_electric[i] / chp.electric_efficiency
            data[columns.chp_kw(chp.name)] = chp_electric[i]
            data[pc.chp_heat_kw_th(chp.name)] = chp_electric[i] * chp.heat_per_electric
            data[pc.chp_fuel_kw(chp.name)] = fuel
            data[pc.chp_on(chp.name)] = on[i]
            data[pc.chp_start_cny(chp.name)] = starts[i] * chp.start_cost_cny
            chp_cost += chp.fuel_price_cny_per_kwh * fuel
            chp_cost += starts[i] * chp.start_cost_cny / HOURS_PER_STEP
            chp_co2 += chp.emission_factor_kg_per_kwh_fuel * fuel
    if a.recovery_power:
        recovery_available = layout.recovery_available_kw(loads)
        recovery = np.minimum(_flow(np.asarray(d.recovery_kw, dtype=float)), recovery_available)
        for i, unit in enumerate(a.recovery_power):
            data[columns.recovery_kw(unit.name)] = np.clip(recovery[i], 0.0, None)
            data[pc.recovery_available_kw(unit.name)] = recovery_available[i]
    demand, unmet = real(inputs.heat_demand_kw_th), _flow(d.heat_unmet_kw_th)
    for i, heat_demand in enumerate(a.heat_demands):
        data[columns.heat_demand_kw_th(heat_demand.name)] = demand[i]
        data[pc.heat_unmet_kw_th(heat_demand.name)] = unmet[i]
    data[columns.AMBIENT_TEMPERATURE_DEGC] = real(inputs.ambient_temperature_degc)
    flows = _flow(d.grid_import_kw), _flow(d.grid_export_kw)
    grid_import, grid_export = net_connection_flows(*flows)
    data[pc.GRID_IMPORT_KW] = grid_import
    data[pc.GRID_EXPORT_KW] = grid_export
    data[pc.NETWORK_LOSSES_KW] = np.asarray(d.losses_kw, dtype=float)
    data[pc.PRICE_CNY_PER_KWH] = real(inputs.price_cny_per_kwh)
    data[pc.EXPORT_PRICE_CNY_PER_KWH] = real(inputs.export_price_cny_per_kwh)
    if inputs.has_commitment:
        net = real(inputs.committed_net_import_kw)
        known = real(inputs.deviation_band_kw) < NO_LIMIT
        data[pc.committed_import_kw()] = np.where(known, np.clip(net, 0, None), np.nan)
        data[pc.committed_export_kw()] = np.where(known, np.clip(-net, 0, None), np.nan)
        data[pc.committed_band_kw()] = np.where(known, real(inputs.deviation_band_kw), np.nan)
    cost = (
        grid_import * data[pc.PRICE_CNY_PER_KWH] - grid_export * data[pc.EXPORT_PRICE_CNY_PER_KWH]
    )
    co2 = grid_import * inputs.grid_co2_kg_per_kwh
    for battery in a.batteries:
        throughput = (
            data[columns.battery_charge_kw(battery.name)]
            + data[columns.battery_discharge_kw(battery.name)]
        )
        cost = cost + battery.degradation_cost_cny_per_kwh * 0.5 * throughput
    for i in layout.fuel_boilers:
        x = a.boilers[i]
        cost = cost + x.fuel_price_cny_per_kwh * data[pc.boiler_fuel_kw(x.name)]
        co2 = co2 + x.emission_factor_kg_per_kwh_fuel * data[pc.boiler_fuel_kw(x.name)]
    cost, co2 = cost + chp_cost, co2 + chp_co2
    if d.flexible is not None:
        flexible, _, flexible_cost = flexible_frame(site, d.flexible, inputs.index)
        data.update(flexible)
        cost = cost + flexible_cost
    if d.hydrogen is not None:
        hydrogen, _, hydrogen_cost = hydrogen_frame(site, d.hydrogen)
        data.update(hydrogen)
        cost = cost + hydrogen_cost
    band_position = len(data)
    data[pc.COST_CNY] = cost * HOURS_PER_STEP
    data[pc.CO2_KG] = co2 * HOURS_PER_STEP
    return _frame(inputs.index, data, band_position, inputs.bands)


def _frame(
    index: pd.DatetimeIndex,
    floats: dict[str, np.ndarray],
    band_position: int,
    bands: tuple[str, ...],
) -> pd.DataFrame:
    """The frame of ``floats`` (columns in order) with the price band inserted at
    ``band_position``: built as one float block and one object column, not column by
    column, which costs pandas a consolidation per column."""
    values = np.empty((len(index), len(floats)))
    for j, column in enumerate(floats.values()):
        values[:, j] = column
    frame = pd.DataFrame(values, index=index, columns=list(floats), copy=False)
    frame.insert(band_position, pc.PRICE_BAND, list(bands))  # a list: pandas picks the dtype
    return frame
