"""Electric load: gradient boosting on the working calendar and on lags known at issue time.

The point forecast is ``base + correction``: for leads of 6 h and more the base is the
similar-day profile, for shorter leads the last value (persistence). The similar-day profile
is the median, at the target's time of day, of the last ``SIMILAR_DAYS`` days of the same kind
(working day, Saturday, Sunday or holiday, Chinese calendar incl. adjusted working days; see
:mod:`forecasting.calendar`) observed before the issue time. The correction is a
``HistGradientBoostingRegressor`` (one for leads under 6 h, one for longer leads) on:

- calendar: quarter hour of the day, weekday, kind of the target day, of the day before and
  of the day after (shift start-ups and shut-downs around rest days), lead time;
- lags, all observed before the issue time whatever the lead (direct multi-horizon model):
  same time on the last observed day, same time last week, the most recent day of the same
  kind, the last value, the means of the last day and the last week, how far the last
  value stands from its own similar-day profile (the current anomaly), and how far the
  target's profile is from the last value (a shift change coming).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from forecasting.lags import (
    WEEK_STEPS,
    SimilarDays,
    last_valid,
    periodic_lag,
    similar_days,
    window_mean,
)
from forecasting.models import Method, TrainingSpan, training_pairs
from forecasting.timeline import Pairs, Panel
from forecasting.trees import FastBooster
from sites.time_step import STEPS_PER_DAY

SIMILAR_DAYS = 3  # the median of three same-kind days shrugs off one odd day
SIMILAR_LOOKBACK_DAYS = 28  # a kind (e.g. Saturday) is looked for this far back
MAX_TRAIN_ROWS = 20_000  # as accurate as 40,000 on the bundled loads, at half the time
MAX_SHORT_TRAIN_ROWS = 10_000  # the intraday booster sees only 6 h of leads
TRAIN_STRIDE = 12  # an origin every 3 h
SHORT_LEAD_STEPS = 6 * 4  # the intraday booster's leads: under 6 h
MIN_TRAIN_DAYS = 14  # two weeks: every weekday seen twice
LAST_VALUE_MAX_AGE = STEPS_PER_DAY
SEED = 0
BOOSTING = {
    # squared error: on top of a median profile as accurate in MAE on the bundled loads as the
    # median loss, which costs three times as long (a percentile per leaf and iteration)
    "loss": "squared_error",
    "max_iter": 60,
    "learning_rate": 0.15,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "early_stopping": False,
    "random_state": SEED,
}
SHORT_BOOSTING = BOOSTING | {"loss": "quantile", "quantile": 0.5}
"""Within 6 h a load mostly stays where it is and jumps at shift changes: the median
correction stays 0 where a mean one would smear each jump's chance over every interval."""
# Weekday and day kinds enter as numbers (0-6, 0-2): trees split them just as well, and a
# categorical declaration costs a column transformer (~5 ms) on every forecast.
FEATURES = (
    "step_of_day",
    "weekday",
    "kind",
    "previous_kind",
    "next_kind",
    "lead_h",
    "similar",
    "similar_latest",
    "daily",
    "weekly",
    "last",
    "mean_day",
    "mean_week",
    "anomaly_now",
    "profile_minus_last",
)


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def one_thread() -> AbstractContextManager[Any]:
    """Boosting on one OpenMP thread: on a shared two-core machine its threads wait for each
    other (a fit measured 25 times slower with two busy threads than with one)."""
    return _threadpools().limit(limits=1, user_api="openmp")


