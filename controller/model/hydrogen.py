"""Hydrogen as storage: electrolysers, hydrogen tanks, fuel cells, the offtake's value.

- An electrolyser's input lies within its rating; the hydrogen it stores is at most its
  curve at that input: below each chord of the curve's points, which for a curve that makes
  hydrogen at a falling rate as the load rises (the site check holds it so) is the curve
  itself, without binaries. A ``min_load_fraction`` above 0 adds an on/off binary per
  interval (``min x rating x on <= input <= rating x on``, the chords' intercepts times
  ``on``): the site's problem becomes a MILP, solved as the CHP's
  (:func:`controller.solve._run_milp_stages`).
- A tank's level follows ``level(t) = kept x level(t-1) + dt x (stored - drawn -
  offtake)`` within [0, capacity] (physics, never relaxed), ends at least at its start
  less the standing loss over the horizon (soft), and its offtake earns
  ``value_cny_per_kg`` in the cost tier.
- A fuel cell's output lies within its rating and draws ``output / kwh_per_kg`` from its tank.

Under the default priority (renewable spill first) an electrolyser takes surplus renewable
energy before it is exported whatever hydrogen is worth: it is used on site. With cost
first it runs where hydrogen's value per kWh beats the export price (or the import price).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.model.context import ModelContext
from sites import columns

HYDROGEN_END_PENALTY_PER_KG = 1e3
"""A tank ending below its start: dearer than any hydrogen's value (tens of CNY per kg)."""


def _level_in(inputs: DispatchInputs) -> np.ndarray:
    assert inputs.hydrogen is not None, "prepare() sets the hydrogen inputs"
    return inputs.hydrogen.level_in_kg


def _target(inputs: DispatchInputs) -> np.ndarray:
    assert inputs.hydrogen is not None, "prepare() sets the hydrogen inputs"
    return inputs.hydrogen.target_kg


def add_hydrogen(ctx: ModelContext) -> None:
    a = ctx.site.assets
    tanks = a.hydrogen_tanks
    if not tanks:
        return
    h, dt = ctx.horizon, ctx.dt
    position = {t.name: k for k, t in enumerate(tanks)}
    active = ctx.active()
    net: list[list[cp.Expression]] = [[] for _ in tanks]
    if a.electrolysers:
        power = ctx.var("electrolyser_power", (len(a.electrolysers), h))
        stored = ctx.var("electrolyser_hydrogen", (len(a.electrolysers), h))
        for k, e in enumerate(a.electrolysers):
            on: cp.Expression | float = 1.0
            if e.needs_commitment:
                binary = cp.Variable((h,), boolean=True, name=f"electrolyser_{e.name}_on")
                ctx.variables[f"electrolyser_{e.name}_on"] = binary
                ctx.add(f"electrolyser_{e.name}_on_rating", power[k] <= e.rated_kw * binary)
                low = e.min_load_fraction * e.rated_kw
                ctx.add(f"electrolyser_{e.name}_min_load", power[k] >= low * binary)
                ctx.add(f"electrolyser_{e.name}_on_active", binary <= active)
                on = binary
            ctx.add(f"electrolyser_{e.name}_rating", power[k] <= e.rated_kw * active)
            points = e.curve_points()
            for s, ((p0, m0), (p1, m1)) in enumerate(zip(points, points[1:], strict=False)):
                slope = (m1 - m0) / (p1 - p0)
                intercept = m0 - slope * p0
                ctx.add(
                    f"electrolyser_{e.name}_curve_{s}",
                    stored[k] <= slope * power[k] + intercept * on,
                )
            net[position[e.tank]].append(stored[k])
            ctx.injections[columns.electrolyser_kw(e.name)] = power[k]
        ctx.electric_out.append(cp.sum(power, axis=0))
    if a.hydrogen_fuel_cells:
        out = ctx.var("hydrogen_fuel_cell_power", (len(a.hydrogen_fuel_cells), h))
        for k, cell in enumerate(a.hydrogen_fuel_cells):
            ctx.add(f"hydrogen_fuel_cell_{cell.name}_rating", out[k] <= cell.rated_kw * active)
            net[position[cell.tank]].append(-out[k] / cell.kwh_per_kg)
            ctx.injections[columns.hydrogen_fuel_cell_kw(cell.name)] = out[k]
        ctx.electric_in.append(cp.sum(out, axis=0))
    n = len(tanks)
    level = ctx.var("hydrogen_level", (n, h))
    offtake = ctx.var("hydrogen_offtake", (n, h))
    level_in = ctx.param("hydrogen_level_in", (n, h), _level_in, nonneg=True)
    target = ctx.param("hydrogen_target", (n,), _target, nonneg=True)
    short = ctx.slack(
        "hydrogen_end_level", (n,), "kg", HYDROGEN_END_PENALTY_PER_KG, 1.0, per_interval=False
    )
    terminal = ctx.terminal()
    for k, tank in enumerate(tanks):
        keep = tank.kept_over(dt)
        previous = cp.hstack([np.zeros(1), level[k, :-1]])
        flows = cp.sum(cp.vstack(net[k]), axis=0) if net[k] else np.zeros(h)
        ctx.add(
            f"hydrogen_tank_{tank.name}_dynamics",
            level[k] == keep * previous + level_in[k] + dt * (flows - offtake[k]),
            inequality=False,
        )
        ctx.add(f"hydrogen_tank_{tank.name}_capacity", level[k] <= tank.capacity_kg)
        ctx.add(
            f"hydrogen_tank_{tank.name}_offtake",
            offtake[k] <= tank.max_offtake_kg_per_h * active,
        )
    ctx.add("hydrogen_end_level", level @ terminal >= target - short)
    value = np.array([t.value_cny_per_kg for t in tanks])
    ctx.add_term("hydrogen_revenue_cny", dt * (value @ cp.sum(offtake, axis=1)))
