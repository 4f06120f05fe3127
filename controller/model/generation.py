"""Dispatchable generation: gas CHP (combined heat and power), fuel cells and diesel sets
(``assets.chp``, one family: a unit whose heat is not used has no heat demand); and power
recovered from waste heat or pressure (``assets.recovery_power``, :func:`add_recovery_power`).

Electric output is on the park's balance and its network bus; heat, a fixed multiple of it
(``heat_efficiency / electric_efficiency``), goes to the heat demand the unit supplies; fuel
(electric output / electric efficiency) is paid and counted for CO2. Ramp limits hold
between successive intervals of the horizon.

A unit with a minimum stable load (and with it, maybe, a start cost) is *committed*: it gets
an on/off binary and a start indicator per interval, so the output is 0 or within [minimum,
rating] and each start is paid. Sites without such a unit keep the pure LP (no binary anywhere).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.inputs.dispatch_inputs import DispatchInputs, chp_was_on
from controller.model.context import ModelContext
from controller.model.heat import heat_to
from sites import columns


def add_chp(ctx: ModelContext) -> None:
    units = ctx.site.assets.chp
    n, h, dt = len(units), ctx.horizon, ctx.dt
    if n == 0:
        return
    rating = np.array([x.rated_electric_kw for x in units])[:, None]
    electric = ctx.var("chp_electric", (n, h))
    active = cp.reshape(ctx.active(), (1, h), order="F")
    ctx.add("chp_rating", electric <= rating @ active)
    ctx.electric_in.append(cp.sum(electric, axis=0))
    for k, x in enumerate(units):
        if x.supplies is not None:
            heat_to(ctx, ctx.layout.chp_demand[k], x.heat_per_electric * electric[k])
        ctx.injections[columns.chp_kw(x.name)] = electric[k]  # output, as for PV
        fuel = electric[k] / x.electric_efficiency
        ctx.add_term("fuel_cny", dt * x.fuel_price_cny_per_kwh * cp.sum(fuel))
        ctx.add_term("co2_kg", dt * x.emission_factor_kg_per_kwh_fuel * cp.sum(fuel))
    _add_ramps(ctx, electric, rating, active)
    _add_commitment(ctx, electric)


def _add_ramps(
    ctx: ModelContext, electric: cp.Variable, rating: np.ndarray, active: cp.Expression
) -> None:
    """|output(t) - output(t-1)| <= ramp x dt between real intervals (in and out of padding,
    where the rating is 0 by ``active``, the limit is lifted by the rating)."""
    units = ctx.site.assets.chp
    ramped = [k for k, x in enumerate(units) if x.ramp_kw_per_h is not None]
    if not ramped or ctx.horizon < 2:
        return
    step = np.array([units[k].ramp_kw_per_h or 0.0 for k in ramped])[:, None] * ctx.dt
    rows = electric[ramped, :]
    change = rows[:, 1:] - rows[:, :-1]
    lifted = rating[ramped] @ (2 - active[:, 1:] - active[:, :-1])
    ctx.add("chp_ramp_up", change <= step + lifted)
    ctx.add("chp_ramp_down", -change <= step + lifted)


def _add_commitment(ctx: ModelContext, electric: cp.Variable) -> None:
    """On/off binaries and start indicators for the committed units: min x rating x on <= output <=
    rating x on; off in padding; start(t) >= on(t) - on(t-1), in the first real interval
    against the unit's measured state (:attr:`controller.inputs.state.MeasuredState.chp_on`)."""
    units = ctx.site.assets.chp
    committed = ctx.layout.committed_chp
    m, h = len(committed), ctx.horizon
    if m == 0:
        return
    on = cp.Variable((m, h), boolean=True, name="chp_on")
    ctx.variables["chp_on"] = on
    start = ctx.var("chp_start", (m, h))  # integral at the optimum: its cost pushes it down
    rating = np.array([units[k].rated_electric_kw for k in committed])[:, None]
    minimum = np.array(
        [units[k].rated_electric_kw * units[k].min_stable_fraction for k in committed]
    )
    rows = electric[list(committed), :]
    ctx.add("chp_on_rating", rows <= cp.multiply(rating, on))
    ctx.add("chp_min_stable", rows >= cp.multiply(minimum[:, None], on))
    columns_ = list(committed)

    def was_on(inputs: DispatchInputs) -> np.ndarray:
        """1 in the first real column where the unit ran before the horizon, else 0."""
        out = np.zeros((m, inputs.horizon))
        out[:, inputs.start] = chp_was_on(ctx.site, inputs)[columns_]
        return out

    before = ctx.param("chp_was_on", (m, h), was_on, nonneg=True)
    ones = np.ones((m, 1))
    ctx.add("chp_on_active", on <= ones @ cp.reshape(ctx.active(), (1, h), order="F"))
    previous = cp.hstack([np.zeros((m, 1)), on[:, :-1]]) if h > 1 else np.zeros((m, 1))
    ctx.add("chp_start", start >= on - previous - before)
    cost = np.array([units[k].start_cost_cny for k in committed])
    ctx.add_term("start_cny", cp.sum(cost @ start))


