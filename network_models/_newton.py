"""Batched AC power-flow iteration for networks with one slack voltage and PQ buses only.

Unknowns per interval are the real and imaginary parts of every PQ bus voltage,
x = [Re V(pq), Im V(pq)] (rectangular coordinates: updates are additions, so no trigonometric
function is evaluated in the loop). The mismatch is pandapower's, F = [P(pq), Q(pq)] of
V conj(Ybus V) minus the bus injection, in per unit of `net.sn_mva`; an interval has
converged when max |F| < tolerance (pandapower's `tolerance_mva` has the same per-unit meaning).

The solver first takes fixed-Jacobian (chord) steps with the Jacobian inverted once at the
converged base case. One chord step costs two small matrix products per interval, so the whole
batch moves together; in distribution networks voltages stay close to the base case and the
mismatch shrinks by one to two orders of magnitude per step. Intervals whose mismatch stops
shrinking fast enough (heavy loading, far from the base case) continue with full Newton steps,
each with its own dense Jacobian, from the best state the chord steps reached. Intervals that
still miss the tolerance after `max_iteration` Newton steps are reported as not converged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from network_models._ppc import InternalModel

CHORD_MAX_ITERATION = 30
"""Upper bound on fixed-Jacobian steps before the remaining intervals switch to full Newton."""

CHORD_MIN_CONTRACTION = 0.5
"""A chord step must shrink max |F| at least by this factor, else the interval goes to Newton."""

_NEWTON_BATCH_BYTES = 64 * 2**20
"""Memory budget for the dense Jacobians of one batch of full Newton steps."""


@dataclass(frozen=True)
class SolveResult:
    """Bus voltages per interval (NaN rows where not converged) and solver bookkeeping."""

    voltage: np.ndarray
    """(T, n_internal_bus) complex [pu]."""
    converged: np.ndarray
    iterations: np.ndarray


class PqSystem:
    """The PQ-bus equations of an `InternalModel`, with the slack voltages folded in."""

    def __init__(self, model: InternalModel) -> None:
        pq, ref = model.pq, model.ref
        self.model = model
        self.pq = pq
        self.m = int(pq.size)
        self.y_pp = np.ascontiguousarray(model.ybus[np.ix_(pq, pq)])
        self.y_pp_t = np.ascontiguousarray(self.y_pp.T)
        self.y_pp_conj = np.conj(self.y_pp)
        self.slack_current = model.ybus[np.ix_(pq, ref)] @ model.v_base[ref]
        self.base_mva = model.base_mva
        self.voltage_dependent = model.has_voltage_dependent_demand
        self.ci_p, self.cz_p = model.zip_i_p[pq], model.zip_z_p[pq]
        self.ci_q, self.cz_q = model.zip_i_q[pq], model.zip_z_q[pq]

    def currents(self, v_pq: np.ndarray) -> np.ndarray:
        """Injected current at each PQ bus [pu], shape like `v_pq`."""
        return v_pq @ self.y_pp_t + self.slack_current

    def demand_pu(self, vm: np.ndarray, demand_pq_mva: np.ndarray) -> np.ndarray:
        """Demand at the PQ buses [pu] with pandapower's ZIP voltage dependence."""
        if not self.voltage_dependent:
            return demand_pq_mva / self.base_mva
        p_factor = 1.0 - self.ci_p - self.cz_p + self.ci_p * vm + self.cz_p * vm**2
        q_factor = 1.0 - self.ci_q - self.cz_q + self.ci_q * vm + self.cz_q * vm**2
        return (demand_pq_mva.real * p_factor + 1j * demand_pq_mva.imag * q_factor) / self.base_mva

    def mismatch(self, v_pq: np.ndarray, demand_pq_mva: np.ndarray) -> np.ndarray:
        """F = [Re, Im] of (V conj(Ybus V) + demand) at the PQ buses, shape (T, 2m)."""
        mis = v_pq * np.conj(self.currents(v_pq)) + self.demand_pu(np.abs(v_pq), demand_pq_mva)
        return np.concatenate([mis.real, mis.imag], axis=1)

    def jacobian(self, v_pq: np.ndarray, demand_pq_mva: np.ndarray) -> np.ndarray:
        """dF/dx for x = [Re V(pq), Im V(pq)], shape (T, 2m, 2m), dense."""
        m = self.m
        current_conj = np.conj(self.currents(v_pq))
        # S_i = V_i conj(I_i): dS_i/dRe V_j = V_i conj(Y_ij) + [i == j] conj(I_i),
        #                      dS_i/dIm V_j = -j V_i conj(Y_ij) + [i == j] j conj(I_i)
        coupling = v_pq[:, :, None] * self.y_pp_conj[None, :, :]
        diag = np.arange(m)
        ds_de = coupling.copy()
        ds_de[:, diag, diag] += current_conj
        ds_df = -1j * coupling
        ds_df[:, diag, diag] += 1j * current_conj
        if self.voltage_dependent:
            vm = np.abs(v_pq)
            ddemand_dvm = demand_pq_mva.real * (
                self.ci_p + 2.0 * self.cz_p * vm
            ) + 1j * demand_pq_mva.imag * (self.ci_q + 2.0 * self.cz_q * vm)
            ddemand_dvm /= self.base_mva * vm
            ds_de[:, diag, diag] += ddemand_dvm * v_pq.real
            ds_df[:, diag, diag] += ddemand_dvm * v_pq.imag
        jac = np.empty((v_pq.shape[0], 2 * m, 2 * m))
        jac[:, :m, :m] = ds_de.real
        jac[:, :m, m:] = ds_df.real
        jac[:, m:, :m] = ds_de.imag
        jac[:, m:, m:] = ds_df.imag
        return jac


