"""An optional weather forecast, and the series that are then computed from it.

A :class:`WeatherForecast` is a frame on a timezone-aware index (any regular step; values are
interpolated in time onto the forecast's quarter hours) with some of the columns in
``WEATHER_COLUMNS``. Each variable given replaces the statistical P50 of the series it drives:

- ``ghi_w_per_m2`` (with ``dni_w_per_m2`` and ``dhi_w_per_m2`` if available): every PV array,
  through pvlib (:func:`forecasting.pv.physical_pv_kw`);
- ``wind_speed_m_per_s`` at ``wind_height_m``: every wind turbine group, through its power
  curve (:func:`forecasting.wind.power_curve_output_kw`);
- ``ambient_temperature_degc``: the ambient temperature (and through it heat demand).

The P10/P90 band keeps the statistical model's calibrated spread at that lead, which is
conservative: a numerical weather forecast is usually better than climatology.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.models import Method
from forecasting.pv import physical_pv_kw
from forecasting.wind import power_curve_output_kw
from sites import columns
from sites.errors import DataError
from sites.history.series import SeriesKind, SeriesSpec
from sites.schema import Site

GHI = "ghi_w_per_m2"
WIND_SPEED = "wind_speed_m_per_s"
WEATHER_COLUMNS = (
    GHI,
    "dni_w_per_m2",
    "dhi_w_per_m2",
    columns.AMBIENT_TEMPERATURE_DEGC,
    WIND_SPEED,
)
DEFAULT_WIND_HEIGHT_M = 10.0  # standard anemometer height of weather models' 10 m wind


@dataclass(frozen=True)
class WeatherForecast:
    frame: pd.DataFrame
    wind_height_m: float = DEFAULT_WIND_HEIGHT_M


def align_weather(
    weather: WeatherForecast | pd.DataFrame | None, horizon: pd.DatetimeIndex
) -> tuple[dict[str, np.ndarray], float]:
    """Weather values on the forecast's quarter hours, and the wind measurement height."""
    if weather is None:
        return {}, DEFAULT_WIND_HEIGHT_M
    if isinstance(weather, pd.DataFrame):
        weather = WeatherForecast(weather)
    frame = weather.frame
    unknown = [c for c in frame.columns if c not in WEATHER_COLUMNS]
    if unknown:
        raise DataError(f"weather columns: got {unknown}; accepted are {list(WEATHER_COLUMNS)}")
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError("weather.index: must be a timezone-aware DatetimeIndex")
    frame = frame.set_axis(index.tz_convert(horizon.tz), axis=0).sort_index()
    frame = frame[~frame.index.duplicated(keep="last")].astype("float64")
    midpoints = horizon + pd.Timedelta(minutes=7.5)
    union = frame.index.union(midpoints)
    values = frame.reindex(union).interpolate(method="time", limit_area="inside")
    values = values.reindex(midpoints)
    out = {}
    for column in frame.columns:
        series = values[column].to_numpy()
        if np.isnan(series).any():
            raise DataError(
                f"weather column {column}: covers {frame[column].dropna().index.min()!s} .. "
                f"{frame[column].dropna().index.max()!s}; it must cover the whole forecast "
                f"{horizon[0]} .. {horizon[-1]} (interval midpoints)"
            )
        out[column] = series
    return out, weather.wind_height_m


def weather_p50(
    site: Site,
    spec: SeriesSpec,
    horizon: pd.DatetimeIndex,
    weather: Mapping[str, np.ndarray],
    wind_height_m: float,
) -> tuple[np.ndarray, Method] | None:
    """P50 of a series from the weather forecast, or None if the weather does not drive it."""
    if spec.kind is SeriesKind.PV and GHI in weather:
        array = next(a for a in site.assets.pv if a.name == spec.asset)
        return physical_pv_kw(array, site.location, horizon, weather), Method.PV_PHYSICAL_WEATHER
    if spec.kind is SeriesKind.WIND and WIND_SPEED in weather:
        turbine = next(w for w in site.assets.wind if w.name == spec.asset)
        output = power_curve_output_kw(turbine, weather[WIND_SPEED], wind_height_m)
        return output, Method.WIND_POWER_CURVE
    if spec.kind is SeriesKind.AMBIENT_TEMPERATURE and spec.column in weather:
        return np.asarray(weather[spec.column]), Method.TEMPERATURE_WEATHER
    return None
