"""Features known at an origin: lags, window means, similar days, time-of-day climatology.

Every function here takes origins ``o`` and targets ``p >= o`` (positions on a
:class:`~forecasting.timeline.Panel`) and reads values only at positions ``< o``, whatever the
panel holds after that. Lags are in physical time (a day = 96 quarter hours). Missing values
(NaN) stay missing, or are skipped where a statistic is taken over several values.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecasting.calendar import CalendarArrays
from forecasting.medians import nanmedian_rows
from sites.time_step import STEPS_PER_DAY

WEEK_STEPS = 7 * STEPS_PER_DAY


def periodic_lag(x: np.ndarray, origin: np.ndarray, target: np.ndarray, period: int) -> np.ndarray:
    """``x`` at the same phase of the latest period observed before the origin.

    With ``period`` = one day this is "same time on the last observed day" (t - 24 h for leads
    under a day, t - 48 h for leads of one to two days, ...); with a week, "same time last week".
    """
    lag = period * ((target - origin) // period + 1)
    source = target - lag
    return np.where(source >= 0, x[np.maximum(source, 0)], np.nan)


def last_valid(x: np.ndarray, origin: np.ndarray, max_age: int) -> np.ndarray:
    """The latest non-missing value at most ``max_age`` steps before each origin."""
    position = np.where(np.isnan(x), -1, np.arange(len(x)))
    latest = np.maximum.accumulate(position)
    before = latest[np.maximum(origin - 1, 0)]
    ok = (origin > 0) & (before >= 0) & (origin - before <= max_age)
    return np.where(ok, x[np.maximum(before, 0)], np.nan)


def window_mean(x: np.ndarray, origin: np.ndarray, steps: int, min_count: int = 1) -> np.ndarray:
    """Mean of the non-missing values in the ``steps`` intervals before each origin."""
    valid = ~np.isnan(x)
    total = np.concatenate([[0.0], np.cumsum(np.where(valid, x, 0.0))])
    count = np.concatenate([[0], np.cumsum(valid)])
    start = np.maximum(origin - steps, 0)
    n = count[origin] - count[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_count, (total[origin] - total[start]) / n, np.nan)


def similar_days(
    x: np.ndarray,
    kind: np.ndarray,
    origin: np.ndarray,
    target: np.ndarray,
    count: int,
    max_days: int,
) -> np.ndarray:
    """Median of ``x`` at the target's time of day on the last ``count`` days of its kind.

    Candidates are the same time of day 1 .. ``max_days`` days before the target that were
    observed before the origin, on a day of the same kind (see
    :class:`~forecasting.calendar.DayKind`) and not missing. NaN if there is none.
    """
    return SimilarDays(x, kind, origin, target, max_days).median(count)


class SimilarDays:
    """The candidates of :func:`similar_days` for (origin, target) pairs, found once for the
    medians over several counts of days."""

    def __init__(
        self, x: np.ndarray, kind: np.ndarray, origin: np.ndarray, target: np.ndarray, max_days: int
    ) -> None:
        back = STEPS_PER_DAY * np.arange(1, max_days + 1)
        source = target[:, None] - back[None, :]
        clipped = np.maximum(source, 0)
        self.values = x[clipped]
        """Shape (pairs, max_days): ``x`` 1 .. ``max_days`` days before each target."""
        self.candidate = (
            (source >= 0)
            & (source < origin[:, None])
            & (kind[clipped] == kind[target][:, None])
            & ~np.isnan(self.values)
        )
        self.rank = np.cumsum(self.candidate, axis=1)
        """How many candidates there are from the most recent day back to each day."""

    def median(self, count: int) -> np.ndarray:
        """Median over the most recent ``count`` candidates of each pair; NaN if none."""
        ok = self.candidate & (self.rank <= count)
        out = np.full(len(self.values), np.nan)
        have = ok.any(axis=1)
        if count == 1:  # the most recent candidate, through the median's own arithmetic
            latest = self.values[have, np.argmax(ok[have], axis=1)]
            out[have] = (latest + (0.0 + latest)) / 2.0
            return out
        out[have] = nanmedian_rows(np.where(ok, self.values, np.nan)[have])
        return out


def time_of_day_climatology(
    x: np.ndarray,
    calendar: CalendarArrays,
    window_days: int,
    median: bool,
    min_days: int,
    days: np.ndarray,
) -> np.ndarray:
    """Per local day ``d`` and quarter hour: median or mean of ``x`` over days ``d - window_days``
    .. ``d - 1`` (only days before ``d``), shape (days, 96); NaN with fewer than ``min_days``
    and for days not in ``days`` (only those are computed).
    """
    n_days = int(calendar.day[-1]) + 1 if len(calendar.day) else 0
    table = np.full((n_days + window_days, STEPS_PER_DAY), np.nan)
    table[calendar.day + window_days, calendar.step_of_day] = x
    wanted = np.zeros(n_days, dtype=bool)
    wanted[days] = True
    wanted_days = np.flatnonzero(wanted)
    windows = sliding_window_view(table[:-1], window_days, axis=0)[wanted_days]  # d-W .. d-1
    have = (~np.isnan(windows)).sum(axis=-1) >= min_days
    out = np.full((n_days, STEPS_PER_DAY), np.nan)
    if have.any():
        chosen = windows[have]
        computed = np.full((len(wanted_days), STEPS_PER_DAY), np.nan)
        computed[have] = nanmedian_rows(chosen) if median else np.nanmean(chosen, axis=-1)
        out[wanted_days] = computed
    return out


def smooth_time_of_day(table: np.ndarray, half_width: int) -> np.ndarray:
    """Circular moving average over ``2 * half_width + 1`` quarter hours, skipping NaN."""
    if half_width <= 0:
        return table
    shifted = np.stack([np.roll(table, k, axis=1) for k in range(-half_width, half_width + 1)])
    valid = ~np.isnan(shifted)
    n = valid.sum(axis=0)
    total = np.where(valid, shifted, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)
