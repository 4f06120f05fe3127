"""An LP in HiGHS's column-wise arrays, the one shape every path hands to HiGHS (cvxpy's
problem data, the parametric LP data, the single-entry rows folded into column bounds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from controller.inputs.dispatch_inputs import NO_LIMIT


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


def lp_arrays(
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    b: np.ndarray,
    n_eq: int,
    start: np.ndarray,
    index: np.ndarray,
    value: np.ndarray,
) -> LpArrays:
    """The LP ``A x = b`` (first ``n_eq`` rows), ``A x <= b`` (the rest), with 'no limit'
    sentinels in ``b`` as infinite bounds."""
    import highspy

    inf = highspy.kHighsInf
    upper = np.asarray(b, dtype=float).copy()
    upper[upper >= NO_LIMIT] = inf
    lower = np.concatenate([upper[:n_eq], np.full(len(upper) - n_eq, -inf)])
    return LpArrays(
        cost=np.ascontiguousarray(cost, dtype=np.float64),
        col_lower=np.asarray(col_lower, dtype=np.float64),
        col_upper=np.asarray(col_upper, dtype=np.float64),
        row_lower=lower,
        row_upper=upper,
        start=np.ascontiguousarray(start, dtype=np.int32),
        index=np.ascontiguousarray(index, dtype=np.int32),
        value=np.ascontiguousarray(value, dtype=np.float64),
    )
