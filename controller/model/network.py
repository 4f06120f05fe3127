"""Network limits in the model: the screened linear rows of :mod:`controller.network.linear`."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.model.context import ModelContext
from controller.network.linear import UNBOUNDED_RHS


def add_network(ctx: ModelContext) -> None:
    """Scaled rows A x(t) <= rhs(t) for line and transformer loading and bus voltages (soft:
    a load no dispatch can supply within the network's limits is a relaxation)."""
    rows = np.asarray(ctx.network_rows, dtype=int)
    if rows.size == 0:
        return
    linear = ctx.linear
    h = ctx.horizon
    matrix = linear.coef[rows] * linear.scale[rows, None]
    keep = np.abs(matrix).max(axis=0) > 0
    used_columns = [c for c, k in zip(linear.columns, keep, strict=True) if k]
    injections = cp.vstack([ctx.injections[c] for c in used_columns])

    def feed(inputs: DispatchInputs) -> np.ndarray:
        if inputs.network is None:
            return np.full((rows.size, inputs.horizon), UNBOUNDED_RHS)
        return inputs.network.rhs[rows]

    rhs = ctx.param("network_rhs", (rows.size, h), feed)
    over = ctx.slack(
        "network_limit", (rows.size, h), "kW-eq", ctx.config.penalties.network_per_kwh, ctx.dt
    )
    ctx.add("network_limit", matrix[:, keep] @ injections <= rhs + over)