class BatchNewtonSolver:
    """Solves many intervals of one network at once (see the module docstring)."""

    def __init__(self, model: InternalModel, tolerance: float, max_iteration: int) -> None:
        self.system = PqSystem(model)
        self.tolerance = tolerance
        self.max_iteration = max_iteration
        self._v0 = model.v_base[model.pq]
        base_demand = _static_demand(model)[model.pq]
        jac0 = self.system.jacobian(self._v0[None, :], base_demand[None, :])[0]
        self._chord_step_t = np.linalg.inv(jac0).T

    def solve(self, demand_mva: np.ndarray) -> SolveResult:
        """Solve every row of `demand_mva` (T, n_bus) [MVA, nominal, consumption positive]."""
        model = self.system.model
        n_intervals = demand_mva.shape[0]
        demand_pq = np.ascontiguousarray(demand_mva[:, model.pq])
        v_pq = np.tile(self._v0, (n_intervals, 1))
        converged = np.zeros(n_intervals, bool)
        iterations = np.zeros(n_intervals, np.int64)
        with np.errstate(all="ignore"):
            pending = self._chord(v_pq, demand_pq, converged, iterations)
            if pending.size:
                self._newton(pending, v_pq, demand_pq, converged, iterations)
        voltage = np.empty((n_intervals, model.n_bus), np.complex128)
        voltage[:, model.ref] = model.v_base[model.ref]
        voltage[:, model.pq] = v_pq
        voltage[~converged] = np.nan
        return SolveResult(voltage, converged, iterations)

    def _chord(
        self, v_pq: np.ndarray, demand_pq: np.ndarray, converged: np.ndarray, iterations: np.ndarray
    ) -> np.ndarray:
        """Fixed-Jacobian steps in place; returns the intervals that need full Newton steps."""
        m = self.system.m
        active = np.arange(v_pq.shape[0])
        v_a, d_a = v_pq, demand_pq
        mis = self.system.mismatch(v_a, d_a)
        norm = np.max(np.abs(mis), axis=1, initial=0.0)
        prev_norm = np.full_like(norm, np.inf)
        v_prev = v_a
        pending: list[np.ndarray] = []
        for step in range(CHORD_MAX_ITERATION + 1):
            done = norm < self.tolerance
            stalled = ~done & ~(norm <= CHORD_MIN_CONTRACTION * prev_norm)
            if step == CHORD_MAX_ITERATION:
                stalled |= ~done
            if stalled.any():
                # Continue from whichever of the last two states had the smaller mismatch.
                use_prev = stalled & ~(norm <= prev_norm)
                v_a = np.where(use_prev[:, None], v_prev, v_a)
                pending.append(active[stalled])
            finished = done | stalled
            if finished.any():
                v_pq[active[finished]] = v_a[finished]
                converged[active[done]] = True
                keep = ~finished
                if not keep.any():
                    break
                active, v_a, d_a, mis, norm = (
                    active[keep],
                    v_a[keep],
                    d_a[keep],
                    mis[keep],
                    norm[keep],
                )
            v_prev, prev_norm = v_a, norm
            step_x = mis @ self._chord_step_t
            v_a = v_a - (step_x[:, :m] + 1j * step_x[:, m:])
            iterations[active] += 1
            mis = self.system.mismatch(v_a, d_a)
            norm = np.max(np.abs(mis), axis=1, initial=0.0)
        return np.concatenate(pending) if pending else np.zeros(0, np.int64)

    def _newton(
        self,
        pending: np.ndarray,
        v_pq: np.ndarray,
        demand_pq: np.ndarray,
        converged: np.ndarray,
        iterations: np.ndarray,
    ) -> None:
        """Full Newton steps in place for the `pending` intervals, in memory-bounded batches."""
        m = self.system.m
        per_interval = 4 * 16 * max(m, 1) ** 2
        batch = max(1, _NEWTON_BATCH_BYTES // per_interval)
        for start in range(0, pending.size, batch):
            idx = pending[start : start + batch]
            v_b, d_b = v_pq[idx], demand_pq[idx]
            alive = np.ones(idx.size, bool)
            for _ in range(self.max_iteration):
                mis = self.system.mismatch(v_b, d_b)
                norm = np.max(np.abs(mis), axis=1, initial=0.0)
                done = norm < self.tolerance
                converged[idx[done & alive]] = True
                alive &= ~done & np.isfinite(norm)
                if not alive.any():
                    break
                rows = np.flatnonzero(alive)
                step_x = _solve_each(self.system.jacobian(v_b[rows], d_b[rows]), mis[rows])
                v_b[rows] -= step_x[:, :m] + 1j * step_x[:, m:]
                iterations[idx[rows]] += 1
            else:
                mis = self.system.mismatch(v_b, d_b)
                norm = np.max(np.abs(mis), axis=1, initial=0.0)
                converged[idx[alive & (norm < self.tolerance)]] = True
            v_pq[idx] = v_b


def _solve_each(jac: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve jac[k] @ x[k] = rhs[k]; singular systems give NaN rows instead of raising."""
    try:
        return np.linalg.solve(jac, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        out = np.full_like(rhs, np.nan)
        for k in range(rhs.shape[0]):
            try:
                out[k] = np.linalg.solve(jac[k], rhs[k])
            except np.linalg.LinAlgError:
                continue
        return out


def _static_demand(model: InternalModel) -> np.ndarray:
    """Nominal bus demand [MVA] of the base case the model was extracted from."""
    setpoints = {
        element: (inj.static_p_mw[None, :], inj.static_q_mvar[None, :])
        for element, inj in model.injections.items()
    }
    return model.demand_mva(setpoints)[0]