def add_recovery_power(ctx: ModelContext) -> None:
    """Waste-heat and waste-pressure power: output up to what the process makes available
    (a parameter, from the process load's forecast), all of it for a must-run unit; no fuel,
    no cost, no CO2. On the park's balance and its network bus."""
    units = ctx.site.assets.recovery_power
    n, h = len(units), ctx.horizon
    if n == 0:
        return
    layout = ctx.layout

    def feed(inputs: DispatchInputs) -> np.ndarray:
        return layout.recovery_available_kw(np.asarray(inputs.load_kw, dtype=float))

    available = ctx.param("recovery_available", (n, h), feed, nonneg=True)
    out = ctx.var("recovery_power", (n, h))
    ctx.add("recovery_available", out <= available)
    must = [k for k, x in enumerate(units) if x.must_run]
    if must:
        ctx.add("recovery_must_run", out[must, :] >= available[must, :])
    ctx.electric_in.append(cp.sum(out, axis=0))
    for k, x in enumerate(units):
        ctx.injections[columns.recovery_kw(x.name)] = out[k]


def add_generation_export(ctx: ModelContext) -> None:
    """Export counted as the park's own non-renewable generation (CHP, fuel cells, diesel,
    waste-heat and waste-pressure power) before any renewable, and taken off the renewable
    spill (the first tier; the export target counts only renewable export), so that such
    generation is exported where that pays instead of being held back as if it were spilled
    renewable energy. It is at most the export, the generators' output, and the surplus the
    forecast leaves for them (their ratings or availability + renewables available - loads,
    at least 0): where export pays more than import, importing for the loads while
    exporting the generation (both at once, which the LP cannot rule out) stays spill and so
    is not planned. After the generators."""
    outputs = [
        cp.sum(ctx.variables[name], axis=0)
        for name in ("chp_electric", "recovery_power")
        if name in ctx.variables
    ]
    if not outputs:
        return
    site, layout = ctx.site, ctx.layout
    rating = sum(x.rated_electric_kw for x in site.assets.chp)

    def surplus(inputs: DispatchInputs) -> np.ndarray:
        loads = np.asarray(inputs.load_kw, dtype=float)
        generation = rating + layout.recovery_available_kw(loads).sum(axis=0)
        renewable = inputs.pv_available_kw.sum(axis=0) + inputs.wind_available_kw.sum(axis=0)
        return np.asarray(np.clip(generation + renewable - loads.sum(axis=0), 0.0, None))

    headroom = ctx.param("generation_surplus", (ctx.horizon,), surplus, nonneg=True)
    exported = ctx.var("generation_export", (ctx.horizon,))
    ctx.add("generation_export_of_export", exported <= ctx.variables["grid_export"])
    ctx.add("generation_export_of_output", exported <= sum(outputs[1:], outputs[0]))
    ctx.add("generation_export_of_surplus", exported <= headroom)
    ctx.add_term("spill_kwh", -ctx.dt * cp.sum(exported))
