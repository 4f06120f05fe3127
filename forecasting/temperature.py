"""Ambient temperature: recent climatology by time of day plus a decaying anomaly.

One bundled year gives no climatology by day of year from earlier years, so the climatology
is the mean of each quarter hour over the last ``WINDOW_DAYS`` days (it carries the season and
the daily cycle); the current anomaly (last value, and last day, against it) is added with
weights fitted per hour of lead (:mod:`forecasting.anomaly`), so it decays towards the
climatology as the lead grows. With a weather forecast holding temperature, that is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from forecasting.anomaly import ClimatologyBlend, ClimatologySettings, fit_climatology_blend
from forecasting.models import Method, TrainingSpan, training_pairs
from forecasting.timeline import Pairs, Panel
from sites.time_step import STEPS_PER_DAY

SETTINGS = ClimatologySettings(
    window_days=14, median=False, min_days=5, smooth_steps=0, recent_steps=1, robust=False
)
MIN_TRAIN_DAYS = 10
TRAIN_STRIDE = 16  # an origin every 4 h: ~2,200 a year, plenty for three weights an hour


@dataclass(frozen=True)
class TemperatureModel:
    column: str
    forecaster: ClimatologyBlend
    method: Method = Method.TEMPERATURE_CLIMATOLOGY_ANOMALY

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.forecaster.forecast(panel.values[self.column], panel.calendar, pairs)


def fit_temperature(column: str, panel: Panel, span: TrainingSpan) -> TemperatureModel:
    pairs = training_pairs(span, SETTINGS.min_days * STEPS_PER_DAY, TRAIN_STRIDE)
    x = panel.values[column]
    return TemperatureModel(column, fit_climatology_blend(x, panel.calendar, pairs, SETTINGS))
