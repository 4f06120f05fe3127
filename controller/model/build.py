"""The dispatch LP of one site and horizon length, assembled in order, compiled per stage.

``build_model`` reads as the list of what the model holds: variables and constraints per
asset family, then the network, the policy targets, and the stage objectives. Time series
are cvxpy Parameters, so the same problems are re-solved with new data (DPP).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp

from controller.config import DispatchConfig, Objective
from controller.inputs.layout import Layout
from controller.kinds import PlanKind
from controller.model.context import ModelContext
from controller.model.electric import (
    add_battery,
    add_demand_charge,
    add_electric_balance,
    add_grid_connection,
    add_loads,
    add_pv,
    add_wind,
)
from controller.model.flexible import (
    add_batch_loads,
    add_curtailable_loads,
    add_shiftable_loads,
)
from controller.model.generation import add_chp, add_generation_export, add_recovery_power
from controller.model.heat import (
    add_boiler,
    add_heat_balance,
    add_heat_pump,
    add_thermal_storage,
    add_waste_heat,
)
from controller.model.hydrogen import add_hydrogen
from controller.model.network import add_network
from controller.model.objective import (
    BIG_CAP,
    add_policy_targets,
    tier_expressions,
    violation_expression,
)
from controller.network.linear import LinearNetwork
from sites import Site


@dataclass(frozen=True)
class Stage:
    """One solve: minimise ``tier`` (with soft-constraint penalties in the first stage, and
    ``folded`` times a small weight where the last tier is folded in)."""

    tier: Objective
    problem: cp.Problem
    folded: Objective | None


@dataclass(frozen=True)
class DispatchModel:
    ctx: ModelContext
    stages: tuple[Stage, ...]
    tiers: dict[Objective, cp.Expression]
    violations: cp.Expression
    caps: dict[str, cp.Parameter]
    fold_weight: cp.Parameter


def build_model(
    site: Site,
    horizon: int,
    kind: PlanKind,
    config: DispatchConfig,
    linear: LinearNetwork,
    network_rows: tuple[int, ...],
) -> DispatchModel:
    ctx = ModelContext(site, Layout(site), horizon, kind, config, linear, network_rows)
    add_grid_connection(ctx)
    add_pv(ctx)
    add_wind(ctx)
    add_loads(ctx)
    add_batch_loads(ctx)
    add_curtailable_loads(ctx)
    add_shiftable_loads(ctx)
    add_battery(ctx)
    add_demand_charge(ctx)
    add_heat_pump(ctx)
    add_waste_heat(ctx)
    add_thermal_storage(ctx)
    add_boiler(ctx)
    add_chp(ctx)
    add_hydrogen(ctx)
    add_recovery_power(ctx)
    add_generation_export(ctx)
    add_heat_balance(ctx)
    add_electric_balance(ctx)
    add_network(ctx)
    add_policy_targets(ctx)
    return _stages(ctx)


def _stages(ctx: ModelContext) -> DispatchModel:
    config = ctx.config
    tiers = tier_expressions(ctx)
    violations = violation_expression(ctx)
    caps = {t.value: cp.Parameter(name=f"cap_{t.value}") for t in Objective}
    caps["violations"] = cp.Parameter(name="cap_violations")
    for cap in caps.values():
        cap.value = BIG_CAP
    held = [violations <= caps["violations"]]
    held += [tiers[t] <= caps[t.value] for t in Objective]
    fold_weight = cp.Parameter(nonneg=True, name="fold_weight", value=0.0)
    base = list(ctx.constraints.values()) + held

    order = list(config.priority)
    folded: Objective | None = None
    if len(order) >= 2 and order[-1] is Objective.CO2:
        folded = order.pop()  # CO2 has no parameter in it: a DPP weight may multiply it
    throughput = ctx.terms.get("throughput_kwh", cp.Constant(0.0))
    stages = []
    for k, tier in enumerate(order):
        objective = tiers[tier]
        if tier is Objective.RENEWABLES:
            objective = objective + config.storage_cycle_weight * throughput
        if k == 0:
            objective = objective + violations
        fold = folded if k == len(order) - 1 else None
        if fold is not None:
            objective = objective + fold_weight * tiers[fold]
        stages.append(Stage(tier, cp.Problem(cp.Minimize(objective), base), fold))
    return DispatchModel(ctx, tuple(stages), tiers, violations, caps, fold_weight)
