"""The rule-based plan's flexible process loads and hydrogen (:mod:`controller.fallback.rules`)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.inputs.flexible import (
    FlexibleDispatch,
    batch_windows,
    load_position,
)
from controller.inputs.hydrogen import ON_KW, HydrogenDispatch
from sites import Site
from sites.time_step import HOURS_PER_STEP as DT


def fallback_flexible(site: Site, inputs: DispatchInputs) -> FlexibleDispatch:
    """The rule-based plan's flexible loads: batches as early as allowed
    (:func:`fallback_batches`), no curtailment, nothing shifted but the starting backlog,
    settled as soon as the extra draw (deferred energy) or the load's share (advanced
    energy) allows."""
    a = site.assets
    n = inputs.n_steps
    flexible = inputs.flexible
    delivered = np.zeros(len(a.batch_loads)) if flexible is None else flexible.batch_delivered_kwh
    backlog0 = np.zeros(len(a.shiftable_loads)) if flexible is None else flexible.shift_backlog0_kwh
    out = FlexibleDispatch.idle(site, n, backlog0, delivered)
    batches = fallback_batches(
        site, inputs.index, {b.name: float(delivered[k]) for k, b in enumerate(a.batch_loads)}
    )
    loads = inputs.real(inputs.load_kw)
    down, up = out.shift_down_kw.copy(), out.shift_up_kw.copy()
    for k, shift in enumerate(a.shiftable_loads):
        left = float(backlog0[k])
        share = shift.max_fraction * loads[load_position(site, shift.load)]
        for t in range(n):
            if abs(left) <= 1e-9:
                break
            if left > 0:
                up[k, t] = min(shift.max_extra_kw, left / DT)
                left -= up[k, t] * DT
            else:
                down[k, t] = min(share[t], -left / DT)
                left += down[k, t] * DT
    return FlexibleDispatch(
        batches, out.curtailed_kw, down, up, out.shift_backlog0_kwh, out.batch_delivered0_kwh
    )


def fallback_batches(
    site: Site, index: pd.DatetimeIndex, delivered: dict[str, float]
) -> np.ndarray:
    """(n_batch, T) the rule-based plan's batches: each runs at ``max_kw`` from the opening
    of its window (or the horizon's start) until its energy is in (what
    is left, spread evenly over the intervals it needs at ``max_kw``, at least ``min_kw``)."""
    a = site.assets
    out = np.zeros((len(a.batch_loads), len(index)))
    for k, batch in enumerate(a.batch_loads):
        for window in batch_windows(batch, index, delivered.get(batch.name, 0.0)):
            left = max(batch.energy_kwh - window.delivered_kwh, 0.0)
            if left <= 1e-9:
                continue
            steps = min(int(math.ceil(left / (batch.max_kw * DT) - 1e-9)), len(window.positions))
            power = min(max(left / (steps * DT), batch.min_kw), batch.max_kw)
            out[k, window.positions[:steps]] = power
    return out


def fallback_hydrogen(
    site: Site, inputs: DispatchInputs, surplus_kw: np.ndarray | None = None
) -> HydrogenDispatch:
    """The rule-based plan's hydrogen: each electrolyser, in site order, takes what is left
    of ``surplus_kw`` (renewable surplus after the batteries; none: nothing) up to its
    rating, where that reaches its minimum load, its hydrogen is worth more per kWh than
    the interval's export price and its tank has room for all it makes (else it is off:
    it never vents); fuel cells off and nothing taken from the tanks, which keep their
    level less the standing loss."""
    a = site.assets
    n = inputs.n_steps
    level0 = inputs.hydrogen.level0_kg if inputs.hydrogen is not None else np.zeros(0)
    power = np.zeros((len(a.electrolysers), n))
    stored = np.zeros((len(a.electrolysers), n))
    if surplus_kw is not None and a.electrolysers:
        left = np.asarray(surplus_kw, dtype=float).copy()
        export_price = inputs.real(inputs.export_price_cny_per_kwh)
        tanks = {t.name: (k, t) for k, t in enumerate(a.hydrogen_tanks)}
        level = np.asarray(level0, dtype=float).copy()
        for t in range(n):
            level = level * np.array([x.kept_over(DT) for x in a.hydrogen_tanks])
            for k, unit in enumerate(a.electrolysers):
                j, tank = tanks[unit.tank]
                p = min(left[t], unit.rated_kw)
                if p <= ON_KW or p < unit.min_load_fraction * unit.rated_kw:
                    continue
                made = unit.hydrogen_kg_per_h(p)
                if tank.value_cny_per_kg * made / p <= export_price[t]:
                    continue
                if level[j] + made * DT > tank.capacity_kg:
                    continue
                power[k, t], stored[k, t] = p, made
                level[j] += made * DT
                left[t] -= p
    return HydrogenDispatch(
        power,
        stored,
        np.zeros((len(a.hydrogen_fuel_cells), n)),
        np.zeros((len(a.hydrogen_tanks), n)),
        np.asarray(level0, dtype=float),
    )