def load_features(x: np.ndarray, panel: Panel, pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """(feature matrix, base) per pair; the boosters learn ``load - base``. The base is the
    last value for leads under ``SHORT_LEAD_STEPS`` (persistence), else the similar-day
    profile."""
    cal = panel.calendar
    origin, target = pairs.origin, pairs.target
    candidates = SimilarDays(x, cal.kind, origin, target, SIMILAR_LOOKBACK_DAYS)
    similar, latest = candidates.median(SIMILAR_DAYS), candidates.median(1)
    daily = periodic_lag(x, origin, target, STEPS_PER_DAY)
    weekly = periodic_lag(x, origin, target, WEEK_STEPS)
    at_origin = np.column_stack(
        [
            last_valid(x, pairs.origins, LAST_VALUE_MAX_AGE),
            window_mean(x, pairs.origins, STEPS_PER_DAY),
            window_mean(x, pairs.origins, WEEK_STEPS),
        ]
    )[pairs.row]
    last_step = pairs.origins - 1
    now_profile = similar_days(
        x, cal.kind, pairs.origins, last_step, SIMILAR_DAYS, SIMILAR_LOOKBACK_DAYS
    )
    anomaly_now = (at_origin[:, 0] - now_profile[pairs.row]) if len(pairs) else np.empty(0)
    profile = similar.copy()
    for substitute in (weekly, daily, at_origin[:, 2], at_origin[:, 0]):
        profile = np.where(np.isnan(profile), substitute, profile)
    last = at_origin[:, 0]
    short = (pairs.lead < SHORT_LEAD_STEPS) & ~np.isnan(last)
    base = np.where(short, last, profile)
    matrix = np.column_stack(
        [
            cal.step_of_day[target],
            cal.weekday[target],
            cal.kind[target],
            cal.previous_kind[target],
            cal.next_kind[target],
            pairs.lead / 4.0,
            similar,
            latest,
            daily,
            weekly,
            at_origin,
            anomaly_now,
            profile - last,
        ]
    ).astype("float64")
    return matrix, base


@dataclass(frozen=True)
class LoadModel:
    """Two boosters: one for leads under ``SHORT_LEAD_STEPS`` (where the last value and the
    current anomaly matter most), one for longer leads (where the calendar does)."""

    column: str
    short: HistGradientBoostingRegressor
    long: HistGradientBoostingRegressor
    method: Method = Method.LOAD_GRADIENT_BOOSTING

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    @cached_property
    def _fast(self) -> tuple[FastBooster, FastBooster]:
        """The two boosters, read once for prediction (see :mod:`forecasting.trees`)."""
        return FastBooster(self.short), FastBooster(self.long)

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        matrix, base = load_features(panel.values[self.column], panel, pairs)
        short = pairs.lead < SHORT_LEAD_STEPS
        correction = np.zeros(len(pairs))
        fast_short, fast_long = self._fast
        with one_thread():
            for booster, rows in ((fast_short, short), (fast_long, ~short)):
                if rows.any():
                    correction[rows] = booster.predict(matrix[rows])
        return np.maximum(base + correction, 0.0)


def fit_load(column: str, panel: Panel, span: TrainingSpan) -> LoadModel:
    pairs = training_pairs(span, 7 * STEPS_PER_DAY, TRAIN_STRIDE)
    short = pairs.lead < SHORT_LEAD_STEPS
    return LoadModel(
        column,
        _fit_booster(panel, column, pairs.subset(short), MAX_SHORT_TRAIN_ROWS, SHORT_BOOSTING),
        _fit_booster(panel, column, pairs.subset(~short), MAX_TRAIN_ROWS, BOOSTING),
    )


def _fit_booster(
    panel: Panel, column: str, pairs: Pairs, max_rows: int, settings: Mapping[str, Any]
) -> HistGradientBoostingRegressor:
    x = panel.values[column]
    pairs = pairs.subset(~np.isnan(x[pairs.target]))
    if len(pairs) > max_rows:
        chosen = np.random.default_rng(SEED).choice(len(pairs), max_rows, replace=False)
        pairs = pairs.subset(np.sort(chosen))
    matrix, base = load_features(x, panel, pairs)
    known = ~np.isnan(base)
    matrix, base, pairs = matrix[known], base[known], pairs.subset(known)
    booster = HistGradientBoostingRegressor(**settings)
    with one_thread():
        booster.fit(matrix, x[pairs.target] - base)
    return booster
