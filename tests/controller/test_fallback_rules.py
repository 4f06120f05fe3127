"""The rule-based dispatch's arithmetic: totals over assets add as a per-interval sum does."""

from __future__ import annotations

import numpy as np

from controller.fallback.rules import _column_totals


def test_column_totals_add_in_the_order_of_a_single_column_sum() -> None:
    rng = np.random.default_rng(0)
    for rows in range(12):
        scale = 10.0 ** rng.integers(-3, 6, size=(rows, 50))
        values = rng.standard_normal((rows, 50)) * scale
        expected = np.array([values[:, t].sum() for t in range(values.shape[1])])
        got = _column_totals(values)
        np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))
