"""Batched AC power flow: many intervals of one pandapower network, without a runpp each.

`BatchPowerFlow` runs `pandapower.runpp` once on a deep copy of the net to obtain pandapower's
internal model (admittance matrices, bus and branch lookups, per-unit base), then solves all
intervals with a vectorised Newton-Raphson in chunks: fixed-Jacobian steps for the whole chunk,
full Newton steps for the few intervals that need them (see `network_models._newton`).
Results follow pandapower's definitions (`res_bus`, `res_line`, `res_trafo`, `res_ext_grid`),
so they agree with `pandapower.runpp` to the solver tolerance.

Units are pandapower's: MW, Mvar, per unit, degrees, percent. Only PQ injections (load, sgen,
storage) may vary per interval; topology, tap positions and all other elements stay as in the
net, and controllers in `net.controller` are not run. Voltage-controlled elements (gen, xward,
dcline), FACTS devices and power-flow options the batch does not mirror (e.g. a power-based
transformer loading in `net.user_pf_options`) are rejected with a ValueError.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from network_models._newton import BatchNewtonSolver
from network_models._ppc import (
    INJECTION_ELEMENTS,
    InternalModel,
    extract_internal_model,
)
from network_models._setpoints import SetpointArray, coerce_setpoints

__all__ = ["BatchPowerFlow", "BatchResult", "run_sequential_runpp"]


@dataclass(frozen=True)
class BatchResult:
    """Power-flow results per interval; rows are intervals.

    Non-converged intervals have `converged == False` and NaN in every float field.
    `iterations` counts solver steps (fixed-Jacobian plus full Newton steps for
    `BatchPowerFlow`, pandapower's Newton iterations for `run_sequential_runpp`).
    """

    vm_pu: np.ndarray
    """(T, n_bus) bus voltage magnitude [pu], columns in `net.bus.index` order."""
    va_degree: np.ndarray
    """(T, n_bus) bus voltage angle [degree]."""
    line_loading_percent: np.ndarray
    """(T, n_line) max(i_from_ka, i_to_ka) / (max_i_ka * df * parallel) * 100."""
    trafo_loading_percent: np.ndarray
    """(T, n_trafo) pandapower's current-based transformer loading [%]."""
    ext_grid_p_mw: np.ndarray
    """(T,) active power from all external grids into the net [MW]."""
    ext_grid_q_mvar: np.ndarray
    """(T,) reactive power from all external grids into the net [Mvar]."""
    losses_p_mw: np.ndarray
    """(T,) active losses of all lines and two-winding transformers [MW]."""
    converged: np.ndarray
    """(T,) bool."""
    iterations: np.ndarray
    """(T,) int."""


class BatchPowerFlow:
    """AC power flow of one network over many intervals of PQ set points.

    `tolerance_mva` and `max_iteration` mean what they mean in `pandapower.runpp`: the bus power
    mismatch bound in per unit of `net.sn_mva`, and the maximum number of full Newton steps
    (after the fixed-Jacobian steps) before an interval is declared not converged.
    """

    def __init__(self, net: Any, tolerance_mva: float = 1e-8, max_iteration: int = 20) -> None:
        if not tolerance_mva > 0:
            raise ValueError(f"tolerance_mva={tolerance_mva} must be positive")
        if max_iteration < 1:
            raise ValueError(f"max_iteration={max_iteration} must be at least 1")
        self._model: InternalModel = extract_internal_model(net)
        self._solver = BatchNewtonSolver(self._model, tolerance_mva, max_iteration)

    def run(
        self,
        *,
        load_p_mw: SetpointArray | None = None,
        load_q_mvar: SetpointArray | None = None,
        sgen_p_mw: SetpointArray | None = None,
        sgen_q_mvar: SetpointArray | None = None,
        storage_p_mw: SetpointArray | None = None,
        storage_q_mvar: SetpointArray | None = None,
        chunk_size: int = 4096,
    ) -> BatchResult:
        """Solve every interval.

        Each array is (T, n_element) in `net.<element>.index` order and holds the element's
        `p_mw` / `q_mvar` column as pandapower reads it (before `scaling`; load and storage
        positive = consumption, sgen positive = generation). None keeps the net's static value
        in every interval. With no array given, T is 1.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size} must be at least 1")
        n_intervals, setpoints = coerce_setpoints(
            self._model.setpoint_tables(),
            {
                "load_p_mw": load_p_mw,
                "load_q_mvar": load_q_mvar,
                "sgen_p_mw": sgen_p_mw,
                "sgen_q_mvar": sgen_q_mvar,
                "storage_p_mw": storage_p_mw,
                "storage_q_mvar": storage_q_mvar,
            },
        )
        chunks = [
            self._run_chunk(
                {
                    element: (p[start : start + chunk_size], q[start : start + chunk_size])
                    for element, (p, q) in setpoints.items()
                }
            )
            for start in range(0, n_intervals, chunk_size) or [0]
        ]
        if len(chunks) == 1:
            return chunks[0]
        return BatchResult(
            **{
                field.name: np.concatenate([getattr(chunk, field.name) for chunk in chunks])
                for field in fields(BatchResult)
            }
        )

    def _run_chunk(self, setpoints: dict[str, tuple[np.ndarray, np.ndarray]]) -> BatchResult:
        model = self._model
        demand = model.demand_mva(setpoints)
        solved = self._solver.solve(demand)
        voltage, converged, iterations = solved.voltage, solved.converged, solved.iterations

        bus_v = voltage[:, np.where(model.bus_ppci >= 0, model.bus_ppci, 0)]
        bus_v[:, model.bus_ppci < 0] = np.nan

        loadings = []
        losses_pu = np.zeros(voltage.shape[0])
        for branch in (model.lines, model.trafos):
            i_from, i_to = branch.currents(voltage)
            loadings.append(branch.loading_percent(i_from, i_to))
            s_loss = voltage[:, branch.from_bus] * np.conj(i_from) + voltage[
                :, branch.to_bus
            ] * np.conj(i_to)
            losses_pu += s_loss.real.sum(axis=1)

        ref = model.ref
        s_ref = voltage[:, ref] * np.conj(voltage @ model.ybus[ref].T) * model.base_mva
        s_ext = (s_ref + demand[:, ref]).sum(axis=1)

        result = BatchResult(
            vm_pu=np.abs(bus_v),
            va_degree=np.degrees(np.angle(bus_v)),
            line_loading_percent=loadings[0],
            trafo_loading_percent=loadings[1],
            ext_grid_p_mw=s_ext.real,
            ext_grid_q_mvar=s_ext.imag,
            losses_p_mw=losses_pu * model.base_mva,
            converged=converged,
            iterations=iterations,
        )
        for field in (result.line_loading_percent, result.trafo_loading_percent):
            field[~converged] = np.nan
        return result


def run_sequential_runpp(
    net: Any,
    *,
    load_p_mw: SetpointArray | None = None,
    load_q_mvar: SetpointArray | None = None,
    sgen_p_mw: SetpointArray | None = None,
    sgen_q_mvar: SetpointArray | None = None,
    storage_p_mw: SetpointArray | None = None,
    storage_q_mvar: SetpointArray | None = None,
    intervals: Sequence[int],
) -> BatchResult:
    """Reference: one `pandapower.runpp` per selected interval on a copy of `net`.

    Takes the same arrays as `BatchPowerFlow.run`; row k of the result is interval
    `intervals[k]`. Slow by design; meant for tests and benchmarks.
    """
    work = copy.deepcopy(net)
    tables = {
        element: (
            work[element].index,
            work[element]["p_mw"].to_numpy(dtype=float),
            work[element]["q_mvar"].to_numpy(dtype=float),
        )
        for element in INJECTION_ELEMENTS
    }
    n_intervals, setpoints = coerce_setpoints(
        tables,
        {
            "load_p_mw": load_p_mw,
            "load_q_mvar": load_q_mvar,
            "sgen_p_mw": sgen_p_mw,
            "sgen_q_mvar": sgen_q_mvar,
            "storage_p_mw": storage_p_mw,
            "storage_q_mvar": storage_q_mvar,
        },
    )
    chosen = np.asarray(intervals, dtype=np.int64).reshape(-1)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= n_intervals):
        raise ValueError(f"intervals must lie in [0, {n_intervals}); got {chosen.tolist()[:10]}")

    n = chosen.size
    out = {
        "vm_pu": np.full((n, len(work.bus)), np.nan),
        "va_degree": np.full((n, len(work.bus)), np.nan),
        "line_loading_percent": np.full((n, len(work.line)), np.nan),
        "trafo_loading_percent": np.full((n, len(work.trafo)), np.nan),
        "ext_grid_p_mw": np.full(n, np.nan),
        "ext_grid_q_mvar": np.full(n, np.nan),
        "losses_p_mw": np.full(n, np.nan),
    }
    converged = np.zeros(n, bool)
    iterations = np.zeros(n, np.int64)
    for row, t in enumerate(chosen):
        for element, (p, q) in setpoints.items():
            if len(work[element]):
                work[element]["p_mw"] = p[t]
                work[element]["q_mvar"] = q[t]
        try:
            pp.runpp(work, numba=False)
        except pp.LoadflowNotConverged:
            continue
        converged[row] = True
        iterations[row] = int(work["_ppc"]["iterations"])
        out["vm_pu"][row] = work.res_bus["vm_pu"].to_numpy()
        out["va_degree"][row] = work.res_bus["va_degree"].to_numpy()
        out["line_loading_percent"][row] = work.res_line["loading_percent"].to_numpy()
        out["trafo_loading_percent"][row] = work.res_trafo["loading_percent"].to_numpy()
        out["ext_grid_p_mw"][row] = work.res_ext_grid["p_mw"].sum()
        out["ext_grid_q_mvar"][row] = work.res_ext_grid["q_mvar"].sum()
        out["losses_p_mw"][row] = _sum(work.res_line, "pl_mw") + _sum(work.res_trafo, "pl_mw")
    return BatchResult(**out, converged=converged, iterations=iterations)


def _sum(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].sum()) if len(frame) else 0.0
