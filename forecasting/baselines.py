"""The naive forecasts every model must beat, and the fallback when history is too short.

- **persistence**: the last observed value before the issue time, held flat;
- **daily persistence**: the value at the same time on the last observed day (t - 24 h for
  leads under a day, t - 48 h for leads of one to two days): the usual day-ahead persistence;
- **seasonal naive**: the value at the same time one week earlier (t - 7 d).

Each reads only positions before the origin (see :mod:`forecasting.lags`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from forecasting.lags import WEEK_STEPS, last_valid, periodic_lag
from forecasting.models import Method
from forecasting.timeline import STEPS_PER_DAY, Pairs, Panel

MAX_FALLBACK_DAYS = 7  # daily persistence looks back this many days past missing values


class Baseline(StrEnum):
    PERSISTENCE = "persistence"
    DAILY_PERSISTENCE = "daily_persistence"
    SEASONAL_NAIVE = "seasonal_naive"


def baseline_forecast(
    baseline: Baseline, x: np.ndarray, origin: np.ndarray, target: np.ndarray
) -> np.ndarray:
    if baseline is Baseline.PERSISTENCE:
        return last_valid(x, origin, max_age=len(x))
    period = STEPS_PER_DAY if baseline is Baseline.DAILY_PERSISTENCE else WEEK_STEPS
    return periodic_lag(x, origin, target, period)


def fallback_forecast(x: np.ndarray, origin: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Daily persistence that skips missing days (up to a week back), else the last value."""
    out = periodic_lag(x, origin, target, STEPS_PER_DAY)
    for extra in range(1, MAX_FALLBACK_DAYS):
        missing = np.isnan(out)
        if not missing.any():
            break
        earlier = target - STEPS_PER_DAY * extra
        out[missing] = periodic_lag(x, origin, earlier, STEPS_PER_DAY)[missing]
    missing = np.isnan(out)
    out[missing] = last_valid(x, origin, max_age=len(x))[missing]
    return out


@dataclass(frozen=True)
class FallbackModel:
    """Daily persistence as a series model: used when the history is too short for a model."""

    column: str
    method: Method = Method.BASELINE_DAILY_PERSISTENCE

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        return fallback_forecast(panel.values[self.column], pairs.origin, pairs.target)
