"""Linear sensitivities of a network around a converged AC operating point.

`sensitivities(net, ...)` solves the AC power flow at the operating point (the net's static set
points, or one interval of set points as `BatchPowerFlow.run` takes them), then differentiates
the power-flow equations there: with x the real and imaginary parts of the PQ-bus voltages and
J the Newton Jacobian dF/dx, dx = J^-1 dS_injection / sn_mva, and every observed quantity
follows by the chain rule. No finite differences are involved.

Inputs are constant-power bus injections [MW, Mvar], injection positive = generation (a load
or a charging battery is a negative injection; use `injection_incidence` to map an element's
p_mw onto bus injections). An injection at the slack bus changes only the external-grid power.

What is linearised, and why:

- bus voltage magnitude [pu];
- line and transformer loading [%], pandapower's current-based definition. Loading is
  |I|-based, hence not differentiable where a branch carries no current and strongly
  nonlinear near it; the gradient is that of the end (from/to) that is binding at the
  operating point, and it is 0 where that current is 0. For limits that stay valid across
  flow reversals, the active and reactive power flow at the from (hv) end is linearised as well,
  together with `rating_from_mva`, the apparent power at that end that means 100 % loading at
  1 pu voltage: an optimiser can bound (p, q) by a polygon inscribed in that circle (scaled by
  the expected voltage);
- external-grid active and reactive power (sum over ext_grids, positive = import) [MW, Mvar].

Matrices have one row per observed element and one column per injection bus, in
`net.bus.index` order (`bus_index`). Rows of buses that are not energised are NaN; columns of
such buses are 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from network_models._newton import BatchNewtonSolver, PqSystem
from network_models._ppc import (
    BranchModel,
    InternalModel,
    extract_internal_model,
)
from network_models._setpoints import SetpointArray, coerce_setpoints

__all__ = ["BranchSensitivities", "Sensitivities", "injection_incidence", "sensitivities"]


@dataclass(frozen=True)
class BranchSensitivities:
    """Lines or two-winding transformers (from = hv end for transformers)."""

    index: np.ndarray
    """pandapower indices of the branches (rows)."""
    loading_percent_base: np.ndarray
    """(n_branch,) loading at the operating point [%]."""
    dloading_dp: np.ndarray
    """(n_branch, n_bus) [% per MW injected]."""
    dloading_dq: np.ndarray
    """(n_branch, n_bus) [% per Mvar injected]."""
    p_from_mw_base: np.ndarray
    """(n_branch,) active power entering at the from end [MW]."""
    q_from_mvar_base: np.ndarray
    """(n_branch,) reactive power entering at the from end [Mvar]."""
    dp_from_dp: np.ndarray
    """(n_branch, n_bus) [MW per MW]."""
    dp_from_dq: np.ndarray
    """(n_branch, n_bus) [MW per Mvar]."""
    dq_from_dp: np.ndarray
    """(n_branch, n_bus) [Mvar per MW]."""
    dq_from_dq: np.ndarray
    """(n_branch, n_bus) [Mvar per Mvar]."""
    rating_from_mva: np.ndarray
    """(n_branch,) apparent power at the from end that is 100 % loading at 1 pu voltage."""


@dataclass(frozen=True)
class Sensitivities:
    """Values at the operating point and their derivatives with respect to bus injections."""

    bus_index: np.ndarray
    """pandapower bus indices: rows of the voltage matrix and columns of every matrix."""
    vm_pu_base: np.ndarray
    """(n_bus,) voltage magnitude at the operating point [pu]."""
    dvm_dp: np.ndarray
    """(n_bus, n_bus) [pu per MW]; row = observed bus, column = injection bus."""
    dvm_dq: np.ndarray
    """(n_bus, n_bus) [pu per Mvar]."""
    line: BranchSensitivities
    """Rows in `net.line.index` order."""
    trafo: BranchSensitivities
    """Rows in `net.trafo.index` order."""
    ext_grid_p_mw_base: float
    """Active power from all external grids into the net at the operating point [MW]."""
    dext_grid_p_dp: np.ndarray
    """(n_bus,) [MW per MW]; about -1 everywhere plus the change in losses."""
    dext_grid_p_dq: np.ndarray
    """(n_bus,) [MW per Mvar]."""
    ext_grid_q_mvar_base: float
    """Reactive power from all external grids into the net at the operating point [Mvar]."""
    dext_grid_q_dp: np.ndarray
    """(n_bus,) [Mvar per MW]."""
    dext_grid_q_dq: np.ndarray
    """(n_bus,) [Mvar per Mvar]."""


def sensitivities(
    net: Any,
    *,
    load_p_mw: SetpointArray | None = None,
    load_q_mvar: SetpointArray | None = None,
    sgen_p_mw: SetpointArray | None = None,
    sgen_q_mvar: SetpointArray | None = None,
    storage_p_mw: SetpointArray | None = None,
    storage_q_mvar: SetpointArray | None = None,
    tolerance_mva: float = 1e-10,
    max_iteration: int = 20,
) -> Sensitivities:
    """Sensitivities around one operating point of `net` (which is not modified).

    Each set-point array is 1-D, (n_element,) in `net.<element>.index` order, with the meaning
    of `BatchPowerFlow.run`; None keeps the net's static value. `tolerance_mva` and
    `max_iteration` are those of `BatchPowerFlow`, with a tighter default tolerance because the
    derivatives are taken at the solution. Raises ValueError if the operating point does not
    converge.
    """
    model = extract_internal_model(net)
    given = {
        "load_p_mw": load_p_mw,
        "load_q_mvar": load_q_mvar,
        "sgen_p_mw": sgen_p_mw,
        "sgen_q_mvar": sgen_q_mvar,
        "storage_p_mw": storage_p_mw,
        "storage_q_mvar": storage_q_mvar,
    }
    rows: dict[str, SetpointArray | None] = {}
    for name, value in given.items():
        if value is None:
            rows[name] = None
            continue
        arr = np.asarray(value, dtype=float)
        if arr.ndim != 1:
            raise ValueError(
                f"{name} has shape {arr.shape}; expected (n_element,) for one operating point"
            )
        rows[name] = arr[None, :]
    _, setpoints = coerce_setpoints(model.setpoint_tables(), rows)
    demand = model.demand_mva(setpoints)
    solved = BatchNewtonSolver(model, tolerance_mva, max_iteration).solve(demand)
    if not solved.converged[0]:
        raise ValueError("the AC power flow does not converge at the requested operating point")
    return _linearise(model, solved.voltage[0], demand[0])


def injection_incidence(net: Any, element: str) -> np.ndarray:
    """Bus injection [MW] per unit of each element's p_mw, (n_bus, n_element).

    Folds in pandapower's sign (load and storage consume, sgen generates), `scaling` and
    `in_service`, so `dvm_dp @ injection_incidence(net, "storage")` is the voltage sensitivity
    to the storages' p_mw set points. The same matrix maps q_mvar onto reactive injections.
    """
    if element not in ("load", "sgen", "storage"):
        raise ValueError(f"element={element!r} must be one of 'load', 'sgen', 'storage'")
    table = net[element]
    sign = 1.0 if element == "sgen" else -1.0
    bus_position = net.bus.index.get_indexer(table["bus"])
    active = (
        table["in_service"].to_numpy(dtype=bool)
        & net.bus["in_service"].to_numpy(dtype=bool)[bus_position]
    )
    matrix = np.zeros((len(net.bus), len(table)))
    matrix[bus_position, np.arange(len(table))] = np.where(
        active, sign * table["scaling"].to_numpy(dtype=float), 0.0
    )
    return matrix


def _linearise(model: InternalModel, voltage: np.ndarray, demand: np.ndarray) -> Sensitivities:
    system = PqSystem(model)
    pq, m, base = model.pq, system.m, model.base_mva
    jac = system.jacobian(voltage[None, pq], demand[None, pq])[0]
    # J dx = dS_injection / base with x = [Re V(pq), Im V(pq)]; one column per unit injection,
    # [P(pq), Q(pq)]. dv[b, k]: complex voltage change at internal bus b per MW / Mvar.
    dx = np.linalg.solve(jac, np.eye(2 * m)) / base
    dv = np.zeros((model.n_bus, 2 * m), np.complex128)
    dv[pq] = dx[:m] + 1j * dx[m:]

    def to_buses(per_pq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, 2m) per PQ-bus injection -> (rows, n_bus) per MW and per Mvar injected."""
        out = np.zeros((per_pq.shape[0], 2, model.n_bus))
        out[:, 0, pq] = per_pq[:, :m]
        out[:, 1, pq] = per_pq[:, m:]
        out = out[:, :, np.where(model.bus_ppci >= 0, model.bus_ppci, 0)]
        out[:, :, model.bus_ppci < 0] = 0.0
        return out[:, 0], out[:, 1]

    rows = np.where(model.bus_ppci >= 0, model.bus_ppci, 0)
    v_obs = voltage[rows]
    dvm_dp, dvm_dq = to_buses(np.real(np.conj(v_obs)[:, None] * dv[rows]) / np.abs(v_obs)[:, None])
    vm_base = np.abs(v_obs)
    for arr in (vm_base, dvm_dp, dvm_dq):
        arr[model.bus_ppci < 0] = np.nan

    # External grid: S = sum_r V_r conj(Ybus[r] V) * base + nominal demand at r; an injection
    # at a slack bus goes one-to-one into the external grid.
    ref = model.ref
    y_ref = model.ybus[ref]
    s_ext = complex(np.sum(voltage[ref] * np.conj(y_ref @ voltage)) * base + demand[ref].sum())
    ds_ext = (voltage[ref] @ np.conj(y_ref @ dv)) * base
    p_dp, p_dq = to_buses(ds_ext.real[None, :])
    q_dp, q_dq = to_buses(ds_ext.imag[None, :])
    at_ref = np.isin(model.bus_ppci, ref)
    p_dp[0, at_ref] = -1.0
    q_dq[0, at_ref] = -1.0

    return Sensitivities(
        bus_index=model.bus_index.to_numpy(),
        vm_pu_base=vm_base,
        dvm_dp=dvm_dp,
        dvm_dq=dvm_dq,
        line=_branch(model.lines, voltage, dv, base, to_buses),
        trafo=_branch(model.trafos, voltage, dv, base, to_buses),
        ext_grid_p_mw_base=s_ext.real,
        dext_grid_p_dp=p_dp[0],
        dext_grid_p_dq=p_dq[0],
        ext_grid_q_mvar_base=s_ext.imag,
        dext_grid_q_dp=q_dp[0],
        dext_grid_q_dq=q_dq[0],
    )


