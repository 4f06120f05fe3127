"""Re-shape a measured German PV profile to a park's sun: clear-sky-index transfer.

A SimBench PV profile is weather at a generic German site. To use its weather (cloud
passages, overcast days) for a park elsewhere, we:

1. compute pvlib clear-sky plane-of-array output at an assumed source site (central Germany,
   `SOURCE_LATITUDE_DEG`, `SOURCE_LONGITUDE_DEG`, `SOURCE_ALTITUDE_M`, a south-facing module
   at `SOURCE_TILT_DEG`), using the profile's own timezone-aware index (for the bundled
   extract: Europe/Berlin, continuous in physical time);
2. align the profile with that clear-sky curve by the constant lag (whole quarter hours,
   at most `MAX_ALIGNMENT_LAG_STEPS`) that maximises their correlation over the year. The
   SimBench PV series are hourly values interpolated to 15 minutes, and depending on the
   series (labelling convention, unknown orientation) they run up to two hours ahead of the
   sun; a constant shift removes most of that without touching the weather;
3. form the clear-sky index k = profile / clear-sky output, day by day, and calibrate it:
   the profile's per-unit base (installed peak incl. its unknown losses and orientation) is
   not the clear-sky output of our reference module, so k is divided by the
   `CALIBRATION_QUANTILE` quantile of the daily energy ratio; that makes the clearest days of
   the year k ~ 1. At low sun the instantaneous ratio of two small numbers is noise, so k
   blends smoothly into the day's energy-weighted index where the clear-sky output falls
   below `LOW_SUN_BLEND_UPPER_PU`; k is clipped to 0 .. `CLEAR_SKY_INDEX_MAX`;
4. map k to the target: target day d takes the source day with the same month and day, and
   a target instant at relative position f in its daylight period (sunrise = 0, sunset = 1)
   takes k at relative position f of the source day's daylight period. Mapping by relative
   daylight position (rather than by solar hour angle) keeps sunrise on sunrise and sunset on
   sunset although the days are of different length at 51 N and at the park;
5. multiply by the target's clear-sky plane-of-array output per kWp (pvlib Ineichen
   clear sky with the monthly Linke turbidity climatology, Hay-Davies transposition), times
   (1 - system_loss), and clip to 0 .. 1 kW/kWp (inverter limit).

Clear-sky outputs are evaluated at interval midpoints (label + 7.5 min).

What it does not do: the source's cloud climate travels with it. Central Germany has grey
winters; Liaocheng's winters are dry and sunny, its summers monsoon-cloudy. The result is a
plausible, real weather sequence on the park's sun geometry, not Liaocheng's cloud
climatology: annual yields come out at the low end of what western Shandong PV makes
(about 1,140-1,230 kWh/kWp for the bundled profiles at tilt 25, south).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib

from sites.time_step import STEP as _STEP

SOURCE_LATITUDE_DEG = 51.0
"""Assumed source site: SimBench profiles are generic German data; central Germany."""
SOURCE_LONGITUDE_DEG = 10.0
SOURCE_ALTITUDE_M = 300.0
SOURCE_TILT_DEG = 30.0
"""Assumed source module: south-facing, 30 degrees, a typical German rooftop system."""
SOURCE_AZIMUTH_DEG = 180.0

CLEAR_SKY_INDEX_MAX = 1.2
"""Cloud enhancement lets k exceed 1 briefly; more than 1.2 for 15 min is an artefact."""
CALIBRATION_QUANTILE = 0.98
"""Daily energy ratio quantile taken as 'clear day' (about the 7 clearest days of 2016)."""
LOW_SUN_BLEND_LOWER_PU = 0.05
"""Source clear-sky output [kW/kWp] below which only the day's index is used."""
LOW_SUN_BLEND_UPPER_PU = 0.20
"""Source clear-sky output [kW/kWp] above which only the instantaneous index is used."""
MAX_ALIGNMENT_LAG_STEPS = 12
"""Largest time shift searched when aligning the profile with the sun: 3 hours."""
MAX_OUTPUT_KW_PER_KWP = 1.0
"""AC output limit per kWp (inverter sized to the DC peak)."""

_MIDPOINT = pd.Timedelta(minutes=7.5)
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def _check_index(index: pd.DatetimeIndex, what: str) -> None:
    if index.tz is None:
        raise ValueError(f"{what}: index must be timezone-aware, got a naive index")
    if len(index) < 2 or not (index[1:] - index[:-1] == _STEP).all():
        raise ValueError(f"{what}: index must be regular 15-minute steps")


