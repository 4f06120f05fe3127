"""Wind: through the turbine's power curve from a wind-speed forecast, else statistically.

Without a weather forecast, the output per unit of rated power is forecast by
:mod:`forecasting.anomaly`: its time-of-day median over the last 21 days (smoothed
over two hours either side), plus the deviation of the last value and of the last day from
it, blended out with lead time (recent history -> climatology). With a wind-speed forecast,
the speed is carried to hub height (Hellman, exponent 1/7) and through the turbine's power
curve (windpowerlib: the library curve of ``turbine_type``, or the site's own curve).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from windpowerlib import WindTurbine as LibraryTurbine
from windpowerlib import power_output, wind_speed

from forecasting.anomaly import ClimatologyBlend, ClimatologySettings, fit_climatology_blend
from forecasting.models import Method, TrainingSpan, training_pairs
from forecasting.timeline import Pairs, Panel
from sites.schema import WindTurbine
from sites.time_step import STEPS_PER_DAY

SETTINGS = ClimatologySettings(
    window_days=21, median=True, min_days=5, smooth_steps=8, recent_steps=1, robust=True
)
HELLMAN_EXPONENT = 1 / 7  # neutral stability over open land
MIN_TRAIN_DAYS = 10
TRAIN_STRIDE = 16  # an origin every 4 h: ~2,200 a year, plenty for three weights an hour


@dataclass(frozen=True)
class WindModel:
    turbine: WindTurbine
    column: str
    forecaster: ClimatologyBlend
    method: Method = Method.WIND_STATISTICAL

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        rated = self.turbine.total_rated_kw
        per_unit = self.forecaster.forecast(
            panel.values[self.column] / rated, panel.calendar, pairs
        )
        return np.clip(per_unit, 0.0, 1.0) * rated


def fit_wind(turbine: WindTurbine, column: str, panel: Panel, span: TrainingSpan) -> WindModel:
    pairs = training_pairs(span, SETTINGS.min_days * STEPS_PER_DAY, TRAIN_STRIDE)
    per_unit = panel.values[column] / turbine.total_rated_kw
    return WindModel(
        turbine, column, fit_climatology_blend(per_unit, panel.calendar, pairs, SETTINGS)
    )


def power_curve_kw(turbine: WindTurbine) -> tuple[np.ndarray, np.ndarray]:
    """(wind speeds [m/s], power of one turbine [kW]) of the site's turbine."""
    if turbine.power_curve is not None:
        speeds = np.array([p.wind_speed_m_per_s for p in turbine.power_curve])
        return speeds, np.array([p.power_kw for p in turbine.power_curve])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the library's own pandas usage
        curve = LibraryTurbine(
            hub_height=turbine.hub_height_m, turbine_type=turbine.turbine_type
        ).power_curve
    return curve["wind_speed"].to_numpy(float), curve["value"].to_numpy(float) / 1000.0


def power_curve_output_kw(
    turbine: WindTurbine, speed_m_per_s: np.ndarray, measured_at_m: float
) -> np.ndarray:
    """Output [kW] of the turbine group for forecast wind speeds at ``measured_at_m``."""
    hub = wind_speed.hellman(
        pd.Series(speed_m_per_s),
        measured_at_m,
        turbine.hub_height_m,
        hellman_exponent=HELLMAN_EXPONENT,
    )
    speeds, power = power_curve_kw(turbine)
    one = power_output.power_curve(pd.Series(np.asarray(hub)), speeds, power)
    return np.clip(np.asarray(one, dtype="float64") * turbine.count, 0.0, turbine.total_rated_kw)