def _branch(
    branch: BranchModel,
    voltage: np.ndarray,
    dv: np.ndarray,
    base_mva: float,
    to_buses: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> BranchSensitivities:
    f, t = branch.from_bus, branch.to_bus
    i_from, i_to = (arr[0] for arr in branch.currents(voltage[None, :]))
    di_from = branch.y_ff[:, None] * dv[f] + branch.y_ft[:, None] * dv[t]
    di_to = branch.y_tf[:, None] * dv[f] + branch.y_tt[:, None] * dv[t]
    ds_from = (dv[f] * np.conj(i_from)[:, None] + voltage[f][:, None] * np.conj(di_from)) * base_mva

    # Loading gradient of the binding end: d|I| = Re(conj(I) dI) / |I|, 0 where I = 0.
    loading_from = np.abs(i_from) * branch.loading_per_current_from
    loading_to = np.abs(i_to) * branch.loading_per_current_to
    use_from = loading_from >= loading_to
    current = np.where(use_from, i_from, i_to)
    factor = np.where(use_from, branch.loading_per_current_from, branch.loading_per_current_to)
    d_current = np.where(use_from[:, None], di_from, di_to)
    magnitude = np.abs(current)
    scale = np.divide(factor, magnitude, out=np.zeros_like(magnitude), where=magnitude > 0.0)
    loading_grad = scale[:, None] * np.real(np.conj(current)[:, None] * d_current)
    loading_grad[~branch.in_service | branch.zero_rating] = 0.0

    dloading_dp, dloading_dq = to_buses(loading_grad)
    dp_dp, dp_dq = to_buses(ds_from.real)
    dq_dp, dq_dq = to_buses(ds_from.imag)
    s_from = voltage[f] * np.conj(i_from) * base_mva
    return BranchSensitivities(
        index=branch.index.to_numpy(),
        loading_percent_base=branch.loading_percent(i_from[None, :], i_to[None, :])[0],
        dloading_dp=dloading_dp,
        dloading_dq=dloading_dq,
        p_from_mw_base=s_from.real,
        q_from_mvar_base=s_from.imag,
        dp_from_dp=dp_dp,
        dp_from_dq=dp_dq,
        dq_from_dp=dq_dp,
        dq_from_dq=dq_dq,
        rating_from_mva=branch.rating_from_mva.copy(),
    )
