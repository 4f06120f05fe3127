"""HiGHS, run directly on the problem data cvxpy compiles: statuses, silence, the LP.

cvxpy stays the modelling and DPP-compiling layer; running HiGHS here lets each solve start
from the previous optimal basis and keeps the 'no limit' sentinels of parameters out of the
LP as infinite bounds.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cvxpy as cp
import cvxpy.settings as s
import numpy as np
from cvxpy.reductions.solvers.conic_solvers.highs_conif import dims_to_solver_dict

from controller.config import DispatchConfig
from controller.inputs import NO_LIMIT


class SolveOutcome(StrEnum):
    SOLVED = "solved"
    INACCURATE = "solved_inaccurate"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    SOLVER_ERROR = "solver_error"

    @property
    def usable(self) -> bool:
        return self in (SolveOutcome.SOLVED, SolveOutcome.INACCURATE)


HIGHS_STATUS = {
    "kOptimal": cp.OPTIMAL,
    "kInfeasible": cp.INFEASIBLE,
    "kUnboundedOrInfeasible": s.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": cp.UNBOUNDED,
    "kTimeLimit": cp.USER_LIMIT,
    "kIterationLimit": cp.USER_LIMIT,
    "kObjectiveBound": cp.USER_LIMIT,
    "kObjectiveTarget": cp.USER_LIMIT,
    "kSolutionLimit": cp.USER_LIMIT,
}
"""HiGHS model statuses in cvxpy's terms; anything else is a solver error."""

CVXPY_STATUS = {
    cp.OPTIMAL: SolveOutcome.SOLVED,
    cp.OPTIMAL_INACCURATE: SolveOutcome.INACCURATE,
    cp.INFEASIBLE: SolveOutcome.INFEASIBLE,
    cp.INFEASIBLE_INACCURATE: SolveOutcome.INFEASIBLE,
    cp.UNBOUNDED: SolveOutcome.UNBOUNDED,
    cp.UNBOUNDED_INACCURATE: SolveOutcome.UNBOUNDED,
    cp.USER_LIMIT: SolveOutcome.TIME_LIMIT,
    cp.SOLVER_ERROR: SolveOutcome.SOLVER_ERROR,
}


def map_status(status: str | None) -> SolveOutcome:
    """The one place solver statuses are interpreted."""
    return CVXPY_STATUS.get(status or "", SolveOutcome.SOLVER_ERROR)


RunFunction = Callable[[Any], None]
"""Runs a prepared ``highspy.Highs`` instance (injectable: a test passes one that raises)."""


def run_highs(highs: Any) -> None:
    highs.run()


_BANNER_LOCK = threading.Lock()
_banner_shown = False


def new_highs(config: DispatchConfig) -> Any:
    """A silent HiGHS instance. HiGHS prints a banner to the process's standard output when
    the first instance is made, which would corrupt CSV or JSON written there; that one
    construction runs with file descriptor 1 pointed at the null device."""
    import highspy

    global _banner_shown
    with _BANNER_LOCK:
        if _banner_shown:
            highs = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    highs = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _banner_shown = True
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(max(config.time_limit_s, 0.0)))
    return highs


@dataclass(frozen=True)
class LpArrays:
    """An LP in HiGHS's column-wise arrays: min c x, row_lower <= A x <= row_upper,
    col_lower <= x <= col_upper."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lower), len(self.cost)


def highs_lp(data: dict[str, Any]) -> LpArrays:
    """cvxpy's HiGHS problem data as arrays; 'no limit' sentinels become infinite bounds."""
    import highspy

    inf = highspy.kHighsInf
    dims = dims_to_solver_dict(data[s.DIMS])
    matrix = data[s.A].tocsc()
    n_eq = dims[s.EQ_DIM]
    upper = np.asarray(data[s.B], dtype=float).copy()
    upper[upper >= NO_LIMIT] = inf
    lower = np.concatenate([upper[:n_eq], np.full(matrix.shape[0] - n_eq, -inf)])
    n_col = matrix.shape[1]
    lb, ub = data[s.LOWER_BOUNDS], data[s.UPPER_BOUNDS]
    return LpArrays(
        cost=np.ascontiguousarray(data[s.C], dtype=np.float64),
        col_lower=np.full(n_col, -inf) if lb is None else np.asarray(lb, dtype=np.float64),
        col_upper=np.full(n_col, inf) if ub is None else np.asarray(ub, dtype=np.float64),
        row_lower=lower,
        row_upper=upper,
        start=np.ascontiguousarray(matrix.indptr, dtype=np.int32),
        index=np.ascontiguousarray(matrix.indices, dtype=np.int32),
        value=np.ascontiguousarray(matrix.data, dtype=np.float64),
    )


def pass_lp(highs: Any, lp: LpArrays) -> None:
    """Hand the arrays to HiGHS without copying them element by element in Python."""
    import highspy

    n_row, n_col = lp.shape
    highs.passModel(
        n_col,
        n_row,
        len(lp.value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        lp.cost,
        lp.col_lower,
        lp.col_upper,
        lp.row_lower,
        lp.row_upper,
        lp.start,
        lp.index,
        lp.value,
        np.zeros(n_col, dtype=np.int32),  # every column continuous
    )


def highs_results(highs: Any) -> dict[str, Any]:
    status = highs.getModelStatus()
    return {
        "solution": highs.getSolution(),
        "basis": highs.getBasis(),
        "info": highs.getInfo(),
        "model_status": status.name,
        "run_time": highs.getRunTime(),
    }
