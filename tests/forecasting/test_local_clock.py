"""Local days and times of day read from the wall clock agree with pandas' own, DST included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.calendar import calendar_arrays
from forecasting.pv import ClearSkyCache
from sites import load_bundled_site


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/Berlin", "UTC"])
def test_calendar_arrays_follow_pandas_clock(timezone: str) -> None:
    # across the spring and autumn changes of clock in Berlin (23- and 25-hour days)
    for start in ("2016-03-25 05:15", "2016-10-28"):
        index = pd.date_range(start, periods=5 * 96, freq="15min", tz=timezone)
        cal = calendar_arrays(index)
        np.testing.assert_array_equal(cal.step_of_day, index.hour * 4 + index.minute // 15)
        np.testing.assert_array_equal(cal.weekday, index.weekday)
        np.testing.assert_array_equal(cal.day, np.unique(index.normalize(), return_inverse=True)[1])


def test_clear_sky_cache_stitches_days_and_keeps_zones_apart() -> None:
    site = load_bundled_site("gaotang-textile")
    array = site.assets.pv[0]
    cache = ClearSkyCache(site.location, array.tilt_deg, array.azimuth_deg)
    fresh = ClearSkyCache(site.location, array.tilt_deg, array.azimuth_deg)
    local = pd.date_range("2016-06-01", periods=4 * 96, freq="15min", tz="Asia/Shanghai")
    whole = cache.per_kwp(local)
    part = local[37:250]
    np.testing.assert_array_equal(cache.per_kwp(part), whole[37:250])
    np.testing.assert_array_equal(fresh.per_kwp(part), whole[37:250])
    # the same instants on UTC's clock: other local days, the same values
    np.testing.assert_array_equal(cache.per_kwp(local.tz_convert("UTC")), whole)
