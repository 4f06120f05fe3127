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
from enum import StrEnum
from typing import Any

import cvxpy as cp
import cvxpy.settings as s
import numpy as np
from cvxpy.reductions.solvers.conic_solvers.highs_conif import dims_to_solver_dict

from controller.config import DispatchConfig
from controller.solver.lp_arrays import LpArrays, lp_arrays
from controller.solver.single_entry_rows import Folded, SingletonFold


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


def highs_lp(data: dict[str, Any]) -> LpArrays:
    """cvxpy's HiGHS problem data as arrays (the reference :mod:`controller.solver.lp_data` is held
    to)."""
    matrix = data[s.A].tocsc()
    n_col = matrix.shape[1]
    lb, ub = data[s.LOWER_BOUNDS], data[s.UPPER_BOUNDS]
    return lp_arrays(
        data[s.C],
        np.full(n_col, -np.inf) if lb is None else lb,
        np.full(n_col, np.inf) if ub is None else ub,
        data[s.B],
        dims_to_solver_dict(data[s.DIMS])[s.EQ_DIM],
        matrix.indptr,
        matrix.indices,
        matrix.data,
    )


def pass_lp(highs: Any, lp: LpArrays, integer: np.ndarray | None = None) -> None:
    """Hand the arrays to HiGHS without copying them element by element in Python
    (``integer``: the columns that must take integer values; none for an LP)."""
    import highspy

    integrality = np.zeros(lp.shape[1], dtype=np.int32)  # continuous
    if integer is not None:
        integrality[integer] = int(highspy.HighsVarType.kInteger)

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
        integrality,
    )


def highs_results(highs: Any) -> dict[str, Any]:
    status = highs.getModelStatus()
    return {
        "solution": highs.getSolution(),
        "info": highs.getInfo(),
        "model_status": status.name,
        "run_time": highs.getRunTime(),
    }


FEASIBLE_SOLUTION = 2
"""HiGHS's ``primal_solution_status`` of a feasible point (a MIP's incumbent)."""


def milp_arrays(data: dict[str, Any]) -> tuple[LpArrays, np.ndarray]:
    """cvxpy's HiGHS data of a mixed-integer problem: the arrays, boolean columns bounded
    to [0, 1], and the integer columns."""
    lp = highs_lp(data)
    booleans = np.asarray(data[s.BOOL_IDX], dtype=np.int64)
    integers = np.asarray(data[s.INT_IDX], dtype=np.int64)
    lower, upper = lp.col_lower.copy(), lp.col_upper.copy()
    lower[booleans] = np.maximum(lower[booleans], 0.0)
    upper[booleans] = np.minimum(upper[booleans], 1.0)
    bounded = LpArrays(
        lp.cost, lower, upper, lp.row_lower, lp.row_upper, lp.start, lp.index, lp.value
    )
    return bounded, np.concatenate([booleans, integers])


HOT_CHANGE_LIMIT = 0.05
"""Share of the matrix's entries that may change before a re-solve is cheaper from a fresh
model (each changed entry is one call into HiGHS; a whole new model is one call)."""


class HotLp:
    """A HiGHS instance kept alive between solves of one compiled problem.

    Successive intraday steps solve the same LP structure with new data. Handing HiGHS only
    the entries that changed keeps its factorised optimal basis, so a re-solve that needs a
    few simplex iterations costs a few milliseconds; a new instance given the old basis
    (``setBasis``) has to rebuild and refactorise everything first. Where the structure
    differs (or too much of the matrix changed), the model is passed afresh and the last
    basis set on it. The LP's single-entry rows reach HiGHS as column bounds (see
    :mod:`controller.solver.single_entry_rows`); :meth:`values` and :meth:`row_duals` answer for
    the LP as loaded. The instance may be run again from scratch after :meth:`restart`.
    """

    def __init__(self, config: DispatchConfig) -> None:
        self.highs = new_highs(config)
        self.lp: LpArrays | None = None
        """The LP HiGHS holds (singleton rows folded where they could be)."""
        self._fold: tuple[LpArrays, SingletonFold] | None = None
        """The singleton rows of the last LP loaded, with that LP (its structure)."""
        self._folded: Folded | None = None

    def load(self, lp: LpArrays) -> None:
        if self._fold is None or not _same_structure(self._fold[0], lp):
            self._fold = (lp, SingletonFold.of(lp))
        self._folded = self._fold[1].fold(lp)
        self._pass(lp if self._folded is None else self._folded.lp)

    def values(self) -> np.ndarray:
        """The columns' values of the last run."""
        return np.asarray(self.highs.getSolution().col_value, dtype=float)

    def row_duals(self) -> np.ndarray:
        """Every row's dual of the last run, the folded rows' included."""
        solution = self.highs.getSolution()
        kept = np.asarray(solution.row_dual, dtype=float)
        if self._folded is None:
            return kept
        return self._folded.row_duals(np.asarray(solution.col_dual, dtype=float), kept)

    def _pass(self, lp: LpArrays) -> None:
        old, highs = self.lp, self.highs
        if old is None or not _same_structure(old, lp):
            basis = highs.getBasis() if old is not None else None
            pass_lp(highs, lp)
            if basis is not None and basis.valid and old is not None and old.shape == lp.shape:
                highs.setBasis(basis)
        else:
            coefficients = np.flatnonzero(old.value != lp.value)
            if len(coefficients) > HOT_CHANGE_LIMIT * len(lp.value):
                basis = highs.getBasis()
                pass_lp(highs, lp)
                highs.setBasis(basis)
            else:
                _change_coefficients(highs, lp, coefficients)
                _change_rest(highs, old, lp)
        self.lp = lp

    def restart(self) -> None:
        """Forget the basis (the next run starts from scratch, with presolve)."""
        self.highs.clearSolver()


def _same_structure(a: LpArrays, b: LpArrays) -> bool:
    return (
        a.shape == b.shape and np.array_equal(a.start, b.start) and np.array_equal(a.index, b.index)
    )


def _change_coefficients(highs: Any, lp: LpArrays, positions: np.ndarray) -> None:
    if not len(positions):
        return
    columns = np.searchsorted(lp.start, positions, side="right") - 1
    for position, column in zip(positions, columns, strict=True):
        highs.changeCoeff(int(lp.index[position]), int(column), float(lp.value[position]))


def _change_rest(highs: Any, old: LpArrays, new: LpArrays) -> None:
    """Costs and bounds: only the columns and rows where something changed."""
    cols = np.flatnonzero(
        (old.cost != new.cost) | (old.col_lower != new.col_lower) | (old.col_upper != new.col_upper)
    ).astype(np.int32)
    if len(cols):
        highs.changeColsCost(len(cols), cols, new.cost[cols])
        highs.changeColsBounds(len(cols), cols, new.col_lower[cols], new.col_upper[cols])
    rows = np.flatnonzero(
        (old.row_lower != new.row_lower) | (old.row_upper != new.row_upper)
    ).astype(np.int32)
    if len(rows):
        highs.changeRowsBounds(len(rows), rows, new.row_lower[rows], new.row_upper[rows])
