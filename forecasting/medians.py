"""Medians that skip missing values, fast on many short rows.

A forecast takes thousands of medians of a few values each (similar days, a time-of-day
climatology, a spike's neighbourhood). ``np.nanmedian`` and pandas' rolling median spend most
of that time in per-call overhead (masked arrays, a skip list), so these compute the same
numbers with a few whole-array operations. Each replaces the library call it names, number
for number (the rolling one up to the sign of a zero median, which a distance from it does
not see); ``tests/forecasting/test_medians.py`` holds them to it.
"""

from __future__ import annotations

import numpy as np


def nanmedian_rows(values: np.ndarray) -> np.ndarray:
    """Median of the non-NaN values of each row of a 2-d array (NaN for a row without any).

    The same numbers, bit for bit, as ``np.nanmedian(values, axis=1)``, which for rows
    shorter than 600 values sorts a masked array with the missing values filled by +inf and
    adds the two middle values (the second to 0.0 first, which matters only for the sign of
    a zero) before halving them: this does the same, without the masked array.
    """
    missing = np.isnan(values)
    filled = np.where(missing, np.inf, values)
    ordered = _sorted_rows(filled)
    count = values.shape[1] - np.count_nonzero(missing, axis=1)
    high = count // 2
    low = high - 1 + count % 2  # the middle one twice for an odd count
    rows = np.arange(len(values))
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as numpy's
        median = (ordered[rows, low] + (0.0 + ordered[rows, high])) / 2.0
    return np.where(count > 0, median, np.nan)


def _sorted_rows(values: np.ndarray) -> np.ndarray:
    """Each row sorted ascending, with equal values in the order ``np.argsort`` puts them (as
    ``np.ma.sort`` does). Only 0.0 and -0.0 are equal yet differ, so unless both occur the
    plain (faster) ``np.sort`` gives the same array."""
    zero = values == 0.0
    if zero.any() and np.signbit(values[zero]).any():
        return np.take_along_axis(values, np.argsort(values, axis=1), axis=1)
    return np.sort(values, axis=1)


def rolling_nanmedian(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """Centred rolling median of ``x`` over ``window`` values (odd), skipping NaN and ±inf;
    NaN where fewer than ``min_periods`` values are left. ``x`` may be 2-d: each row is a
    series of its own (one call for several series costs about what one series does).

    The same numbers as pandas' ``Series(x).rolling(window, center=True,
    min_periods=min_periods).median()`` (the middle value for an odd count, the mean of the
    two middle ones for an even count) except, possibly, the sign of a zero median: pandas
    keeps equal values in a skip list in the order they came.
    """
    n, half = x.shape[-1], window // 2
    edge = np.full((*x.shape[:-1], half), np.inf)
    padded = np.concatenate([edge, np.where(np.isfinite(x), x, np.inf), edge], axis=-1)
    # row k holds each window's k-th value (missing last); an odd-even transposition sort
    # orders them
    rows = [padded[..., k : k + n] for k in range(window)]
    for sweep in range(window):
        for k in range(sweep % 2, window - 1, 2):
            low, high = rows[k], rows[k + 1]
            rows[k], rows[k + 1] = np.minimum(low, high), np.maximum(low, high)
    ordered = np.stack(rows)
    finite = np.isfinite(padded)
    counted = np.concatenate([np.zeros((*x.shape[:-1], 1), dtype=np.int64), finite.cumsum(-1)], -1)
    count = counted[..., window:] - counted[..., :-window]
    high = count // 2
    odd = count % 2 == 1
    upper = np.take_along_axis(ordered, high[None], axis=0)[0]
    lower = np.take_along_axis(ordered, (high - 1 + odd)[None], axis=0)[0]
    median = np.where(odd, upper, (lower + upper) / 2.0)
    return np.where(count >= max(min_periods, 1), median, np.nan)
