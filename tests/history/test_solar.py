"""Re-shaping the German benchmark PV profiles onto a Liaocheng park's sun."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sites.history import solar
from sites.history.extract import EXTRACT_COLUMNS, ProfileKind, load_benchmark_profiles

LIAOCHENG = {"latitude": 36.45, "longitude": 115.98, "altitude_m": 35.0}
ARRAY = {"tilt_deg": 25.0, "azimuth_deg": 180.0}
TARGET_INDEX = pd.date_range("2016-01-01", periods=35_136, freq="15min", tz="Asia/Shanghai")
PV_COLUMNS = [c.name for c in EXTRACT_COLUMNS if c.kind is ProfileKind.PV]

NIGHT_HOURS = [0, 1, 2, 3, 4, 21, 22, 23]  # Beijing time; Liaocheng's sun is down all year
SOLAR_NOON_HOURS = 12.0 + (120.0 - 115.98) * 4.0 / 60.0  # 12:16 Beijing time, mean over a year
PEAK_TIME_TOLERANCE_HOURS = 0.5  # the equation of time moves noon by up to +-16 min
PLAUSIBLE_FULL_LOAD_HOURS = (1_100.0, 1_450.0)
# Fixed-tilt PV in western Shandong makes about 1,200-1,450 h. The transfer keeps the German
# source's cloud climate, whose grey winters put the bundled profiles at about 1,140-1,230 h,
# so the lower bound is widened by ~8 %; far outside this band the method is broken.
FLOAT_TOLERANCE = 1e-9  # sums of well-scaled float64 values


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return load_benchmark_profiles()


@pytest.fixture(scope="module")
def liaocheng_pv(profiles: pd.DataFrame) -> pd.Series:
    return solar.pv_per_kwp_at_site(profiles["pv_profile_5_pu"], TARGET_INDEX, **LIAOCHENG, **ARRAY)


def test_output_is_on_the_target_index_and_within_zero_to_one(liaocheng_pv: pd.Series) -> None:
    assert liaocheng_pv.index.equals(TARGET_INDEX)
    assert not liaocheng_pv.isna().any()
    assert liaocheng_pv.min() >= 0.0
    assert liaocheng_pv.max() <= solar.MAX_OUTPUT_KW_PER_KWP


def test_zero_at_night_in_liaocheng_local_time(liaocheng_pv: pd.Series) -> None:
    night = np.isin(TARGET_INDEX.hour, NIGHT_HOURS)
    assert (liaocheng_pv[night] == 0.0).all()


def test_mean_day_peaks_near_local_solar_noon(liaocheng_pv: pd.Series) -> None:
    midpoint_hours = TARGET_INDEX.hour + TARGET_INDEX.minute / 60.0 + 7.5 / 60.0
    mean_day = liaocheng_pv.groupby(midpoint_hours).mean()
    assert abs(mean_day.idxmax() - SOLAR_NOON_HOURS) <= PEAK_TIME_TOLERANCE_HOURS
    centroid = float((mean_day * mean_day.index).sum() / mean_day.sum())
    assert abs(centroid - SOLAR_NOON_HOURS) <= PEAK_TIME_TOLERANCE_HOURS


def test_never_above_the_clipped_clear_sky_index_times_clear_sky(liaocheng_pv: pd.Series) -> None:
    clear_sky = solar.clear_sky_per_kwp(TARGET_INDEX, **LIAOCHENG, **ARRAY)
    assert (liaocheng_pv <= solar.CLEAR_SKY_INDEX_MAX * clear_sky + FLOAT_TOLERANCE).all()


@pytest.mark.parametrize("column", PV_COLUMNS)
def test_full_load_hours_are_plausible_for_western_shandong(
    profiles: pd.DataFrame, column: str
) -> None:
    per_kwp = solar.pv_per_kwp_at_site(profiles[column], TARGET_INDEX, **LIAOCHENG, **ARRAY)
    low, high = PLAUSIBLE_FULL_LOAD_HOURS
    assert low <= solar.annual_full_load_hours(per_kwp) <= high


def test_alignment_recovers_a_known_time_shift(profiles: pd.DataFrame) -> None:
    profile = profiles["pv_profile_8_pu"]  # in step with the reference sun (lag 0)
    source_index = pd.DatetimeIndex(profile.index)
    clear_sky = solar.clear_sky_per_kwp(
        source_index,
        solar.SOURCE_LATITUDE_DEG,
        solar.SOURCE_LONGITUDE_DEG,
        solar.SOURCE_ALTITUDE_M,
        solar.SOURCE_TILT_DEG,
        solar.SOURCE_AZIMUTH_DEG,
    )
    assert solar.sun_alignment_lag_steps(profile, clear_sky) == 0
    one_hour_early = pd.Series(np.roll(profile.to_numpy(), -4), index=source_index)
    assert solar.sun_alignment_lag_steps(one_hour_early, clear_sky) == 4


def test_source_clear_sky_index_is_clipped(profiles: pd.DataFrame) -> None:
    k = solar.source_clear_sky_index(profiles["pv_profile_3_pu"])
    assert k.min() >= 0.0
    assert k.max() <= solar.CLEAR_SKY_INDEX_MAX


def test_caller_profile_is_not_modified(profiles: pd.DataFrame) -> None:
    profile = profiles["pv_profile_8_pu"].copy()
    before = profile.copy()
    solar.pv_per_kwp_at_site(profile, TARGET_INDEX, **LIAOCHENG, **ARRAY)
    pd.testing.assert_series_equal(profile, before)


def test_daily_clear_sky_index_of_clear_sky_is_one() -> None:
    index = TARGET_INDEX[: 96 * 3]
    clear_sky = solar.clear_sky_per_kwp(index, **LIAOCHENG, **ARRAY)
    daily = solar.daily_clear_sky_index(clear_sky, clear_sky)
    np.testing.assert_allclose(daily.to_numpy(), 1.0, atol=FLOAT_TOLERANCE)
    assert len(daily) == 3


def test_full_load_hours_of_a_constant_series() -> None:
    half = pd.Series(0.5, index=TARGET_INDEX)
    assert solar.annual_full_load_hours(half) == pytest.approx(0.5 * 366 * 24, abs=FLOAT_TOLERANCE)
    with pytest.raises(ValueError, match="one year"):
        solar.annual_full_load_hours(half.iloc[:1000])


def test_naive_target_index_is_rejected(profiles: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        solar.pv_per_kwp_at_site(
            profiles["pv_profile_5_pu"], TARGET_INDEX.tz_localize(None), **LIAOCHENG, **ARRAY
        )
