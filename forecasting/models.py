"""What every series model offers, the methods there are, and how fitting is shared.

A model turns a :class:`~forecasting.timeline.Panel` and (origin, target) pairs into P50 per
pair; ``upstream`` carries the P50 of series it depends on at the same pairs (heat demand and
waste heat use the electric load and temperature forecasts). ``scale`` is the unit in which
its residuals are calibrated (the clear-sky output for PV, so that the band narrows towards
dawn and dusk; 1 elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from forecasting.timeline import Pairs, Panel, make_pairs, origins_every
from sites.time_step import STEPS_PER_DAY

TRAIN_LEADS = 2 * STEPS_PER_DAY  # models are trained for leads up to 48 h


class Method(StrEnum):
    PV_CLEAR_SKY_INDEX = "pv_clear_sky_index"
    PV_PHYSICAL_WEATHER = "pv_physical_weather"
    WIND_STATISTICAL = "wind_statistical"
    WIND_POWER_CURVE = "wind_power_curve"
    LOAD_GRADIENT_BOOSTING = "load_gradient_boosting"
    HEAT_PROCESS_AND_DEGREE_HOURS = "heat_process_and_degree_hours"
    WASTE_HEAT_FROM_LOAD = "waste_heat_from_load"
    TEMPERATURE_CLIMATOLOGY_ANOMALY = "temperature_climatology_anomaly"
    TEMPERATURE_WEATHER = "temperature_weather"
    BASELINE_DAILY_PERSISTENCE = "baseline_daily_persistence"
    # the baselines of a park without history (forecasting.declared)
    PV_CLEAR_SKY_CLIMATOLOGY = "pv_clear_sky_climatology"
    WIND_POWER_CURVE_CLIMATOLOGY = "wind_power_curve_climatology"
    LOAD_DECLARED_ENERGY = "load_declared_energy"
    HEAT_DECLARED_ENERGY = "heat_declared_energy"
    WASTE_HEAT_DECLARED_RATIO = "waste_heat_declared_ratio"
    TEMPERATURE_CLIMATE_NORMAL = "temperature_climate_normal"


METHOD_DESCRIPTIONS: Mapping[Method, str] = {
    Method.PV_CLEAR_SKY_INDEX: "pvlib clear-sky plane-of-array output x clear-sky index "
    "(recent anomaly blended into the time-of-day climatology by lead time)",
    Method.PV_PHYSICAL_WEATHER: "pvlib plane-of-array irradiance and PVWatts from the weather "
    "forecast's irradiance",
    Method.WIND_STATISTICAL: "time-of-day climatology of recent weeks plus the recent anomaly, "
    "decaying with lead time",
    Method.WIND_POWER_CURVE: "windpowerlib power curve at hub height from the weather "
    "forecast's wind speed",
    Method.LOAD_GRADIENT_BOOSTING: "similar-day profile (last value under 6 h) plus a gradient-"
    "boosting correction on the Chinese working calendar, time of day and lags known at issue "
    "time",
    Method.HEAT_PROCESS_AND_DEGREE_HOURS: "process share from the load forecast plus space "
    "heating from heating degree-hours of the temperature forecast",
    Method.WASTE_HEAT_FROM_LOAD: "linear in the process load forecast, capped at the stream's "
    "maximum",
    Method.TEMPERATURE_CLIMATOLOGY_ANOMALY: "time-of-day climatology of the last two weeks plus "
    "the current anomaly, decaying with lead time",
    Method.TEMPERATURE_WEATHER: "the weather forecast's temperature",
    Method.BASELINE_DAILY_PERSISTENCE: (
        "same time on the last observed day, plus the last value's departure from its own "
        "day-before value, fading over the next hours"
    ),
    Method.PV_CLEAR_SKY_CLIMATOLOGY: "pvlib clear-sky output of the array x a climatological "
    "clear-sky index (no history)",
    Method.WIND_POWER_CURVE_CLIMATOLOGY: "mean of the power curve over a climatological "
    "Rayleigh wind speed at hub height (no history)",
    Method.LOAD_DECLARED_ENERGY: "the declared annual energy spread evenly (no history)",
    Method.HEAT_DECLARED_ENERGY: "the declared annual heat: process share even, space heating "
    "by heating degrees of the climate normal (no history)",
    Method.WASTE_HEAT_DECLARED_RATIO: "the declared heat per kW of the process load's "
    "baseline (no history)",
    Method.TEMPERATURE_CLIMATE_NORMAL: "the climate normal: seasonal mean and mean daily cycle "
    "(no history)",
}


class SeriesModel(Protocol):
    @property
    def method(self) -> Method: ...

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        """Median forecast per pair; NaN where the model has nothing to go on."""
        ...

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        """Unit of the residuals per pair (see the module docstring)."""
        ...


@dataclass(frozen=True)
class TrainingSpan:
    """Which part of a panel a fit may learn from: targets before ``end``."""

    start: int
    end: int

    @property
    def days(self) -> float:
        return (self.end - self.start) / STEPS_PER_DAY


def training_pairs(span: TrainingSpan, warmup_steps: int, stride: int) -> Pairs:
    """Origins every ``stride`` steps after ``warmup_steps`` of history, leads up to 48 h."""
    origins = origins_every(span.start + warmup_steps, span.end, stride)
    return make_pairs(origins, TRAIN_LEADS, span.end)


def lead_hour(pairs: Pairs, hours: int = TRAIN_LEADS // 4) -> np.ndarray:
    """Hourly lead bucket 0 .. ``hours - 1`` (longer leads share the last)."""
    return np.minimum(pairs.lead // 4, hours - 1)
