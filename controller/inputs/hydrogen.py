"""Hydrogen outside the LP: plan columns, the arrays a planning step feeds the LP, the
dispatch's part of the plan frame, and the fallback rule.

An electrolyser makes hydrogen along its curve at the power it draws
(:meth:`sites.schema.Electrolyser.hydrogen_kg_per_h`); what its tank cannot take is vented
(a plan vents only where it runs an electrolyser for something other than its hydrogen,
e.g. renewable energy that would otherwise be spilled with the tank full). The tank keeps
its level less the standing loss (:meth:`sites.schema.HydrogenTank.kept_over`), fuel cells
draw ``output / kwh_per_kg`` from it, and the offtake (sold or used by the process) earns
its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from controller.columns import (
    electrolyser_hydrogen_kg_per_h,
    electrolyser_on,
    electrolyser_vented_kg_per_h,
    fuel_cell_hydrogen_kg_per_h,
    tank_level_kg,
    tank_offtake_kg_per_h,
)
from sites import Site
from sites.columns import electrolyser_kw, hydrogen_fuel_cell_kw
from sites.time_step import HOURS_PER_STEP as DT

if TYPE_CHECKING:
    from controller.inputs.state import MeasuredState

__all__ = ["electrolyser_kw", "hydrogen_fuel_cell_kw"]

ON_KW = 1e-3
"""Input above which an electrolyser counts as running [kW] (solver noise is below)."""


def has_hydrogen(site: Site) -> bool:
    a = site.assets
    return bool(a.electrolysers or a.hydrogen_tanks or a.hydrogen_fuel_cells)


@dataclass(frozen=True)
class HydrogenInputs:
    level0_kg: np.ndarray
    """(n_tank,) level as the horizon starts (clipped to the capacity)."""
    level_in_kg: np.ndarray
    """(n_tank, horizon) the start level less one interval's loss in the first real column,
    0 elsewhere (the thermal tanks' way in)."""
    target_kg: np.ndarray
    """(n_tank,) the end level the plan keeps: the start's, less its standing loss over the
    horizon (the stock is not drawn down; what leaks away need not be made again)."""


def prepare_hydrogen(
    site: Site, horizon: int, n_steps: int, state: MeasuredState, issues: list[str]
) -> HydrogenInputs:
    tanks = site.assets.hydrogen_tanks
    level0 = np.zeros(len(tanks))
    target = np.zeros(len(tanks))
    level_in = np.zeros((len(tanks), horizon))
    for k, tank in enumerate(tanks):
        default = tank.initial_level_kg
        level = float(state.hydrogen_level_kg.get(tank.name, default))
        if not np.isfinite(level) or level < 0 or level > tank.capacity_kg:
            issues.append(
                f"hydrogen tank '{tank.name}' level {level:g} kg is outside "
                f"0..{tank.capacity_kg:g}; clipped"
            )
            level = min(max(level, 0.0), tank.capacity_kg) if np.isfinite(level) else default
        level0[k] = level
        target[k] = level * tank.kept_over(DT * n_steps)
        level_in[k, min(horizon - n_steps, horizon - 1)] = level * tank.kept_over(DT)
    return HydrogenInputs(level0, level_in, target)


@dataclass(frozen=True)
class HydrogenDispatch:
    """Setpoints over the real intervals (rows in site order)."""

    electrolyser_kw: np.ndarray
    electrolyser_stored_kg_per_h: np.ndarray
    """Hydrogen each electrolyser puts in its tank (its curve's output less what is vented)."""
    fuel_cell_kw: np.ndarray
    offtake_kg_per_h: np.ndarray
    level0_kg: np.ndarray


def _clean(values: np.ndarray) -> np.ndarray:
    out = np.clip(np.asarray(values, dtype=float), 0.0, None)
    out[out < 1e-7] = 0.0
    return out


def hydrogen_frame(
    site: Site, d: HydrogenDispatch
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The hydrogen columns, their net draw on the park [kW] and their cost per hour
    [CNY/h] (the offtake's value, negative) per interval."""
    a = site.assets
    n = d.offtake_kg_per_h.shape[-1]  # every array is (assets, intervals); a tank is there
    data: dict[str, np.ndarray] = {}
    draw, cost = np.zeros(n), np.zeros(n)
    into = {t.name: np.zeros(n) for t in a.hydrogen_tanks}
    for k, e in enumerate(a.electrolysers):
        power = _clean(d.electrolyser_kw[k])
        made = np.array([e.hydrogen_kg_per_h(p) for p in power])
        stored = np.minimum(_clean(d.electrolyser_stored_kg_per_h[k]), made)
        data[electrolyser_kw(e.name)] = power
        data[electrolyser_on(e.name)] = (power > ON_KW).astype(float)
        data[electrolyser_hydrogen_kg_per_h(e.name)] = made
        vented = made - stored
        vented[vented < 1e-6] = 0.0
        data[electrolyser_vented_kg_per_h(e.name)] = vented
        into[e.tank] += made - vented
        draw += power
    for k, cell in enumerate(a.hydrogen_fuel_cells):
        out = _clean(d.fuel_cell_kw[k])
        data[hydrogen_fuel_cell_kw(cell.name)] = out
        data[fuel_cell_hydrogen_kg_per_h(cell.name)] = out / cell.kwh_per_kg
        into[cell.tank] -= out / cell.kwh_per_kg
        draw -= out
    for k, tank in enumerate(a.hydrogen_tanks):
        offtake = _clean(d.offtake_kg_per_h[k])
        data[tank_offtake_kg_per_h(tank.name)] = offtake
        keep = tank.kept_over(DT)
        level = np.zeros(n)
        before = float(d.level0_kg[k])
        for t in range(n):
            before = max(keep * before + DT * (into[tank.name][t] - offtake[t]), 0.0)
            level[t] = before
        level[level < 1e-7] = 0.0
        data[tank_level_kg(tank.name)] = level
        cost -= tank.value_cny_per_kg * offtake
    return data, draw, cost
