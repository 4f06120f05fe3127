"""PV: clear-sky output of each array times a forecast clear-sky index, or pvlib from weather.

Without a weather forecast, an array's output is its clear-sky plane-of-array output
(:func:`sites.history.solar.clear_sky_per_kwp`: pvlib Ineichen clear sky, Hay-Davies
transposition for the array's tilt and azimuth) x kWp x a clear-sky index ``k``. ``k`` is
forecast by :mod:`forecasting.anomaly`: its time-of-day median over the last 21 days, plus
the deviation of the last value (smart persistence) and of the last day from it, blended out
with lead time. With a weather forecast holding irradiance, the output is computed
physically (:func:`physical_pv_kw`). Output is 0 while the sun is down and never above the
inverter rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib

from forecasting.anomaly import ClimatologyBlend, ClimatologySettings, fit_climatology_blend
from forecasting.calendar import wall_clock_ns
from forecasting.models import Method, TrainingSpan, training_pairs
from forecasting.timeline import Pairs, Panel
from sites.history.solar import clear_sky_per_kwp
from sites.schema import Location, PVArray
from sites.time_step import STEP, STEPS_PER_DAY

SYSTEM_LOSS = 0.14  # as in the clear-sky reference: soiling, wiring, mismatch, inverter
GAMMA_PDC_PER_K = -0.004  # crystalline silicon power temperature coefficient
MIN_CLEAR_SKY_KW_PER_KWP = 0.05  # below this (low sun) the ratio k is too noisy to learn from
CLEAR_SKY_INDEX_MAX = 1.2  # cloud enhancement lets k exceed 1 briefly, not by more
SETTINGS = ClimatologySettings(
    window_days=21, median=True, min_days=5, smooth_steps=0, recent_steps=1, robust=True
)
MIN_TRAIN_DAYS = 10
TRAIN_STRIDE = 16  # an origin every 4 h: ~2,200 a year, plenty for three weights an hour
_MIDPOINT = pd.Timedelta(minutes=7.5)
_DAY_NS = pd.Timedelta(days=1).value


@dataclass
class ClearSkyCache:
    """Clear-sky output [kW/kWp] of one array, computed per local day once and kept (the
    days a call needs are read from its index's wall clock, without building timestamps)."""

    location: Location
    tilt_deg: float
    azimuth_deg: float
    _days: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False)
    """(time zone, local day number since 1970-01-01) -> that day's values from midnight."""

    def per_kwp(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Values at the times of ``index``, an ascending regular 15-minute range."""
        zone = str(index.tz)
        day = wall_clock_ns(index) // _DAY_NS
        keys = [(zone, d) for d in day[np.concatenate([[True], day[1:] != day[:-1]])].tolist()]
        missing = [key for key in keys if key not in self._days]
        if missing:
            first, last = _midnight(missing[0][1], index), _midnight(missing[-1][1], index)
            span = pd.date_range(first, last + pd.Timedelta(days=1), freq=STEP)
            span = span[span < last + pd.Timedelta(days=1)]
            loc = self.location
            values = clear_sky_per_kwp(
                span, loc.latitude, loc.longitude, loc.altitude_m, self.tilt_deg, self.azimuth_deg
            ).to_numpy()
            span_days = wall_clock_ns(span) // _DAY_NS
            for span_day in np.unique(span_days):
                self._days[(zone, int(span_day))] = values[span_days == span_day]
        stitched = np.concatenate([self._days[key] for key in keys])
        offset = (index[0] - _midnight(keys[0][1], index)) // STEP
        return np.asarray(stitched[offset : offset + len(index)])


def _midnight(day: int, index: pd.DatetimeIndex) -> pd.Timestamp:
    """The start of local day number ``day`` (since 1970-01-01) on ``index``'s clock, as
    ``index.normalize()`` gives it."""
    return pd.Timestamp(day * _DAY_NS).tz_localize(index.tz)


@lru_cache(maxsize=64)
def clear_sky_cache(location: Location, tilt_deg: float, azimuth_deg: float) -> ClearSkyCache:
    """One cache per array geometry and process: clear sky does not change between fits."""
    return ClearSkyCache(location, tilt_deg, azimuth_deg)


@dataclass(frozen=True)
class PVModel:
    array: PVArray
    column: str
    forecaster: ClimatologyBlend
    method: Method = Method.PV_CLEAR_SKY_INDEX

    @property
    def cap_kw(self) -> float:
        return min(self.array.inverter_kva, self.array.peak_kw)

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.asarray(panel.clear_sky[self.column][pairs.target] * self.array.peak_kw)

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        scale = self.scale(panel, pairs)
        k = self.forecaster.forecast(
            clear_sky_index(panel, self.column, self.array), panel.calendar, pairs
        )
        return np.clip(np.clip(k, 0.0, CLEAR_SKY_INDEX_MAX) * scale, 0.0, self.cap_kw)


def clear_sky_index(panel: Panel, column: str, array: PVArray) -> np.ndarray:
    """Measured output / clear-sky output; NaN at low sun and where the output is missing."""
    reference = panel.clear_sky[column] * array.peak_kw
    with np.errstate(invalid="ignore", divide="ignore"):
        k = panel.values[column] / reference
    return np.where(panel.clear_sky[column] >= MIN_CLEAR_SKY_KW_PER_KWP, k, np.nan)


def fit_pv(array: PVArray, column: str, panel: Panel, span: TrainingSpan) -> PVModel:
    pairs = training_pairs(span, SETTINGS.min_days * STEPS_PER_DAY, TRAIN_STRIDE)
    daylight = panel.clear_sky[column][pairs.target] >= MIN_CLEAR_SKY_KW_PER_KWP
    pairs = pairs.subset(daylight)
    k = clear_sky_index(panel, column, array)
    weight = panel.clear_sky[column][pairs.target]  # errors in kW scale with the clear sky
    forecaster = fit_climatology_blend(k, panel.calendar, pairs, SETTINGS, weight)
    return PVModel(array, column, forecaster)


def physical_pv_kw(
    array: PVArray, location: Location, index: pd.DatetimeIndex, weather: Mapping[str, np.ndarray]
) -> np.ndarray:
    """AC output [kW] from forecast irradiance (W/m2) at each interval's midpoint.

    Needs ``ghi_w_per_m2``; ``dni_w_per_m2`` and ``dhi_w_per_m2`` are split from it (Erbs)
    when missing; cell temperature from ``ambient_temperature_degc`` and
    ``wind_speed_m_per_s`` (Faiman) when given, else 25 degC ambient and 1 m/s.
    """
    times = index + _MIDPOINT
    site = pvlib.location.Location(
        location.latitude, location.longitude, altitude=location.altitude_m
    )
    sun = site.get_solarposition(times)
    ghi = np.asarray(weather["ghi_w_per_m2"])
    if "dni_w_per_m2" in weather and "dhi_w_per_m2" in weather:
        dni, dhi = np.asarray(weather["dni_w_per_m2"]), np.asarray(weather["dhi_w_per_m2"])
    else:
        split = pvlib.irradiance.erbs(ghi, sun["zenith"].to_numpy(), times.dayofyear.to_numpy())
        dni, dhi = np.asarray(split["dni"]), np.asarray(split["dhi"])
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=array.tilt_deg,
        surface_azimuth=array.azimuth_deg,
        solar_zenith=sun["apparent_zenith"].to_numpy(),
        solar_azimuth=sun["azimuth"].to_numpy(),
        dni=dni,
        ghi=ghi,
        dhi=dhi,
        dni_extra=pvlib.irradiance.get_extra_radiation(times).to_numpy(),
        model="haydavies",
    )["poa_global"]
    poa = np.nan_to_num(np.asarray(poa, dtype="float64"), nan=0.0)
    air = np.asarray(weather.get("ambient_temperature_degc", np.full(len(index), 25.0)))
    wind = np.asarray(weather.get("wind_speed_m_per_s", np.full(len(index), 1.0)))
    cell = pvlib.temperature.faiman(poa, air, wind)
    dc = pvlib.pvsystem.pvwatts_dc(poa, cell, array.peak_kw, GAMMA_PDC_PER_K)
    ac = np.asarray(dc, dtype="float64") * (1.0 - SYSTEM_LOSS)
    ac[sun["apparent_elevation"].to_numpy() <= 0.0] = 0.0
    return np.clip(ac, 0.0, min(array.inverter_kva, array.peak_kw))