def clear_sky_per_kwp(
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude_m: float,
    tilt_deg: float,
    azimuth_deg: float,
    system_loss: float = 0.14,
) -> pd.Series:
    """Clear-sky AC output per kWp [kW/kWp] of a fixed module, at each interval's midpoint.

    pvlib Ineichen clear sky (monthly Linke turbidity climatology), Hay-Davies transposition,
    plane-of-array irradiance / 1000 W/m2 x (1 - system_loss), clipped to 0 .. 1; zero while
    the sun is below the horizon.
    `azimuth_deg` is measured clockwise from north (180 = south).
    """
    _check_index(index, "clear_sky_per_kwp")
    if not 0.0 <= system_loss < 1.0:
        raise ValueError(f"system_loss={system_loss} must be in [0, 1)")
    times = index + _MIDPOINT
    location = pvlib.location.Location(latitude, longitude, altitude=altitude_m)
    solar_position = location.get_solarposition(times)
    clear_sky = location.get_clearsky(times, solar_position=solar_position)
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=tilt_deg,
        surface_azimuth=azimuth_deg,
        solar_zenith=solar_position["apparent_zenith"],
        solar_azimuth=solar_position["azimuth"],
        dni=clear_sky["dni"],
        ghi=clear_sky["ghi"],
        dhi=clear_sky["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        model="haydavies",
    )["poa_global"]
    per_kwp = np.clip(poa.to_numpy(dtype="float64") / 1000.0 * (1.0 - system_loss), 0.0, 1.0)
    per_kwp[solar_position["apparent_elevation"].to_numpy() <= 0.0] = 0.0
    return pd.Series(per_kwp, index=index, name="clear_sky_kw_per_kwp")


def sun_alignment_lag_steps(profile_pu: pd.Series, clear_sky: pd.Series) -> int:
    """The shift (quarter hours, positive = later) that best aligns a PV profile with the sun."""
    values = profile_pu.to_numpy(dtype="float64")
    reference = clear_sky.to_numpy(dtype="float64")
    best_lag, best_corr = 0, -np.inf
    for lag in range(-MAX_ALIGNMENT_LAG_STEPS, MAX_ALIGNMENT_LAG_STEPS + 1):
        corr = float(np.corrcoef(_shift(values, lag), reference)[0, 1])
        if corr > best_corr:
            best_lag, best_corr = lag, corr
    return best_lag


def _shift(values: np.ndarray, lag: int) -> np.ndarray:
    """Move values `lag` steps later (earlier if negative), filling with zeros (night)."""
    shifted = np.zeros_like(values)
    if lag > 0:
        shifted[lag:] = values[:-lag]
    elif lag < 0:
        shifted[:lag] = values[-lag:]
    else:
        shifted[:] = values
    return shifted


def source_clear_sky_index(profile_pu: pd.Series) -> pd.Series:
    """Calibrated, sun-aligned clear-sky index of a source PV profile, on the profile's index.

    Values in 0 .. CLEAR_SKY_INDEX_MAX; at night the value is the day's index (harmless,
    since it is only ever multiplied by a zero clear-sky output).
    """
    index = pd.DatetimeIndex(profile_pu.index)
    _check_index(index, "source_clear_sky_index")
    values = profile_pu.to_numpy(dtype="float64")
    if np.isnan(values).any() or (values < 0.0).any():
        raise ValueError("source_clear_sky_index: profile has NaN or negative values")
    clear_sky = clear_sky_per_kwp(
        index,
        SOURCE_LATITUDE_DEG,
        SOURCE_LONGITUDE_DEG,
        SOURCE_ALTITUDE_M,
        SOURCE_TILT_DEG,
        SOURCE_AZIMUTH_DEG,
        system_loss=0.0,
    )
    aligned = _shift(values, sun_alignment_lag_steps(profile_pu, clear_sky))
    reference = clear_sky.to_numpy()
    day = pd.Index(index.date)
    daily_energy = pd.Series(aligned).groupby(day).transform("sum").to_numpy()
    daily_clear = pd.Series(reference).groupby(day).transform("sum").to_numpy()
    daily_index = np.divide(
        daily_energy, daily_clear, out=np.zeros_like(daily_energy), where=daily_clear > 0.0
    )
    per_day = pd.Series(daily_index).groupby(day).first()
    scale = float(np.quantile(per_day.to_numpy(), CALIBRATION_QUANTILE))
    if scale <= 0.0:
        raise ValueError("source_clear_sky_index: profile has no daylight output")
    instantaneous = np.divide(aligned, reference, out=np.zeros_like(aligned), where=reference > 0.0)
    weight = np.clip(
        (reference - LOW_SUN_BLEND_LOWER_PU) / (LOW_SUN_BLEND_UPPER_PU - LOW_SUN_BLEND_LOWER_PU),
        0.0,
        1.0,
    )
    k = (weight * instantaneous + (1.0 - weight) * daily_index) / scale
    return pd.Series(np.clip(k, 0.0, CLEAR_SKY_INDEX_MAX), index=index, name="clear_sky_index")


def _epoch_seconds(times: pd.DatetimeIndex) -> np.ndarray:
    """Seconds since 1970-01-01 UTC of timezone-aware timestamps (NaT becomes NaN)."""
    return np.asarray((times - _EPOCH) / pd.Timedelta(seconds=1), dtype="float64")


