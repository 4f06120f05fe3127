"""A HiGHS instance kept between solves gives the optimum a fresh solve gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from controller.config import DEFAULT_CONFIG
from controller.solver.highs import HOT_CHANGE_LIMIT, HotLp, new_highs, pass_lp
from controller.solver.lp_arrays import LpArrays

OBJECTIVE_RTOL = 1e-9  # both are simplex optima of the same LP: equal up to round-off


def _lp(matrix: sp.csc_matrix, cost: np.ndarray, rhs: np.ndarray) -> LpArrays:
    """min cost x subject to matrix x <= rhs, 0 <= x <= 10."""
    n_row, n_col = matrix.shape
    return LpArrays(
        cost=cost.astype(float),
        col_lower=np.zeros(n_col),
        col_upper=np.full(n_col, 10.0),
        row_lower=np.full(n_row, -np.inf),
        row_upper=rhs.astype(float),
        start=matrix.indptr.astype(np.int32),
        index=matrix.indices.astype(np.int32),
        value=matrix.data.astype(float),
    )


def _fresh_objective(lp: LpArrays) -> float:
    highs = new_highs(DEFAULT_CONFIG)
    pass_lp(highs, lp)
    highs.run()
    assert highs.getModelStatus().name == "kOptimal"
    return float(highs.getInfo().objective_function_value)


def _hot_objective(hot: HotLp, lp: LpArrays) -> float:
    hot.load(lp)
    hot.highs.run()
    assert hot.highs.getModelStatus().name == "kOptimal"
    return float(hot.highs.getInfo().objective_function_value)


def _base(seed: int, n_row: int = 40, n_col: int = 30) -> LpArrays:
    rng = np.random.default_rng(seed)
    matrix = sp.random(n_row, n_col, density=0.3, random_state=rng, format="csc")
    matrix.data = rng.uniform(0.5, 2.0, matrix.nnz)
    return _lp(matrix, -rng.uniform(1.0, 3.0, n_col), rng.uniform(5.0, 20.0, n_row))


def test_changed_costs_bounds_and_coefficients_solve_to_the_fresh_optimum() -> None:
    rng = np.random.default_rng(7)
    lp = _base(1)
    hot = HotLp(DEFAULT_CONFIG)
    assert _hot_objective(hot, lp) == pytest.approx(_fresh_objective(lp), rel=OBJECTIVE_RTOL)
    for _ in range(6):
        value = lp.value.copy()
        few = rng.choice(len(value), size=2, replace=False)  # within the hot change limit
        value[few] *= rng.uniform(0.5, 1.5, size=2)
        lp = dataclasses.replace(
            lp,
            cost=lp.cost * rng.uniform(0.8, 1.2, len(lp.cost)),
            col_upper=lp.col_upper * rng.uniform(0.5, 1.0, len(lp.col_upper)),
            row_upper=lp.row_upper * rng.uniform(0.8, 1.2, len(lp.row_upper)),
            value=value,
        )
        assert _hot_objective(hot, lp) == pytest.approx(_fresh_objective(lp), rel=OBJECTIVE_RTOL)


def test_many_changed_coefficients_and_a_new_structure_are_passed_afresh() -> None:
    lp = _base(2)
    hot = HotLp(DEFAULT_CONFIG)
    _hot_objective(hot, lp)
    rescaled = dataclasses.replace(lp, value=lp.value * 1.1)  # every entry: over the limit
    assert np.mean(rescaled.value != lp.value) > HOT_CHANGE_LIMIT
    assert _hot_objective(hot, rescaled) == pytest.approx(
        _fresh_objective(rescaled), rel=OBJECTIVE_RTOL
    )
    other = _base(3, n_row=25, n_col=35)  # another shape
    assert _hot_objective(hot, other) == pytest.approx(_fresh_objective(other), rel=OBJECTIVE_RTOL)
