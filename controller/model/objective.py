"""Policy targets over the horizon, and the objective tiers the stages minimise.

Tier expressions contain no parameter products with other parameters, so every stage
objective is DPP: the available-renewable part of the spill is data and is added outside.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.config import Objective
from controller.inputs.dispatch_inputs import NO_LIMIT, DispatchInputs
from controller.model.context import ModelContext

BIG_CAP = 10 * NO_LIMIT
"""A tier cap that does not bind (a cap parameter cannot be infinite; HiGHS gets inf)."""


def available_renewable_kwh(inputs: DispatchInputs) -> float:
    renewables = inputs.pv_available_kw.sum() + inputs.wind_available_kw.sum()
    return float(renewables * inputs.hours_per_step)


def add_policy_targets(ctx: ModelContext) -> None:
    """Self-consumption >= target and export <= target, as shares of the renewable energy
    available over the horizon, plus what the year so far leaves this horizon of the annual
    budget (see :class:`controller.inputs.state.RenewableTally`); where the site sets one, the
    renewable share of consumption >= its target over the horizon. Soft, priced between
    spill and physical limits."""
    site = ctx.site
    if not ctx.config.enforce_policy_targets or not (site.assets.pv or site.assets.wind):
        return
    pen = ctx.config.penalties
    policy = site.policy
    available = ctx.param("available_kwh", (), available_renewable_kwh, nonneg=True)
    exported = ctx.dt * cp.sum(ctx.variables["grid_export"])
    if "generation_export" in ctx.variables:  # renewable export only
        exported = exported - ctx.dt * cp.sum(ctx.variables["generation_export"])
    shortfall = _horizon_slack(ctx, "self_consumption_target", pen.self_consumption_target_per_kwh)
    excess = _horizon_slack(ctx, "export_target", pen.export_target_per_kwh)
    spill_budget = ctx.param("spill_budget", (), lambda i: i.spill_budget_kwh)
    export_budget = ctx.param("export_budget", (), lambda i: i.export_budget_kwh)
    spill = ctx.terms["spill_kwh"] + available
    ctx.add(
        "self_consumption_target",
        spill <= (1.0 - policy.min_self_consumption_ratio) * available + spill_budget + shortfall,
    )
    ctx.add(
        "export_target",
        exported <= policy.max_export_ratio * available + export_budget + excess,
    )
    share = policy.min_renewable_share_of_consumption
    if share is not None:
        used = available - spill
        imported = ctx.dt * cp.sum(ctx.variables["grid_import"])
        short = _horizon_slack(ctx, "renewable_share_target", pen.self_consumption_target_per_kwh)
        ctx.add("renewable_share_target", (1.0 - share) * used - share * imported + short >= 0)


def _horizon_slack(ctx: ModelContext, name: str, penalty: float) -> cp.Variable:
    """The slack of a target over the whole horizon [kWh]."""
    return ctx.slack(name, (), "kWh", penalty, 1.0, per_interval=False)


def violation_expression(ctx: ModelContext) -> cp.Expression:
    """Sum of penalty x slack energy over every soft constraint."""
    parts = [s.penalty * s.energy_factor * cp.sum(s.variable) for s in ctx.slacks.values()]
    return cp.sum(cp.hstack(parts)) if parts else cp.Constant(0.0)


def tier_expressions(ctx: ModelContext) -> dict[Objective, cp.Expression]:
    """Parameter-free-where-it-matters expressions of each tier (spill without its data part)."""
    terms = ctx.terms

    def term(name: str) -> cp.Expression:
        return terms.get(name, cp.Constant(0.0))

    cost = (
        term("energy_cny")
        + term("demand_charge_cny")
        + term("degradation_cny")
        + term("fuel_cny")
        + term("start_cny")
        + term("flexibility_cny")
        - term("hydrogen_revenue_cny")
        - term("export_revenue_cny")
        + term("deviation_cny")
    )
    return {
        Objective.RENEWABLES: term("spill_kwh"),
        Objective.COST: cost,
        Objective.CO2: term("co2_kg"),
    }


def tier_offset(objective: Objective, inputs: DispatchInputs) -> float:
    """Data part of a tier's value (added to the model expression to get the tier value)."""
    return available_renewable_kwh(inputs) if objective is Objective.RENEWABLES else 0.0


def co2_upper_bound_kg(ctx: ModelContext, inputs: DispatchInputs) -> float:
    """An upper bound on the CO2 of any unrelaxed plan of the horizon, for the weight that
    folds CO2 into the tier above it: per interval the import is at most the import limit
    and at most everything that can consume at once (loads, heat pumps, electric boilers,
    battery charging, losses) plus what can be exported at the same time; every fuel boiler
    and CHP unit at capacity. The tighter the bound, the
    larger the weight and the surer the tie-break (the cost bound holds either way)."""
    site = ctx.site
    a = site.assets
    real = inputs.real
    consumers = sum(h.electric_kw for h in a.heat_pumps) + sum(b.charge_kw for b in a.batteries)
    consumers += sum(e.rated_kw for e in a.electrolysers)
    consumers += sum(b.max_kw for b in a.batch_loads) + sum(
        s.max_extra_kw for s in a.shiftable_loads
    )
    consumers += sum(
        a.boilers[k].capacity_kw_th / a.boilers[k].efficiency for k in ctx.layout.electric_boilers
    )
    losses = real(inputs.network.losses_kw) if inputs.network is not None else 0.0
    most = real(inputs.load_kw).sum(axis=0) + consumers + losses + real(inputs.export_limit_kw)
    grid_kwh = float(np.minimum(real(inputs.import_limit_kw), most).sum()) * ctx.dt
    fuel = sum(
        b.capacity_kw_th
        / b.efficiency
        * b.emission_factor_kg_per_kwh_fuel
        * inputs.n_steps
        * ctx.dt
        for k, b in enumerate(a.boilers)
        if k in ctx.layout.fuel_boilers
    )
    fuel += sum(
        c.rated_electric_kw
        / c.electric_efficiency
        * c.emission_factor_kg_per_kwh_fuel
        * inputs.n_steps
        * ctx.dt
        for c in a.chp
    )
    return max(grid_kwh * site.grid_emission_factor.kg_co2_per_kwh + fuel, 1.0)
