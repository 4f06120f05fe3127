"""Ambient temperature for Liaocheng from climate normals: smooth, diurnal, seeded weather.

The series is built from four transparent parts:

1. the seasonal mean: the 12 monthly mean temperatures of `LIAOCHENG_NORMALS` fitted by a
   smooth periodic curve (least squares on month averages of harmonics 0 .. 3), so there are
   no steps at month boundaries and each month's mean is reproduced to within ~0.2 degC;
2. a daily cycle with the month's mean daily range (mean daily max - mean daily min, fitted
   the same way with harmonics 0 .. 2): minimum at sunrise, maximum at
   `DAILY_MAX_SOLAR_HOUR` local solar time, half-cosine ramps in between; the cycle has zero
   daily mean, so it does not change the seasonal mean;
3. a synoptic anomaly: a daily AR(1) process with `SYNOPTIC_TIMESCALE_DAYS` e-folding time and
   a standard deviation of about `SYNOPTIC_STD_DEGC` (larger in winter), minus a smooth curve
   that takes out its calendar-month means (so it does not shift monthly means), interpolated
   smoothly (cubic spline through values at local noon). It is drawn from
   `numpy.random.default_rng(seed)` for the whole calendar years the index touches, so equal
   seeds give equal series and a date's value depends only on the seed and those years, not
   on where in them the index starts or ends;
4. optionally cloudiness: with a daily clear-sky index, the daily range shrinks on cloudy days
   and the day is cooler by `CLOUD_COOLING_DEGC_PER_UNIT` per unit of clear-sky index below its
   31-day running mean (and warmer above it), which leaves monthly means nearly unchanged.

Solar time uses the Liaocheng longitude and the usual equation-of-time approximation; the
daily cycle is in the index's own timezone, e.g. Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline


@dataclass(frozen=True)
class MonthlyNormal:
    """Climate normal of one calendar month [degC]."""

    month: int
    mean_degc: float
    mean_daily_max_degc: float
    mean_daily_min_degc: float


LIAOCHENG_NORMALS: tuple[MonthlyNormal, ...] = (
    MonthlyNormal(1, -1.8, 4.0, -6.0),
    MonthlyNormal(2, 1.9, 7.9, -3.0),
    MonthlyNormal(3, 8.1, 14.5, 2.3),
    MonthlyNormal(4, 14.8, 21.4, 8.6),
    MonthlyNormal(5, 20.7, 27.2, 14.5),
    MonthlyNormal(6, 25.4, 31.6, 19.8),
    MonthlyNormal(7, 27.0, 31.6, 23.2),
    MonthlyNormal(8, 25.8, 30.4, 22.1),
    MonthlyNormal(9, 21.3, 26.7, 16.9),
    MonthlyNormal(10, 15.2, 21.1, 10.2),
    MonthlyNormal(11, 7.3, 12.8, 2.6),
    MonthlyNormal(12, 0.6, 5.9, -3.3),
)
"""Liaocheng (Shandong) monthly climate normals, 1991-2020.

Source: China Meteorological Administration (CMA) 1991-2020 surface climate normals for the
Liaocheng station, as reproduced in public climate summaries. The values are APPROXIMATE
(rounded, compiled from secondary summaries, uncertainty about +-1 degC per month) and are
meant for plausible simulation, not for climatological work: January mean about -2 degC,
July about 27 degC, annual mean about 13.9 degC.