def _sun_rise_set_seconds(
    days: pd.DatetimeIndex, latitude: float, longitude: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sunrise and sunset (epoch seconds) of each local day in `days` (local midnights)."""
    events = pvlib.solarposition.sun_rise_set_transit_spa(days, latitude, longitude)
    sunrise = _epoch_seconds(pd.DatetimeIndex(events["sunrise"]))
    sunset = _epoch_seconds(pd.DatetimeIndex(events["sunset"]))
    if np.isnan(sunrise).any() or np.isnan(sunset).any():
        raise ValueError("polar day or night: daylight mapping needs a sunrise and a sunset")
    return sunrise, sunset


def _local_midnights(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(index.normalize().unique())


def pv_per_kwp_at_site(
    profile_pu: pd.Series,
    index: pd.DatetimeIndex,
    latitude: float,
    longitude: float,
    altitude_m: float,
    tilt_deg: float,
    azimuth_deg: float,
    system_loss: float = 0.14,
) -> pd.Series:
    """AC output per kWp installed [kW/kWp], 0 .. 1, of a fixed PV array at the target site.

    `profile_pu` is a measured source PV profile (per unit of installed peak) on a
    timezone-aware, regular 15-minute index covering whole local days (e.g. a column of
    `load_benchmark_profiles()`). `index` is the target index: timezone-aware, 15-minute,
    each label the start of its interval, in the site's zone (e.g. Asia/Shanghai); every
    (month, day) of it must exist in the source (29 February falls back to 28 February).
    `azimuth_deg` is clockwise from north (180 = south). The caller's data are not modified.
    """
    _check_index(index, "pv_per_kwp_at_site target")
    k_source = source_clear_sky_index(profile_pu)
    source_index = pd.DatetimeIndex(k_source.index)

    source_days = _local_midnights(source_index)
    source_sunrise, source_sunset = _sun_rise_set_seconds(
        source_days, SOURCE_LATITUDE_DEG, SOURCE_LONGITUDE_DEG
    )
    source_row = {(day.month, day.day): row for row, day in enumerate(source_days)}

    target_days = _local_midnights(index)
    target_sunrise, target_sunset = _sun_rise_set_seconds(target_days, latitude, longitude)
    rows = []
    for day in target_days:
        key = (day.month, day.day)
        if key not in source_row and key == (2, 29):
            key = (2, 28)
        if key not in source_row:
            raise ValueError(f"pv_per_kwp_at_site: source profile has no day {key[0]}-{key[1]}")
        rows.append(source_row[key])
    source_of_target_day = np.asarray(rows)

    midpoints = _epoch_seconds(index + _MIDPOINT)
    day_of_interval = target_days.get_indexer(index.normalize())
    sunrise = target_sunrise[day_of_interval]
    fraction = (midpoints - sunrise) / (target_sunset[day_of_interval] - sunrise)
    daylight = (fraction > 0.0) & (fraction < 1.0)

    src = source_of_target_day[day_of_interval]
    source_time = source_sunrise[src] + fraction * (source_sunset[src] - source_sunrise[src])
    k = np.interp(source_time, _epoch_seconds(source_index + _MIDPOINT), k_source.to_numpy())

    clear_sky = clear_sky_per_kwp(
        index, latitude, longitude, altitude_m, tilt_deg, azimuth_deg, system_loss
    ).to_numpy()
    output = np.where(daylight, np.clip(k * clear_sky, 0.0, MAX_OUTPUT_KW_PER_KWP), 0.0)
    return pd.Series(output, index=index, name="pv_kw_per_kwp")


def daily_clear_sky_index(per_kwp: pd.Series, clear_sky: pd.Series) -> pd.Series:
    """Daily energy ratio of an output series to its clear-sky counterpart, per local date.

    Both series share one index; the result is indexed by local date (midnight labels) and
    is 0 where the day has no clear-sky output. Useful to make temperatures follow cloudiness.
    """
    if not per_kwp.index.equals(clear_sky.index):
        raise ValueError("daily_clear_sky_index: per_kwp and clear_sky need the same index")
    index = pd.DatetimeIndex(per_kwp.index)
    days = index.normalize()
    energy = per_kwp.groupby(days).sum()
    reference = clear_sky.groupby(days).sum()
    ratio = energy.div(reference.where(reference > 0.0)).fillna(0.0)
    ratio.index.name = "date"
    return ratio.rename("daily_clear_sky_index")


def annual_full_load_hours(per_kwp: pd.Series) -> float:
    """Energy per kWp over one year [kWh/kWp = h] of a regular 15-minute series in kW/kWp.

    Raises ValueError unless the series spans 365 or 366 days.
    """
    index = pd.DatetimeIndex(per_kwp.index)
    if len(index) < 2 or not (index[1:] - index[:-1] == _STEP).all():
        raise ValueError("annual_full_load_hours: index must be regular 15-minute steps")
    days = len(index) * _STEP / pd.Timedelta(days=1)
    if days not in (365.0, 366.0):
        raise ValueError(f"annual_full_load_hours: series spans {days} days, expected one year")
    return float(per_kwp.sum()) * (_STEP / pd.Timedelta(hours=1))
