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
from forecasting.timeline import Pairs, Panel
from sites.time_step import STEPS_PER_DAY

MAX_FALLBACK_DAYS = 7  # daily persistence looks back this many days past missing values
ANOMALY_DECAY_STEPS = 32.0
"""How fast the fallback forgets the last value's departure from its day-before value: e^-1
after 8 h. Chosen on the bundled histories (January and February, an origin every hour, leads
to 48 h): against daily persistence alone it roughly halves the error of the first six hours
of loads, heat and waste heat (e.g. the textile park's dyeing load 535 -> 268 kW mean absolute
error over leads under 6 h) and is no worse beyond; 2 h or 4 h do less for them."""
PV_ANOMALY_DECAY_STEPS = 8.0
"""The same for PV (cloudiness): e^-1 after 2 h, best for PV in that comparison (textile park
dye-house roof 315 -> 268 kW over leads under 6 h; 8 h would be 303 kW)."""


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


def anchored_fallback_forecast(
    x: np.ndarray, origin: np.ndarray, target: np.ndarray, decay_steps: float
) -> np.ndarray:
    """:func:`fallback_forecast` plus the last observed value's departure from its own
    fallback value (the day before), fading as ``exp(-lead / decay_steps)``: a load that
    dropped an hour ago (a shift ended, a line stopped) is forecast from where it is now, not
    from where it was yesterday, and returns to yesterday's profile over the next hours."""
    base = fallback_forecast(x, origin, target)
    last = np.maximum(origin - 1, 0)
    anomaly = x[last] - fallback_forecast(x, last, last)
    anomaly = np.where((origin > 0) & np.isfinite(anomaly), anomaly, 0.0)
    return base + anomaly * np.exp(-(target - origin) / decay_steps)


@dataclass(frozen=True)
class FallbackModel:
    """Daily persistence anchored on the last value, as a series model: used when the history
    is too short for a model (see :func:`anchored_fallback_forecast`)."""

    column: str
    decay_steps: float = ANOMALY_DECAY_STEPS
    method: Method = Method.BASELINE_DAILY_PERSISTENCE

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        x = panel.values[self.column]
        return anchored_fallback_forecast(x, pairs.origin, pairs.target, self.decay_steps)
