"""A base forecast plus the recent anomaly, blended out with lead time.

Several series are forecast as ``base + b0 + b1 * recent anomaly + b2 * day anomaly``: the base
is a climatology (PV clear-sky index, wind, temperature) or a physical relation (heat), the
anomalies are the mean deviation of the observations from that base over the last
``recent_steps`` and the last 24 h before the origin, and the weights ``b`` are fitted per
hour of lead time. Near lead 0 the fit ends up close to persistence of the anomaly ("smart
persistence"), at long leads close to the base (climatology): the decay is learnt, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.calendar import CalendarArrays
from forecasting.lags import smooth_time_of_day, time_of_day_climatology
from forecasting.medians import nanmedian_rows
from forecasting.models import TRAIN_LEADS, lead_hour
from forecasting.timeline import Pairs
from sites.time_step import STEPS_PER_DAY

MIN_BUCKET_ROWS = 30  # fewer rows than this in an hour of lead: keep the base alone
ROBUST_ITERATIONS = 8  # iteratively reweighted least squares towards least absolute error
_HOURS = TRAIN_LEADS // 4


@dataclass(frozen=True)
class Blend:
    coefficients: np.ndarray
    """Shape (hours of lead, 3): intercept, recent anomaly, day anomaly."""

    @classmethod
    def base_only(cls) -> Blend:
        return cls(np.zeros((_HOURS, 3)))

    def apply(self, pairs: Pairs, base: np.ndarray, anomalies: np.ndarray) -> np.ndarray:
        c = self.coefficients[lead_hour(pairs, _HOURS)]
        a = anomalies[pairs.row]
        return np.asarray(base + c[:, 0] + c[:, 1] * a[:, 0] + c[:, 2] * a[:, 1])


def deviation_window(origins: np.ndarray) -> np.ndarray:
    """Positions of the last 24 h before each origin, shape (origins, 96), oldest first."""
    return origins[:, None] - np.arange(STEPS_PER_DAY, 0, -1)[None, :]


def origin_anomalies(deviation: np.ndarray, recent_steps: int) -> np.ndarray:
    """(recent, day) mean deviation per origin from a (origins, 96) matrix; NaN counts as 0."""
    with np.errstate(invalid="ignore"):
        known = ~np.isnan(deviation)
        filled = np.where(known, deviation, 0.0)
        recent_n = known[:, -recent_steps:].sum(axis=1)
        day_n = known.sum(axis=1)
        recent = np.where(recent_n > 0, filled[:, -recent_steps:].sum(axis=1) / recent_n, 0.0)
        day = np.where(day_n > 0, filled.sum(axis=1) / day_n, 0.0)
    return np.column_stack([recent, day])


def fit_blend(
    pairs: Pairs,
    base: np.ndarray,
    anomalies: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    robust: bool = False,
) -> Blend:
    """Per hour of lead, weights minimising squared (or with ``robust``, absolute) error."""
    w_all = np.ones(len(target)) if weight is None else weight
    usable = ~np.isnan(target) & ~np.isnan(base) & (w_all > 0)
    bucket = lead_hour(pairs, _HOURS)[usable]
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(_HOURS + 1))
    design = np.column_stack([np.ones(usable.sum()), anomalies[pairs.row][usable]])[order]
    y = (target - base)[usable][order]
    w0 = w_all[usable][order]
    coefficients = np.zeros((_HOURS, 3))
    for hour in range(_HOURS):
        rows = slice(bounds[hour], bounds[hour + 1])
        if bounds[hour + 1] - bounds[hour] < MIN_BUCKET_ROWS:
            continue
        coefficients[hour] = _weighted_fit(design[rows], y[rows], w0[rows], robust)
    return Blend(coefficients)


def _weighted_fit(design: np.ndarray, y: np.ndarray, w0: np.ndarray, robust: bool) -> np.ndarray:
    """Weighted least squares by the normal equations; IRLS towards least absolute error."""
    floor = 1e-3 * max(float(np.std(y)), 1e-9)
    ridge = 1e-9 * np.eye(design.shape[1])
    w = w0
    coef = np.zeros(design.shape[1])
    for _ in range(ROBUST_ITERATIONS if robust else 1):
        weighted = design * w[:, None]
        gram = weighted.T @ design
        coef = np.linalg.solve(gram + ridge * max(float(np.trace(gram)), 1.0), weighted.T @ y)
        w = w0 / np.maximum(np.abs(y - design @ coef), floor)
    return coef


@dataclass(frozen=True)
class ClimatologySettings:
    window_days: int
    """Days before the origin's day the time-of-day climatology is taken over."""
    median: bool
    """Median (skewed series: PV, wind) or mean (temperature)."""
    min_days: int
    smooth_steps: int
    """Half-width of a moving average over the time of day (0 = none)."""
    recent_steps: int
    robust: bool


def climatology_table(
    x: np.ndarray, calendar: CalendarArrays, s: ClimatologySettings, days: np.ndarray
) -> np.ndarray:
    """(days, 96) climatology of ``x`` (rows of ``days`` only, others NaN); quarter hours
    without one take the day's median."""
    table = time_of_day_climatology(x, calendar, s.window_days, s.median, s.min_days, days)
    if s.smooth_steps > 0:  # only the rows computed (the others are NaN and stay so)
        rows = np.unique(days)
        table[rows] = smooth_time_of_day(table[rows], s.smooth_steps)
    day_median = np.full(len(table), np.nan)  # all-NaN days stay NaN
    computed = ~np.isnan(table).all(axis=1)
    day_median[computed] = nanmedian_rows(table[computed])
    return np.where(np.isnan(table), day_median[:, None], table)


@dataclass(frozen=True)
class ClimatologyBlend:
    """Time-of-day climatology of recent weeks plus the blended recent anomaly."""

    settings: ClimatologySettings
    blend: Blend

    def forecast(self, x: np.ndarray, calendar: CalendarArrays, pairs: Pairs) -> np.ndarray:
        base, anomalies = _base_and_anomalies(x, calendar, pairs, self.settings)
        return self.blend.apply(pairs, base, anomalies)


def _base_and_anomalies(
    x: np.ndarray, calendar: CalendarArrays, pairs: Pairs, s: ClimatologySettings
) -> tuple[np.ndarray, np.ndarray]:
    origin_day = calendar.day[pairs.origins]
    table = climatology_table(x, calendar, s, np.unique(origin_day))
    base = table[origin_day[pairs.row], calendar.step_of_day[pairs.target]]
    window = deviation_window(pairs.origins)
    inside = window >= 0
    position = np.maximum(window, 0)
    expected = table[origin_day[:, None], calendar.step_of_day[position]]
    deviation = np.where(inside, x[position] - expected, np.nan)
    return base, origin_anomalies(deviation, s.recent_steps)


def fit_climatology_blend(
    x: np.ndarray,
    calendar: CalendarArrays,
    pairs: Pairs,
    settings: ClimatologySettings,
    weight: np.ndarray | None = None,
) -> ClimatologyBlend:
    base, anomalies = _base_and_anomalies(x, calendar, pairs, settings)
    blend = fit_blend(pairs, base, anomalies, x[pairs.target], weight, settings.robust)
    return ClimatologyBlend(settings, blend)
