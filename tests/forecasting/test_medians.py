"""The fast medians give the numbers of the numpy and pandas calls they stand in for."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecasting.medians import nanmedian_rows, rolling_nanmedian

# few distinct values, so that ties (0.0 against -0.0 among them) and even counts are common
VALUES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.nan, np.nan, np.inf, -np.inf])


def _numpy_nanmedian(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        return np.asarray(np.nanmedian(values, axis=1))


def test_nanmedian_rows_of_a_small_table() -> None:
    values = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, 4.0, 1.0, np.nan], [np.nan] * 4])
    np.testing.assert_array_equal(nanmedian_rows(values), [2.0, 2.5, np.nan])


@settings(max_examples=300, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 40), st.integers(1, 30)), elements=VALUES))
def test_nanmedian_rows_is_numpys_bit_for_bit(values: np.ndarray) -> None:
    assert nanmedian_rows(values).tobytes() == _numpy_nanmedian(values).tobytes()


def test_rolling_nanmedian_at_the_edges_and_around_gaps() -> None:
    x = np.array([5.0, 1.0, np.nan, 3.0, 100.0, 2.0, np.inf])
    expected = [3.0, 3.0, 4.0, 2.5, 3.0, 3.0, 51.0]  # inf counts as missing, as in pandas
    np.testing.assert_array_equal(rolling_nanmedian(x, 5, min_periods=2), expected)
    assert np.isnan(rolling_nanmedian(np.array([1.0, np.nan, np.nan]), 5, min_periods=2)).all()


@settings(max_examples=300, deadline=None)
@given(
    arrays(np.float64, st.integers(0, 60), elements=VALUES),
    st.sampled_from([1, 3, 5, 7]),
    st.integers(0, 5),
)
def test_rolling_nanmedian_is_pandas(x: np.ndarray, window: int, min_periods: int) -> None:
    min_periods = min(min_periods, window)
    expected = pd.Series(x).rolling(window, center=True, min_periods=min_periods).median()
    # equal values: only the sign of a zero median may differ (see the docstring)
    np.testing.assert_array_equal(rolling_nanmedian(x, window, min_periods), expected)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(0, 40)), elements=VALUES))
def test_rolling_nanmedian_of_rows_is_each_row_alone(values: np.ndarray) -> None:
    together = rolling_nanmedian(values, 5, min_periods=3)
    for row, x in zip(together, values, strict=True):
        assert row.tobytes() == rolling_nanmedian(x, 5, min_periods=3).tobytes()
