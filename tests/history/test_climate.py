"""Liaocheng ambient temperature from climate normals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sites.history import climate

INDEX = pd.date_range("2016-01-01", periods=35_136, freq="15min", tz="Asia/Shanghai")
SEEDS = [climate.DEFAULT_SEED, 1, 2]

MONTHLY_MEAN_TOLERANCE_DEGC = 1.0  # the normals themselves are approximate to about +-1 degC
DAILY_MAX_HOURS = (13, 17)  # "mid-afternoon", Beijing time (local solar time ~16 min behind)
DAILY_MIN_HOURS = (4, 8)  # around sunrise, which in Liaocheng is 05:00-07:30 Beijing time
MAX_STEP_DEGC = 1.0  # largest change in 15 min: no steps at month or day boundaries
SYNOPTIC_STD_RANGE_DEGC = (1.0, 3.0)  # "a couple of degC"
MIN_ONE_DAY_AUTOCORRELATION = 0.5  # a few days' time scale: e^(-1/3) = 0.72 before smoothing


@pytest.fixture(scope="module")
def temperature() -> pd.Series:
    return climate.ambient_temperature_degc(INDEX)


@pytest.mark.parametrize("seed", SEEDS)
def test_monthly_means_match_the_normals(seed: int) -> None:
    series = climate.ambient_temperature_degc(INDEX, seed=seed)
    monthly = series.groupby(INDEX.month).mean().to_numpy()
    normals = np.array([n.mean_degc for n in climate.LIAOCHENG_NORMALS])
    np.testing.assert_allclose(monthly, normals, atol=MONTHLY_MEAN_TOLERANCE_DEGC)


def test_january_is_colder_than_july(temperature: pd.Series) -> None:
    assert temperature[INDEX.month == 1].mean() < temperature[INDEX.month == 7].mean()


def test_daily_maximum_in_the_afternoon_minimum_near_sunrise(temperature: pd.Series) -> None:
    days = INDEX.normalize()
    hour_of_max = pd.DatetimeIndex(temperature.groupby(days).idxmax()).hour
    hour_of_min = pd.DatetimeIndex(temperature.groupby(days).idxmin()).hour
    assert DAILY_MAX_HOURS[0] <= hour_of_max.to_numpy().mean() < DAILY_MAX_HOURS[1]
    assert DAILY_MIN_HOURS[0] <= hour_of_min.to_numpy().mean() < DAILY_MIN_HOURS[1]


def test_no_steps(temperature: pd.Series) -> None:
    assert np.abs(np.diff(temperature.to_numpy())).max() < MAX_STEP_DEGC


def test_deterministic_for_equal_seeds_and_different_otherwise() -> None:
    first = climate.ambient_temperature_degc(INDEX, seed=7)
    again = climate.ambient_temperature_degc(INDEX, seed=7)
    other = climate.ambient_temperature_degc(INDEX, seed=8)
    pd.testing.assert_series_equal(first, again)
    assert not np.allclose(first.to_numpy(), other.to_numpy())


def test_a_date_does_not_depend_on_where_the_index_ends(temperature: pd.Series) -> None:
    part = climate.ambient_temperature_degc(INDEX[:5_000])
    np.testing.assert_array_equal(part.to_numpy(), temperature.to_numpy()[:5_000])


def test_synoptic_anomaly_is_a_few_degrees_and_autocorrelated() -> None:
    anomaly = pd.Series(climate.synoptic_anomaly_degc(INDEX, seed=3))
    low, high = SYNOPTIC_STD_RANGE_DEGC
    assert low <= anomaly.std() <= high
    assert anomaly.autocorr(lag=96) > MIN_ONE_DAY_AUTOCORRELATION


def test_overcast_day_is_cooler_with_a_smaller_range() -> None:
    days = pd.date_range("2016-07-01", periods=31, freq="D", tz="Asia/Shanghai")
    index = pd.date_range(days[0], periods=31 * 96, freq="15min")
    sunny = pd.Series(0.8, index=days)
    cloudy = sunny.copy()
    cloudy.iloc[15] = 0.1
    clear_run = climate.ambient_temperature_degc(index, daily_clear_sky_index=sunny)
    cloudy_run = climate.ambient_temperature_degc(index, daily_clear_sky_index=cloudy)
    day = index.normalize() == days[15]
    assert cloudy_run[day].max() < clear_run[day].max()
    assert np.ptp(cloudy_run[day].to_numpy()) < np.ptp(clear_run[day].to_numpy())
    assert sunny.iloc[15] == 0.8  # the caller's series is untouched


def test_missing_clear_sky_days_are_reported() -> None:
    index = pd.date_range("2016-07-01", periods=2 * 96, freq="15min", tz="Asia/Shanghai")
    one_day = pd.Series([0.5], index=pd.DatetimeIndex(["2016-07-01"]))
    with pytest.raises(ValueError, match="lacks 1 day"):
        climate.ambient_temperature_degc(index, daily_clear_sky_index=one_day)


def test_naive_index_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        climate.ambient_temperature_degc(INDEX.tz_localize(None))