| month | mean | mean daily max | mean daily min |
| ----- | ---- | -------------- | -------------- |
| Jan   | -1.8 |  4.0           | -6.0           |
| Feb   |  1.9 |  7.9           | -3.0           |
| Mar   |  8.1 | 14.5           |  2.3           |
| Apr   | 14.8 | 21.4           |  8.6           |
| May   | 20.7 | 27.2           | 14.5           |
| Jun   | 25.4 | 31.6           | 19.8           |
| Jul   | 27.0 | 31.6           | 23.2           |
| Aug   | 25.8 | 30.4           | 22.1           |
| Sep   | 21.3 | 26.7           | 16.9           |
| Oct   | 15.2 | 21.1           | 10.2           |
| Nov   |  7.3 | 12.8           |  2.6           |
| Dec   |  0.6 |  5.9           | -3.3           |
"""

LIAOCHENG_LATITUDE_DEG = 36.45
LIAOCHENG_LONGITUDE_DEG = 115.98

MEAN_HARMONICS = 3
"""Harmonics of the seasonal mean fit: residual at most ~0.2 degC per month."""
RANGE_HARMONICS = 2
"""Harmonics of the seasonal daily-range fit (the range varies gently over the year)."""
DAILY_MAX_SOLAR_HOUR = 14.5
"""Local solar time of the daily maximum (mid-afternoon; ~14:45 Beijing time in Liaocheng)."""
SYNOPTIC_TIMESCALE_DAYS = 3.0
"""E-folding time of the synoptic anomaly: passing weather systems last a few days."""
SYNOPTIC_STD_DEGC = 2.0
"""Typical size of the synoptic anomaly; scaled by 1 +- `SYNOPTIC_SEASONAL_SPREAD`."""
SYNOPTIC_SEASONAL_SPREAD = 0.25
"""Cold-air outbreaks make winter anomalies larger than summer ones."""
RUNNING_MEAN_DAYS = 31
"""Window of the running mean that defines a 'normal' clear-sky index around each day."""
ANOMALY_MARGIN_DAYS = 31
"""Days simulated before and after the index's calendar years, so the ends are not special."""
MONTHLY_MEAN_ITERATIONS = 12
"""Iterations of the smooth monthly-mean removal; each shrinks the residual about 4-fold."""
CLOUD_COOLING_DEGC_PER_UNIT = 3.0
"""Daily-mean cooling per unit of clear-sky index below its running mean."""
CLOUDY_RANGE_FRACTION = 0.4
"""Daily range on a fully overcast day (index 0) as a fraction of the normal range."""
DEFAULT_SEED = 20_160_101

