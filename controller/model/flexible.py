"""Flexible process loads: batches in a window, curtailable and shiftable shares of a load.

- ``add_batch_loads``: each batch's draw lies within [0, ``max_kw``] inside its daily windows
  and is 0 outside; each window's energy reaches what it still needs (soft, priced as
  physics: a batch not finished is a relaxation) and not more than that. A batch with a
  ``min_kw`` gets an on/off binary per interval (``min_kw`` x on <= draw <= ``max_kw`` x on),
  and its site's problem becomes a MILP solved as the CHP's is
  (:func:`controller.solve._run_milp_stages`).
- ``add_curtailable_loads``: shed up to ``max_fraction`` of the load's low forecast (P10:
  the plant can shed what is set unless the load comes in below it), paid at
  ``cost_cny_per_kwh`` in the cost tier.
- ``add_shiftable_loads``: take ``down`` off (at most ``max_fraction`` of the load's low
  forecast) and add ``up`` (at most ``max_extra_kw``); the backlog (deferred, not yet made
  up) follows ``backlog(t) = backlog(t-1) + (down - up) x dt``. Served first in, first
  out, the share's energy moves by at most ``max_shift_h`` hours exactly where the backlog
  is at most the share's baseline energy over the last ``max_shift_h`` hours (deferred) and
  at least minus that over the next ones (advanced): bounds of data alone, so moving up and
  down at once gains nothing. The baseline before the horizon comes from the state
  (``MeasuredState.shift_recent_kwh``); energy cannot be advanced from beyond the horizon,
  and the horizon ends with the backlog settled (soft). The window rows are soft
  (``shift_window``, priced as physics): a load below its low forecast may leave the plant
  a backlog no plan can settle in time.

Each draw is a network injection (a batch at its bus, a shed or a move at its load's), so
the network rows and the AC check see them.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.inputs.flexible import FlexibleInputs, windows_per_horizon
from controller.model.context import ModelContext
from sites import columns

BATCH_PENALTY_PER_KWH = 1e3
"""A batch not finished in its window: priced as physics (see ``Penalties``)."""
SHIFT_END_PENALTY_PER_KWH = 1e2
"""A backlog left at the horizon's end: priced as a storage's end level (see ``Penalties``)."""


def _flex(inputs: DispatchInputs) -> FlexibleInputs:
    flexible = inputs.flexible
    assert flexible is not None, "prepare() sets the flexible loads' inputs"
    return flexible


def add_batch_loads(ctx: ModelContext) -> None:
    batches = ctx.site.assets.batch_loads
    n, h, dt = len(batches), ctx.horizon, ctx.dt
    if n == 0:
        return
    w = windows_per_horizon(h)
    power = ctx.var("batch_power", (n, h))
    short = ctx.slack("batch_energy", (n, w), "kWh", BATCH_PENALTY_PER_KWH, 1.0, False)
    over = ctx.slack("batch_energy_over", (n, w), "kWh", BATCH_PENALTY_PER_KWH, 1.0, False)
    for k, batch in enumerate(batches):

        def window(i: DispatchInputs, k: int = k) -> np.ndarray:
            return _flex(i).batch_window[k]

        def need(i: DispatchInputs, k: int = k) -> np.ndarray:
            return _flex(i).batch_need_kwh[k]

        def inside(i: DispatchInputs, k: int = k) -> np.ndarray:
            return _flex(i).batch_in_window[k]

        rows = ctx.param(f"batch_{batch.name}_window", (w, h), window, nonneg=True)
        needed = ctx.param(f"batch_{batch.name}_need", (w, 2), need, nonneg=True)
        open_ = ctx.param(f"batch_{batch.name}_open", (h,), inside, nonneg=True)
        energy = dt * (rows @ power[k])
        ctx.add(f"batch_{batch.name}_energy", energy >= needed[:, 0] - short[k])
        ctx.add(f"batch_{batch.name}_energy_most", energy <= needed[:, 1] + over[k])
        if batch.needs_commitment:
            on = cp.Variable((h,), boolean=True, name=f"batch_{batch.name}_on")
            ctx.variables[f"batch_{batch.name}_on"] = on
            ctx.add(f"batch_{batch.name}_max", power[k] <= batch.max_kw * on)
            ctx.add(f"batch_{batch.name}_min", power[k] >= batch.min_kw * on)
            ctx.add(f"batch_{batch.name}_window", on <= open_)
        else:
            ctx.add(f"batch_{batch.name}_max", power[k] <= batch.max_kw * open_)
    ctx.electric_out.append(cp.sum(power, axis=0))
    for k, batch in enumerate(batches):
        ctx.injections[columns.batch_kw(batch.name)] = power[k]


def add_curtailable_loads(ctx: ModelContext) -> None:
    parts = ctx.site.assets.curtailable_loads
    n, h, dt = len(parts), ctx.horizon, ctx.dt
    if n == 0:
        return
    share = ctx.param("curtail_base", (n, h), lambda i: _flex(i).curtail_base_kw, nonneg=True)
    shed = ctx.var("curtailed", (n, h))
    ctx.add("curtail_share", shed <= share)
    cost = np.array([x.cost_cny_per_kwh for x in parts])
    ctx.electric_in.append(cp.sum(shed, axis=0))
    for k, part in enumerate(parts):
        ctx.injections[columns.curtailed_kw(part.name)] = shed[k]
    ctx.add_term("flexibility_cny", dt * (cost @ cp.sum(shed, axis=1)))


def _window_sum(h: int, steps: int, ahead: bool = False) -> sp.csr_matrix:
    """(h, h) row t sums columns t - steps + 1 .. t (``ahead``: t + 1 .. t + steps)."""
    rows, cols = [], []
    for t in range(h):
        span = range(t + 1, min(h, t + steps + 1)) if ahead else range(max(0, t - steps + 1), t + 1)
        for s in span:
            rows.append(t)
            cols.append(s)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(h, h))


def add_shiftable_loads(ctx: ModelContext) -> None:
    parts = ctx.site.assets.shiftable_loads
    n, h, dt = len(parts), ctx.horizon, ctx.dt
    if n == 0:
        return
    active = ctx.active()
    down = ctx.var("shift_down", (n, h))
    up = ctx.var("shift_up", (n, h))
    backlog = cp.Variable((n, h), name="shift_backlog")
    ctx.variables["shift_backlog"] = backlog
    backlog0 = ctx.param("shift_backlog0", (n,), lambda i: _flex(i).shift_backlog0_kwh)
    base = ctx.param("shift_base", (n, h), lambda i: _flex(i).shift_base_kw, nonneg=True)
    previous = cp.hstack([cp.reshape(backlog0, (n, 1), order="F"), backlog[:, :-1]])
    ctx.add("shift_backlog_dynamics", backlog == previous + dt * (down - up), inequality=False)
    end = ctx.slack("shift_end", (n,), "kWh", SHIFT_END_PENALTY_PER_KWH, 1.0, per_interval=False)
    late = ctx.slack("shift_window", (n, h), "kWh", BATCH_PENALTY_PER_KWH, 1.0)
    terminal = ctx.terminal()
    for k, part in enumerate(parts):

        def carry(i: DispatchInputs, k: int = k) -> np.ndarray:
            return _flex(i).shift_carry_kwh[k]

        held = ctx.param(f"shift_{part.name}_carry", (2, h), carry, nonneg=True)
        behind = _window_sum(h, part.shift_steps)
        ahead = _window_sum(h, part.shift_steps, ahead=True)
        ctx.add(f"shift_{part.name}_share", down[k] <= base[k])
        ctx.add(f"shift_{part.name}_extra", up[k] <= part.max_extra_kw * active)
        ctx.add(
            f"shift_{part.name}_deferred",
            backlog[k] <= dt * (behind @ base[k]) + held[0] + late[k],
        )
        ctx.add(
            f"shift_{part.name}_advanced",
            -backlog[k] <= dt * (ahead @ base[k]) + held[1] + late[k],
        )
        ctx.add(f"shift_{part.name}_end", cp.abs(backlog[k] @ terminal) <= end[k])
    cost = np.array([x.cost_cny_per_kwh for x in parts])
    ctx.electric_out.append(cp.sum(up - down, axis=0))
    for k, part in enumerate(parts):
        ctx.injections[columns.shift_down_kw(part.name)] = down[k]
        ctx.injections[columns.shift_up_kw(part.name)] = up[k]
    ctx.add_term("flexibility_cny", dt * (cost @ cp.sum(down, axis=1)))
