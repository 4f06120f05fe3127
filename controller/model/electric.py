"""Electric side: grid connection, PV, wind, loads, batteries, and the park's power balance."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.inputs.dispatch_inputs import DispatchInputs, prices_for
from controller.kinds import PlanKind
from controller.model.context import ModelContext
from sites import columns


def add_grid_connection(ctx: ModelContext) -> None:
    """Import and export within the connection limits (import soft: a load above the limit
    is a relaxation, not an empty plan); TOU energy cost, export revenue, grid CO2; the
    deviation from the committed schedule beyond its band at the tariff's deviation price
    (intraday). The demand charge: :func:`add_demand_charge`."""
    h, dt = ctx.horizon, ctx.dt
    pen = ctx.config.penalties
    grid_import = ctx.var("grid_import", (h,))
    grid_export = ctx.var("grid_export", (h,))
    import_limit = ctx.param("import_limit", (h,), lambda i: i.import_limit_kw)
    export_limit = ctx.param("export_limit", (h,), lambda i: i.export_limit_kw, nonneg=True)
    over = ctx.slack("grid_import_limit", (h,), "kW", pen.grid_import_limit_per_kwh, dt)
    ctx.add("grid_import_limit", grid_import <= import_limit + over)
    ctx.add("grid_export_limit", grid_export <= export_limit)
    ctx.electric_in.append(grid_import)
    ctx.electric_out.append(grid_export)

    price = ctx.param("price", (h,), lambda i: i.price_cny_per_kwh, nonneg=True)
    export_price = ctx.param("export_price", (h,), lambda i: i.export_price_cny_per_kwh)
    ctx.add_term("energy_cny", dt * (price @ grid_import))
    ctx.add_term("export_revenue_cny", dt * (export_price @ grid_export))
    ctx.add_term("spill_kwh", dt * cp.sum(grid_export))
    ctx.add_term("co2_kg", dt * ctx.site.grid_emission_factor.kg_co2_per_kwh * cp.sum(grid_import))

    if ctx.kind is PlanKind.INTRADAY:
        committed = ctx.param("committed_net", (h,), lambda i: i.committed_net_import_kw)
        band = ctx.param("deviation_band", (h,), lambda i: i.deviation_band_kw, nonneg=True)
        above = ctx.var("deviation_above", (h,))
        below = ctx.var("deviation_below", (h,))
        net = grid_import - grid_export
        ctx.add("schedule_band_upper", net - committed <= band + above)
        ctx.add("schedule_band_lower", committed - net <= band + below)
        deviation_price = prices_for(ctx.site).tariff.deviation_price_cny_per_kwh
        ctx.add_term("deviation_cny", deviation_price * dt * cp.sum(above + below))


def add_demand_charge(ctx: ModelContext) -> None:
    """The demand charge of each billing month the horizon touches, on the import above what
    the month allows (its peak so far or its target). Forecast error may bring the import in
    above plan by the margin: the plan keeps that margin below the allowance, or as battery
    net charge and discharge room (power and stored energy) that the batteries' local
    controller sheds to hold the import ceiling (:data:`controller.columns.GRID_IMPORT_CEILING_KW`):
    the batteries keep the energy needed to defend the peak. After the batteries."""
    h = ctx.horizon
    grid_import = ctx.variables["grid_import"]
    sheddable: cp.Expression | float = 0.0
    if "battery_charge" in ctx.variables:
        charge, room = ctx.variables["battery_charge"], ctx.variables["battery_discharge_room"]
        discharge = ctx.variables["battery_discharge"]
        sheddable = cp.sum(charge - discharge + room, axis=0)
    free = ctx.param("peak_free", (2, h), lambda i: i.peak_free_kw)
    margin = ctx.param("peak_margin", (h,), lambda i: i.peak_margin_kw, nonneg=True)
    rate = ctx.param("demand_rate", (), lambda i: i.demand_charge_cny_per_kw, nonneg=True)
    excess = ctx.var("peak_excess", (2,))
    for m, month in enumerate(("this_month", "next_month")):
        ctx.add(f"demand_peak_{month}", excess[m] >= grid_import - free[m])
        ctx.add(f"demand_margin_{month}", excess[m] >= grid_import + margin - sheddable - free[m])
    ctx.add_term("demand_charge_cny", rate * cp.sum(excess))


def _renewable(ctx: ModelContext, family: str, names: list[str], feed_name: str) -> None:
    n, h, dt = len(names), ctx.horizon, ctx.dt
    if n == 0:
        return

    def feed(i: DispatchInputs) -> np.ndarray:
        return np.asarray(getattr(i, feed_name))

    available = ctx.param(f"{family}_available", (n, h), feed, nonneg=True)
    used = ctx.var(f"{family}_used", (n, h))
    ctx.add(f"{family}_available", used <= available)
    ctx.electric_in.append(cp.sum(used, axis=0))
    # spill = available - used; the available part is data, added outside the model
    ctx.add_term("spill_kwh", -dt * cp.sum(used))
    for k, name in enumerate(names):
        column = columns.pv_kw(name) if family == "pv" else columns.wind_kw(name)
        ctx.injections[column] = used[k]


def add_pv(ctx: ModelContext) -> None:
    _renewable(ctx, "pv", [x.name for x in ctx.site.assets.pv], "pv_available_kw")


def add_wind(ctx: ModelContext) -> None:
    _renewable(ctx, "wind", [x.name for x in ctx.site.assets.wind], "wind_available_kw")


def add_loads(ctx: ModelContext) -> None:
    loads = ctx.site.assets.electric_loads
    load = ctx.param("load", (len(loads), ctx.horizon), lambda i: i.load_kw, nonneg=True)
    ctx.electric_out.append(cp.sum(load, axis=0))
    for k, x in enumerate(loads):
        ctx.injections[columns.load_kw(x.name)] = load[k]


def add_battery(ctx: ModelContext) -> None:
    """Charge and discharge within power ratings and not both at full power at once; SoC
    dynamics with efficiencies; SoC window (soft: a measured SoC outside it); end of horizon
    at least the start (soft); degradation cost on throughput."""
    batteries = ctx.site.assets.batteries
    n, h, dt = len(batteries), ctx.horizon, ctx.dt
    if n == 0:
        return
    pen = ctx.config.penalties
    p_charge = np.array([b.charge_kw for b in batteries])[:, None]
    p_discharge = np.array([b.discharge_kw for b in batteries])[:, None]
    eta_c = np.array([b.charge_efficiency for b in batteries])[:, None]
    eta_d = np.array([b.discharge_efficiency for b in batteries])[:, None]
    soc_min = np.array([b.soc_min_kwh for b in batteries])[:, None]
    soc_max = np.array([b.soc_max_kwh for b in batteries])[:, None]
    degradation = np.array([b.degradation_cost_cny_per_kwh for b in batteries])

    charge = ctx.var("battery_charge", (n, h))
    discharge = ctx.var("battery_discharge", (n, h))
    soc = ctx.var("battery_soc", (n, h))
    soc0 = ctx.param("battery_soc0", (n,), lambda i: i.battery_soc0_kwh, nonneg=True)
    target = ctx.param("battery_target", (n,), lambda i: i.battery_soc_target_kwh, nonneg=True)
    terminal = ctx.terminal()
    active = cp.reshape(ctx.active(), (1, h), order="F")

    ctx.add(
        "battery_power",
        cp.multiply(charge, 1 / p_charge) + cp.multiply(discharge, 1 / p_discharge)
        <= np.ones((n, 1)) @ active,
    )
    delta = dt * (cp.multiply(charge, eta_c) - cp.multiply(discharge, 1 / eta_d))
    previous = cp.hstack([cp.reshape(soc0, (n, 1), order="F"), soc[:, :-1]])
    ctx.add("battery_soc_dynamics", soc == previous + delta, inequality=False)
    low = ctx.slack("battery_soc_min", (n, h), "kWh", pen.battery_soc_window_per_kwh, 1.0)
    high = ctx.slack("battery_soc_max", (n, h), "kWh", pen.battery_soc_window_per_kwh, 1.0)
    ctx.add("battery_soc_min", soc >= soc_min - low)
    ctx.add("battery_soc_max", soc <= soc_max + high)
    # physics, never relaxed: the SoC window's slacks may give way, the capacity may not (the
    # start is clipped into [0, capacity], so holding the SoC is always feasible)
    capacity = np.array([b.capacity_kwh for b in batteries])[:, None]
    ctx.add("battery_capacity", soc <= capacity)
    short = ctx.slack(
        "battery_end_level", (n,), "kWh", pen.terminal_storage_per_kwh, 1.0, per_interval=False
    )
    ctx.add("battery_end_level", soc @ terminal >= target - short)

    # what the batteries could discharge in each interval (within power and the charge held
    # at its start): with the planned net charge (charge - discharge), the import their
    # local controller can shed when the load comes in above plan (see add_demand_charge).
    # The controller nets a charge and a discharge setpoint, so charging and discharging at
    # once adds nothing to it.
    room = ctx.var("battery_discharge_room", (n, h))
    ctx.add("battery_room_power", room <= p_discharge @ active)
    room0 = ctx.param(
        "battery_room0",
        (n,),
        lambda i: np.clip(i.battery_soc0_kwh - soc_min[:, 0], 0.0, None) * eta_d[:, 0] / dt,
        nonneg=True,
    )
    ctx.add("battery_room_start", room[:, 0] <= room0)
    if h > 1:
        held = soc[:, :-1] - soc_min + low[:, :-1]
        ctx.add("battery_room_energy", cp.multiply(room[:, 1:], dt / eta_d) <= held)

    ctx.electric_in.append(cp.sum(discharge, axis=0))
    ctx.electric_out.append(cp.sum(charge, axis=0))
    ctx.add_term("degradation_cny", 0.5 * dt * (degradation @ cp.sum(charge + discharge, axis=1)))
    ctx.add_term("throughput_kwh", dt * cp.sum(charge + discharge))
    for k, b in enumerate(batteries):
        ctx.injections[columns.battery_charge_kw(b.name)] = charge[k]
        ctx.injections[columns.battery_discharge_kw(b.name)] = discharge[k]


def add_electric_balance(ctx: ModelContext) -> None:
    """Supply = demand + expected network losses, in every interval."""
    losses = ctx.param("losses", (ctx.horizon,), _losses)
    ctx.add(
        "electric_balance",
        cp.sum(cp.vstack(ctx.electric_in), axis=0)
        == cp.sum(cp.vstack(ctx.electric_out), axis=0) + losses,
        inequality=False,
    )


def _losses(inputs: DispatchInputs) -> np.ndarray:
    if inputs.network is None:
        return np.zeros(inputs.horizon)
    return inputs.network.losses_kw