_DAYS_PER_YEAR = 365.2425
_MONTH_LENGTH_DAYS = np.array([31, 28.2425, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_FIT_GRID_STEP_DAYS = 0.01
_HOURS_PER_DAY = 24.0


def _harmonic_basis(year_fraction: np.ndarray, harmonics: int) -> np.ndarray:
    angle = 2.0 * np.pi * year_fraction
    columns = [np.ones_like(angle)]
    for k in range(1, harmonics + 1):
        columns += [np.cos(k * angle), np.sin(k * angle)]
    return np.stack(columns, axis=1)


def _fit_monthly(values: np.ndarray, harmonics: int) -> np.ndarray:
    """Coefficients of a periodic curve whose month averages match `values` (least squares)."""
    edges = np.concatenate([[0.0], np.cumsum(_MONTH_LENGTH_DAYS)]) / _DAYS_PER_YEAR
    grid = np.arange(0.0, _DAYS_PER_YEAR, _FIT_GRID_STEP_DAYS) / _DAYS_PER_YEAR
    basis = _harmonic_basis(grid, harmonics)
    month_of_grid = np.searchsorted(edges, grid, side="right") - 1
    design = np.stack([basis[month_of_grid == m].mean(axis=0) for m in range(12)])
    coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
    return np.asarray(coefficients)


def _year_fraction(index: pd.DatetimeIndex) -> np.ndarray:
    """Position in the local calendar year, 0 at 1 January 00:00, 1 at the next 1 January."""
    elapsed_days = (
        np.asarray(index.dayofyear, dtype="float64")
        - 1.0
        + np.asarray(index.hour * 60 + index.minute, dtype="float64") / (_HOURS_PER_DAY * 60.0)
    )
    return elapsed_days / np.where(index.is_leap_year, 366.0, 365.0)


def seasonal_mean_degc(index: pd.DatetimeIndex) -> np.ndarray:
    """The smooth seasonal mean temperature at each timestamp [degC]."""
    means = np.array([normal.mean_degc for normal in LIAOCHENG_NORMALS])
    coefficients = _fit_monthly(means, MEAN_HARMONICS)
    return np.asarray(_harmonic_basis(_year_fraction(index), MEAN_HARMONICS) @ coefficients)


def seasonal_daily_range_degc(index: pd.DatetimeIndex) -> np.ndarray:
    """The smooth seasonal mean daily range (max - min) at each timestamp [degC]."""
    ranges = np.array([n.mean_daily_max_degc - n.mean_daily_min_degc for n in LIAOCHENG_NORMALS])
    coefficients = _fit_monthly(ranges, RANGE_HARMONICS)
    return np.asarray(_harmonic_basis(_year_fraction(index), RANGE_HARMONICS) @ coefficients)


def _solar_hour(index: pd.DatetimeIndex, day_of_year: np.ndarray) -> np.ndarray:
    """Local apparent solar time [h] at Liaocheng (Spencer's equation of time)."""
    utc = index.tz_convert("UTC")
    utc_hour = np.asarray(utc.hour + utc.minute / 60.0 + utc.second / 3600.0)
    gamma = 2.0 * np.pi * (day_of_year - 1.0) / 365.0
    equation_of_time_min = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    hour = utc_hour + LIAOCHENG_LONGITUDE_DEG / 15.0 + equation_of_time_min / 60.0
    return np.mod(hour, _HOURS_PER_DAY)


def _sunrise_solar_hour(day_of_year: np.ndarray) -> np.ndarray:
    """Solar time of sunrise [h] at the Liaocheng latitude (geometric, declination formula)."""
    declination = np.deg2rad(23.44) * np.sin(2.0 * np.pi * (284.0 + day_of_year) / 365.0)
    latitude = np.deg2rad(LIAOCHENG_LATITUDE_DEG)
    cos_hour_angle = np.clip(-np.tan(latitude) * np.tan(declination), -1.0, 1.0)
    return np.asarray(12.0 - np.rad2deg(np.arccos(cos_hour_angle)) / 15.0)


def daily_cycle_shape(solar_hour: np.ndarray, sunrise_hour: np.ndarray) -> np.ndarray:
    """Diurnal shape in -0.5 .. +0.5: -0.5 at sunrise, +0.5 at `DAILY_MAX_SOLAR_HOUR`.

    Half-cosine rise from sunrise to the maximum, half-cosine fall from the maximum to the
    next sunrise. Both halves average to zero, so the shape has zero daily mean.
    """
    rise_hours = DAILY_MAX_SOLAR_HOUR - sunrise_hour
    fall_hours = _HOURS_PER_DAY - rise_hours
    since_sunrise = np.mod(solar_hour - sunrise_hour, _HOURS_PER_DAY)
    rising = since_sunrise < rise_hours
    rise_phase = np.pi * since_sunrise / rise_hours
    fall_phase = np.pi * (since_sunrise - rise_hours) / fall_hours
    return np.where(rising, -0.5 * np.cos(rise_phase), 0.5 * np.cos(fall_phase))


def _running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running mean with the window shrinking at the ends."""
    kernel = np.ones(window)
    sums = np.convolve(values, kernel, mode="same")
    counts = np.convolve(np.ones_like(values), kernel, mode="same")
    return np.asarray(sums / counts)


def _remove_monthly_means(daily: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """Subtract a smooth curve so that every calendar month of `daily` averages ~zero.

    The curve is piecewise linear between month centres; it is found by repeatedly removing
    the linear interpolation of the remaining monthly means.
    """
    month = pd.Index(np.asarray(dates.year * 12 + dates.month))
    position = np.arange(len(daily), dtype="float64")
    centres = pd.Series(position).groupby(month).mean().to_numpy()
    corrected = daily.copy()
    for _ in range(MONTHLY_MEAN_ITERATIONS):
        means = pd.Series(corrected).groupby(month).mean().to_numpy()
        corrected -= np.interp(position, centres, means)
    return corrected


def synoptic_anomaly_degc(index: pd.DatetimeIndex, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The seeded, autocorrelated, zero-monthly-mean weather anomaly at each timestamp [degC]."""
    local = index.tz_localize(None)
    margin = ANOMALY_MARGIN_DAYS
    first_day = pd.Timestamp(year=int(local.min().year), month=1, day=1)
    last_day = pd.Timestamp(year=int(local.max().year), month=12, day=31)
    n_days = int((last_day - first_day) / pd.Timedelta(days=1)) + 1 + 2 * margin
    rng = np.random.default_rng(seed)
    phi = float(np.exp(-1.0 / SYNOPTIC_TIMESCALE_DAYS))
    innovations = rng.standard_normal(n_days)
    daily = np.empty(n_days)
    daily[0] = innovations[0]
    for day in range(1, n_days):
        daily[day] = phi * daily[day - 1] + np.sqrt(1.0 - phi * phi) * innovations[day]
    day_number = np.arange(n_days) - margin
    dates = first_day + pd.to_timedelta(day_number, unit="D")
    daily = _remove_monthly_means(daily, pd.DatetimeIndex(dates))
    knots_days = day_number + 0.5  # local noon
    day_of_year = np.mod(day_number, _DAYS_PER_YEAR)
    seasonal = 1.0 + SYNOPTIC_SEASONAL_SPREAD * np.cos(
        2.0 * np.pi * (day_of_year - 15.0) / _DAYS_PER_YEAR
    )
    spline = CubicSpline(knots_days, SYNOPTIC_STD_DEGC * seasonal * daily)
    elapsed_days = np.asarray((local - first_day) / pd.Timedelta(days=1))
    return np.asarray(spline(elapsed_days))


def _local_dates(index: pd.Index) -> pd.DatetimeIndex:
    """Naive local midnights of a date-like index (tz-aware labels keep their local date)."""
    dates = pd.DatetimeIndex(pd.to_datetime(index))
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    return dates.normalize()


def _cloud_effects(
    index: pd.DatetimeIndex, daily_clear_sky_index: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Range factor and mean offset [degC] at each timestamp from a daily clear-sky index."""
    given = pd.Series(
        daily_clear_sky_index.to_numpy(dtype="float64"),
        index=_local_dates(daily_clear_sky_index.index),
    )
    dates = _local_dates(index)
    days = pd.DatetimeIndex(dates.unique())
    missing = days.difference(pd.DatetimeIndex(given.index))
    if len(missing):
        raise ValueError(
            f"daily_clear_sky_index lacks {len(missing)} day(s) of the index, first "
            f"{missing[0].date()}; give one value per local date"
        )
    k = given[~given.index.duplicated()].reindex(days).to_numpy()
    if np.isnan(k).any() or (k < 0.0).any():
        raise ValueError("daily_clear_sky_index must be non-negative and not NaN")
    k_normal = _running_mean(k, RUNNING_MEAN_DAYS)
    relative = np.divide(k, k_normal, out=np.ones_like(k), where=k_normal > 0.0)
    range_factor = CLOUDY_RANGE_FRACTION + (1.0 - CLOUDY_RANGE_FRACTION) * relative
    offset = CLOUD_COOLING_DEGC_PER_UNIT * (k - k_normal)
    position = days.get_indexer(dates)
    return range_factor[position], offset[position]


def normal_temperature_degc(index: pd.DatetimeIndex) -> np.ndarray:
    """The climate normal at each timestamp [degC]: seasonal mean plus the mean daily cycle,
    no weather (parts 1 and 2 above): what a park with no measurement yet expects."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("normal_temperature_degc: index must be a timezone-aware DatetimeIndex")
    local = index.tz_localize(None)
    day_of_year = np.asarray(local.dayofyear, dtype="float64")
    shape = daily_cycle_shape(_solar_hour(index, day_of_year), _sunrise_solar_hour(day_of_year))
    return np.asarray(seasonal_mean_degc(index) + seasonal_daily_range_degc(index) * shape)


def ambient_temperature_degc(
    index: pd.DatetimeIndex,
    seed: int = DEFAULT_SEED,
    *,
    daily_clear_sky_index: pd.Series | None = None,
) -> pd.Series:
    """Ambient air temperature in Liaocheng [degC] for a timezone-aware index.

    `index` labels interval starts (e.g. 15-minute, Asia/Shanghai); the temperature is taken
    at each label. `daily_clear_sky_index`, if given, holds one value (about 0 .. 1.2) per
    local date of the index, indexed by date (see `solar.daily_clear_sky_index`); cloudy days
    then get a smaller daily range and a cooler mean. Deterministic for equal arguments.
    """
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("ambient_temperature_degc: index must be a timezone-aware DatetimeIndex")
    if len(index) == 0:
        raise ValueError("ambient_temperature_degc: index is empty")
    local = index.tz_localize(None)
    day_of_year = np.asarray(local.dayofyear, dtype="float64")
    shape = daily_cycle_shape(_solar_hour(index, day_of_year), _sunrise_solar_hour(day_of_year))
    daily_range = seasonal_daily_range_degc(index)
    mean = seasonal_mean_degc(index) + synoptic_anomaly_degc(index, seed)
    if daily_clear_sky_index is not None:
        range_factor, offset = _cloud_effects(index, daily_clear_sky_index)
        daily_range = daily_range * range_factor
        mean = mean + offset
    values = mean + daily_range * shape
    return pd.Series(values, index=index, name="ambient_temperature_degc")
