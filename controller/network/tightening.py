"""Right-hand sides of the network rows for one planning step, and AC tightening.

Around the operating point x0 (the rule-based dispatch) with its AC voltages and losses:
flow rows get the branch rating at the from-end voltage, voltage rows the limit minus the
AC voltage plus the linear term at x0. Rows no dispatch within this step's bounds can bring
near their limit get none in that interval. Where the AC check of a plan finds a
violation, that element's rows in that interval are tightened by the AC error plus a margin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from controller.inputs.dispatch_inputs import (
    DispatchInputs,
    NetworkData,
    connection_limits,
    layout_for,
)
from controller.network.linear import UNBOUNDED_RHS, LinearNetwork, RowKind
from network_models import VIOLATION_COLUMNS, Verification
from sites import Site, columns

INTERVAL_SCREEN_FRACTION = 0.9
"""A row is kept in an interval where its worst case can come within 10 % of its limit."""
VM_MARGIN_PU = 0.001  # extra voltage tightening beyond the AC error


def row_rhs(
    site: Site,
    linear: LinearNetwork,
    x0: np.ndarray,
    vm0: np.ndarray,
    reduction: np.ndarray,
    horizon: int,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    flow_margin: float,
    forecast_margin: np.ndarray | None = None,
) -> np.ndarray:
    """Scaled right-hand sides (n_rows, horizon) around the operating point ``x0`` (T, n_col)
    with AC voltages ``vm0`` (T, n_bus); ``reduction`` (n_rows, T) is the tightening so far
    [raw units]; flow rows hold their branch ``flow_margin`` (a share of the rating) below
    it, and every row ``forecast_margin`` (n_rows, T) [raw units] below its limit where
    given. With ``bounds`` (lower, upper), each (T, n_col), of what the injections can be in
    each interval, a row that no dispatch within them can bring within
    ``INTERVAL_SCREEN_FRACTION`` of its limit gets no limit in that interval (the solver's
    presolve then drops it), unless the AC check has tightened it there."""
    n = x0.shape[0]
    rhs = np.full((linear.n_rows, horizon), UNBOUNDED_RHS)
    if linear.n_rows == 0 or n == 0:
        return rhs
    linear_x0 = linear.coef @ x0.T  # (rows, T)
    raw = np.zeros((linear.n_rows, n))
    flow, high, low = (linear.rows_of_kind[k] for k in RowKind)
    from_bus = linear.from_bus[flow]
    vm_from = vm0[:, from_bus].T
    vm_from = np.where(np.isnan(vm_from), linear.bus_vm_min_pu[from_bus, None], vm_from)
    rating = linear.rating_mva[flow, None] * (1.0 - flow_margin)
    raw[flow] = rating * vm_from - linear.offset[flow, None]
    vm_high = np.nan_to_num(vm0[:, linear.positions[high]].T, nan=1.0)
    raw[high] = linear.bus_vm_max_pu[linear.positions[high], None] - vm_high + linear_x0[high]
    vm_low = np.nan_to_num(vm0[:, linear.positions[low]].T, nan=1.0)
    raw[low] = -linear.bus_vm_min_pu[linear.positions[low], None] + vm_low + linear_x0[low]
    raw = raw - reduction
    if forecast_margin is not None:
        raw = raw - forecast_margin
    real = rhs[:, horizon - n :]
    real[:] = raw * linear.scale[:, None]
    if bounds is not None:
        lower, upper = bounds
        worst = linear.coef_positive @ upper.T + linear.coef_negative @ lower.T  # (rows, T)
        slack = np.abs(raw) * (1.0 - INTERVAL_SCREEN_FRACTION)
        idle = (worst < raw - slack) & (reduction <= 0)
        real[idle] = UNBOUNDED_RHS
    return rhs


@dataclass
class Tightening:
    """Accumulated AC tightening of one planning step (mutable while the step runs)."""

    reduction: np.ndarray
    """(n_rows, T) raw units."""
    import_reduction_kw: np.ndarray
    export_reduction_kw: np.ndarray
    screened: np.ndarray
    notes: list[str]


def new_tightening(linear: LinearNetwork, n_steps: int) -> Tightening:
    return Tightening(
        np.zeros((linear.n_rows, n_steps)),
        np.zeros(n_steps),
        np.zeros(n_steps),
        linear.screened.copy(),
        [],
    )


def tighten(
    site: Site,
    linear: LinearNetwork,
    verification: Verification,
    tightening: Tightening,
    margin_fraction: float,
    planned_import_kw: np.ndarray,
    planned_export_kw: np.ndarray,
    relaxed: np.ndarray | None = None,
) -> bool:
    """Tighten the rows of every element the AC check found in violation. Returns False when
    nothing could be tightened (no violation, or only ones no row describes).

    The grid limits are tightened by the AC error of the planned exchange (the loss estimate)
    only where the plan held them; where the plan already relaxed a limit, tightening it
    would only relax it further. The same holds for network rows: ``relaxed`` (n_rows, T)
    marks where the plan's own slack let a row give way. Only rows the model holds are
    tightened; an element none of whose rows it holds gets all of them (a new model)."""
    index = verification.index
    position = {t: k for k, t in enumerate(index)}
    by_element = linear.rows_of_element
    vm = verification.vm_pu_values
    changed = False
    violations = verification.violations
    records = zip(*(violations[c].tolist() for c in VIOLATION_COLUMNS), strict=True)
    for interval, element, quantity, value, limit in records:
        t = position.get(interval)
        if t is None:
            continue
        value, limit = float(value), float(limit)
        element, quantity = str(element), str(quantity)
        if element == "grid_connection":
            planned = planned_import_kw[t] if quantity == "import_kw" else planned_export_kw[t]
            if planned > limit * (1 + margin_fraction):
                continue  # relaxed in the plan itself, reported there
            excess = value - limit + margin_fraction * limit
            if quantity == "import_kw":
                tightening.import_reduction_kw[t] += excess
            else:
                tightening.export_reduction_kw[t] += excess
            changed = True
            tightening.notes.append(f"grid {quantity} at {interval:%H:%M}")
            continue
        rows = by_element.get(element, ())
        if relaxed is not None and any(relaxed[r, t] for r in rows):
            continue  # relaxed in the plan itself, reported there
        held = [r for r in rows if tightening.screened[r]]
        for r in held or rows:
            row = linear.rows[r]
            if row.kind is RowKind.FLOW:
                vm_from = vm[t, linear.from_bus[r]]
                excess = (value / limit - 1.0 + margin_fraction) * linear.rating_mva[r] * vm_from
            elif row.kind is RowKind.VM_MAX and value > limit:
                excess = value - limit + VM_MARGIN_PU
            elif row.kind is RowKind.VM_MIN and value < limit:
                excess = limit - value + VM_MARGIN_PU
            else:
                continue
            tightening.reduction[r, t] += excess
            tightening.screened[r] = True
            changed = True
        tightening.notes.append(f"{element} {quantity} at {interval:%H:%M}")
    return changed


def injection_bounds(
    site: Site, linear: LinearNetwork, inputs: DispatchInputs
) -> tuple[np.ndarray, np.ndarray]:
    """What each network injection column can be in each interval, (T, n_col) twice:
    renewables up to their availability, loads at the forecast, the rest up to rating."""
    n = inputs.n_steps
    real = inputs.real
    a = site.assets
    fixed: dict[str, np.ndarray] = {}
    upto: dict[str, np.ndarray] = {}
    for k, array in enumerate(a.pv):
        upto[columns.pv_kw(array.name)] = real(inputs.pv_available_kw[k])
    for k, turbine in enumerate(a.wind):
        upto[columns.wind_kw(turbine.name)] = real(inputs.wind_available_kw[k])
    for k, load in enumerate(a.electric_loads):
        fixed[columns.load_kw(load.name)] = real(inputs.load_kw[k])
    capacity = layout_for(site).injection_capacity_kw
    lower = np.zeros((n, len(linear.columns)))
    upper = np.zeros((n, len(linear.columns)))
    for j, column in enumerate(linear.columns):
        if column in fixed:
            lower[:, j] = upper[:, j] = fixed[column]
        elif column in upto:
            upper[:, j] = upto[column]
        else:
            upper[:, j] = capacity.get(column, 0.0)
    return lower, upper


def forecast_margin(linear: LinearNetwork, inputs: DispatchInputs) -> np.ndarray:
    """(n_rows, T) [raw units] how far the true loads, PV and wind may bring each row above
    its value at the plan: the root sum of squares over the columns of ``linear.coef`` times
    the forecast error in the direction that raises the row
    (:attr:`controller.inputs.dispatch_inputs.DispatchInputs.forecast_error_kw`; errors taken as
    independent)."""
    squares = np.zeros((linear.n_rows, inputs.n_steps))
    for j, column in enumerate(linear.columns):
        error = inputs.forecast_error_kw.get(column)
        if error is None:
            continue
        above, below = (np.asarray(e)[None, :] for e in error)
        coef = linear.coef[:, j, None]
        squares += np.square(coef * np.where(coef > 0, above, below))
    return np.sqrt(squares)


def with_network(
    site: Site,
    inputs: DispatchInputs,
    linear: LinearNetwork,
    x0: np.ndarray,
    ac: Verification,
    tightening: Tightening,
    losses_kw: np.ndarray,
    flow_margin: float,
) -> DispatchInputs:
    """``inputs`` with the network rows' right-hand sides and the grid limits of this round
    (``flow_margin``: :attr:`controller.config.DispatchConfig.flow_margin_fraction`)."""
    h = inputs.horizon
    bounds = injection_bounds(site, linear, inputs)
    rhs = row_rhs(
        site,
        linear,
        x0,
        ac.vm_pu_values,
        tightening.reduction,
        h,
        bounds,
        flow_margin=flow_margin,
        forecast_margin=forecast_margin(linear, inputs),
    )
    start = inputs.start
    losses = np.zeros(h)
    losses[start:] = np.nan_to_num(losses_kw)
    import_limit, export_limit = connection_limits(site, inputs)
    import_limit[start:] -= tightening.import_reduction_kw
    export_limit[start:] = np.clip(export_limit[start:] - tightening.export_reduction_kw, 0.0, None)
    return dataclasses.replace(
        inputs,
        network=NetworkData(rhs, losses),
        import_limit_kw=import_limit,
        export_limit_kw=export_limit,
    )
