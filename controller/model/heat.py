"""Heat side: heat pumps, waste heat, thermal storage, boilers, and each demand's balance.

Thermal storage is modelled by energy only (no temperature layers): any heat source of the
demand it supplies may charge it.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.model.context import ModelContext
from sites import columns


def heat_to(ctx: ModelContext, demand: int, expression: cp.Expression) -> None:
    ctx.heat_in.setdefault(demand, []).append(expression)


def add_heat_pump(ctx: ModelContext) -> None:
    """Heat out = COP(t) x electric input (COP is data); the heat taken from the source,
    heat out - electric in, is drawn from its waste-heat stream (ambient air is unlimited).
    In a cascade the lower stage's whole heat out is its upper stage's source (an
    intermediate loop without storage): lower heat out = upper heat out - upper electric in,
    and only the upper stage's heat reaches the demand."""
    pumps = ctx.site.assets.heat_pumps
    n, h = len(pumps), ctx.horizon
    if n == 0:
        return
    rating = np.array([x.electric_kw for x in pumps])[:, None]
    electric = ctx.var("heat_pump_electric", (n, h))
    cop = ctx.param("cop", (n, h), lambda i: i.cop, nonneg=True)
    cop_minus_one = ctx.param("cop_minus_one", (n, h), lambda i: i.cop - 1.0, nonneg=True)
    active = cp.reshape(ctx.active(), (1, h), order="F")
    ctx.add("heat_pump_rating", electric <= rating @ active)
    heat = cp.multiply(cop, electric)
    source = cp.multiply(cop_minus_one, electric)
    ctx.electric_out.append(cp.sum(electric, axis=0))
    for lower, upper in ctx.layout.cascade_pairs:
        ctx.add(
            f"heat_pump_cascade_{pumps[upper].name}",
            heat[lower] == source[upper],
            inequality=False,
        )
    for k, x in enumerate(pumps):
        if k not in ctx.layout.lower_stages:
            heat_to(ctx, ctx.layout.heat_pump_demand[k], heat[k])
        stream = ctx.layout.heat_pump_source[k]
        if stream >= 0:
            ctx.heat_pump_source.setdefault(stream, []).append(source[k])
        ctx.injections[columns.heat_pump_kw(x.name)] = electric[k]


def add_waste_heat(ctx: ModelContext) -> None:
    """Direct use where the stream is at least as hot as the demand; heat-pump source use;
    together never more than is available."""
    streams = ctx.site.assets.waste_heat
    n, h = len(streams), ctx.horizon
    if n == 0:
        return
    pairs = ctx.layout.direct_pairs
    available = ctx.param(
        "waste_heat_available", (n, h), lambda i: i.waste_heat_available_kw_th, nonneg=True
    )
    direct = ctx.var("waste_heat_direct", (len(pairs), h)) if pairs else None
    for w in range(n):
        used: list[cp.Expression] = list(ctx.heat_pump_source.get(w, []))
        if direct is not None:
            used += [direct[k] for k, (stream, _) in enumerate(pairs) if stream == w]
        if used:
            total = cp.sum(cp.vstack(used), axis=0)
            ctx.add(f"waste_heat_{streams[w].name}_available", total <= available[w])
    if direct is not None:
        for k, (_, demand) in enumerate(pairs):
            heat_to(ctx, demand, direct[k])


def add_thermal_storage(ctx: ModelContext) -> None:
    """Level dynamics with standing loss; charge and discharge ratings; capacity (hard:
    physics); end of horizon at least the start (soft)."""
    stores = ctx.site.assets.thermal_storage
    n, h, dt = len(stores), ctx.horizon, ctx.dt
    if n == 0:
        return
    pen = ctx.config.penalties
    capacity = np.array([x.capacity_kwh_th for x in stores])[:, None]
    charge = ctx.var("storage_charge", (n, h))
    discharge = ctx.var("storage_discharge", (n, h))
    level = ctx.var("storage_level", (n, h))
    keep = ctx.param("storage_keep", (n, h), lambda i: i.storage_keep, nonneg=True)
    level_in = ctx.param("storage_level_in", (n, h), lambda i: i.storage_level_in, nonneg=True)
    target = ctx.param("storage_target", (n,), lambda i: i.storage_level_target_kwh_th, nonneg=True)
    terminal = ctx.terminal()
    active = cp.reshape(ctx.active(), (1, h), order="F")
    charge_kw = np.array([x.charge_kw_th for x in stores])[:, None]
    discharge_kw = np.array([x.discharge_kw_th for x in stores])[:, None]
    ctx.add("storage_charge_rating", charge <= charge_kw @ active)
    ctx.add("storage_discharge_rating", discharge <= discharge_kw @ active)
    # the start level enters the first column through ``level_in`` (keeps the product of a
    # parameter and an expression without parameters, as DPP needs)
    previous = cp.hstack([np.zeros((n, 1)), level[:, :-1]])
    ctx.add(
        "storage_level_dynamics",
        level == cp.multiply(keep, previous) + level_in + dt * (charge - discharge),
        inequality=False,
    )
    # physics, never relaxed (the start is clipped to the capacity: holding it is feasible)
    ctx.add("storage_capacity", level <= capacity)
    short = ctx.slack(
        "storage_end_level",
        (n,),
        "kWh_th",
        pen.terminal_storage_per_kwh,
        1.0,
        per_interval=False,
    )
    ctx.add("storage_end_level", level @ terminal >= target - short)
    for k in range(n):
        heat_to(ctx, ctx.layout.storage_demand[k], discharge[k] - charge[k])


def add_boiler(ctx: ModelContext) -> None:
    """Heat within capacity; fuel = heat / efficiency (cost and CO2 for fuel-fired boilers,
    electric input on the park's balance for electric ones)."""
    boilers = ctx.site.assets.boilers
    n, h, dt = len(boilers), ctx.horizon, ctx.dt
    if n == 0:
        return
    heat = ctx.var("boiler_heat", (n, h))
    active = cp.reshape(ctx.active(), (1, h), order="F")
    capacity = np.array([x.capacity_kw_th for x in boilers])[:, None]
    ctx.add("boiler_capacity", heat <= capacity @ active)
    for k, x in enumerate(boilers):
        heat_to(ctx, ctx.layout.boiler_demand[k], heat[k])
        fuel = heat[k] / x.efficiency
        if k in ctx.layout.electric_boilers:
            ctx.electric_out.append(fuel)
            ctx.injections[columns.boiler_kw(x.name)] = fuel
        else:
            ctx.add_term("fuel_cny", dt * x.fuel_price_cny_per_kwh * cp.sum(fuel))
            ctx.add_term("co2_kg", dt * x.emission_factor_kg_per_kwh_fuel * cp.sum(fuel))


def add_heat_balance(ctx: ModelContext) -> None:
    """Each heat demand met in every interval; what no asset can serve is unmet heat (soft)."""
    demands = ctx.site.assets.heat_demands
    n, h, dt = len(demands), ctx.horizon, ctx.dt
    if n == 0:
        return
    demand = ctx.param("heat_demand", (n, h), lambda i: i.heat_demand_kw_th, nonneg=True)
    unmet = ctx.slack("heat_unmet", (n, h), "kW_th", ctx.config.penalties.heat_unmet_per_kwh_th, dt)
    for d in range(n):
        supply = ctx.heat_in.get(d, [])
        total = cp.sum(cp.vstack(supply), axis=0) if supply else 0
        ctx.add(f"heat_balance_{demands[d].name}", total + unmet[d] == demand[d], inequality=False)
