"""Single-entry rows folded into column bounds: the same LP, the same solution and duals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from controller.config import DEFAULT_CONFIG
from controller.solver.highs import HotLp, new_highs, pass_lp
from controller.solver.lp_arrays import LpArrays
from controller.solver.single_entry_rows import SingletonFold

SOLUTION_ATOL = 1e-7  # HiGHS's primal and dual feasibility tolerances


def _lp(seed: int) -> LpArrays:
    """min c x over random rows, with singleton rows of every kind: upper and lower limits,
    negative entries, an equality, one looser than the column's own bound, and two on one
    column (the tighter one binds)."""
    rng = np.random.default_rng(seed)
    n_col = 12
    dense = sp.random(8, n_col, density=0.5, random_state=rng).toarray()
    dense[dense != 0] = rng.uniform(0.5, 2.0, np.count_nonzero(dense))
    lower = np.full(8, -np.inf)
    upper = rng.uniform(20.0, 40.0, 8)  # loose enough for singleton rows to bind
    singles = [  # (column, entry, lower, upper)
        (0, 1.0, -np.inf, 0.7),
        (1, -2.0, -1.6, np.inf),  # -2 x1 >= -1.6: x1 <= 0.8
        (2, 1.0, 0.3, np.inf),  # x2 >= 0.3
        (3, 0.5, 0.2, 0.2),  # x3 == 0.4
        (4, 1.0, -np.inf, 50.0),  # looser than the column's bound of 10
        (5, 1.0, -np.inf, 0.9),
        (5, 2.0, -np.inf, 1.2),  # x5 <= 0.6: this one binds
        (6, -1.0, -np.inf, -0.1),  # -x6 <= -0.1: x6 >= 0.1
    ]
    rows = [dense]
    for column, entry, low, high in singles:
        row = np.zeros((1, n_col))
        row[0, column] = entry
        rows.append(row)
        lower = np.append(lower, low)
        upper = np.append(upper, high)
    matrix = sp.csc_matrix(np.vstack(rows))
    permutation = rng.permutation(matrix.shape[0])  # singleton rows among the others
    matrix = sp.csc_matrix(matrix[permutation])
    return LpArrays(
        cost=-rng.uniform(1.0, 3.0, n_col),
        col_lower=np.zeros(n_col),
        col_upper=np.full(n_col, 10.0),
        row_lower=lower[permutation],
        row_upper=upper[permutation],
        start=matrix.indptr.astype(np.int32),
        index=matrix.indices.astype(np.int32),
        value=matrix.data.astype(float),
    )


def _with_rows(lp: LpArrays) -> tuple[np.ndarray, np.ndarray, float]:
    highs = new_highs(DEFAULT_CONFIG)
    pass_lp(highs, lp)
    highs.run()
    assert highs.getModelStatus().name == "kOptimal"
    solution = highs.getSolution()
    objective = float(highs.getInfo().objective_function_value)
    return np.asarray(solution.col_value), np.asarray(solution.row_dual), objective


@pytest.mark.parametrize("seed", range(6))
def test_folded_rows_give_the_solution_and_duals_of_the_lp_with_them(seed: int) -> None:
    lp = _lp(seed)
    x, duals, objective = _with_rows(lp)
    hot = HotLp(DEFAULT_CONFIG)
    hot.load(lp)
    assert hot.lp is not None and hot.lp.shape[0] == lp.shape[0] - 8  # every singleton row
    hot.highs.run()
    assert hot.highs.getModelStatus().name == "kOptimal"
    assert hot.highs.getInfo().objective_function_value == pytest.approx(objective, rel=1e-9)
    np.testing.assert_allclose(hot.values(), x, atol=SOLUTION_ATOL)
    np.testing.assert_allclose(hot.row_duals(), duals, atol=SOLUTION_ATOL)
    folded_duals = duals[SingletonFold.of(lp).rows]
    assert np.count_nonzero(np.abs(folded_duals) > SOLUTION_ATOL) >= 2  # folded rows bind


def test_a_zero_entry_is_no_bound_and_the_lp_keeps_its_rows() -> None:
    lp = _lp(0)
    fold = SingletonFold.of(lp)
    value = lp.value.copy()
    value[fold.entries[0]] = 0.0
    zeroed = LpArrays(**{**lp.__dict__, "value": value})
    assert fold.fold(zeroed) is None
    hot = HotLp(DEFAULT_CONFIG)
    hot.load(zeroed)
    assert hot.lp is not None and hot.lp.shape == lp.shape
    hot.highs.run()
    _, duals, objective = _with_rows(zeroed)
    assert hot.highs.getInfo().objective_function_value == pytest.approx(objective, rel=1e-9)
    np.testing.assert_allclose(hot.row_duals(), duals, atol=SOLUTION_ATOL)
