"""Dispatchable generation: gas CHP (combined heat and power).

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
