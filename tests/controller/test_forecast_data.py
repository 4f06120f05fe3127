"""Reading forecast frames: a regular frame is read as it is, anything else is repaired."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import base_mapping, site_from

from controller.inputs.forecast_data import _is_regular, clean_index

ZONE = "Asia/Shanghai"
REGULAR = pd.date_range("2016-06-06 10:00", periods=8, freq="15min", tz=ZONE)


@pytest.mark.parametrize(
    ("index", "regular"),
    [
        (REGULAR, True),
        (REGULAR.tz_convert("UTC"), True),
        (REGULAR[:1], True),
        (REGULAR[:0], False),
        (REGULAR.tz_localize(None), False),
        (REGULAR + pd.Timedelta(minutes=5), False),
        (REGULAR + pd.Timedelta(seconds=1), False),
        (REGULAR.delete(3), False),
        (REGULAR[::-1], False),
        (REGULAR.append(REGULAR[-1:]), False),
        (pd.DatetimeIndex([REGULAR[0], pd.NaT]), False),
        (REGULAR.as_unit("s"), False),
        (pd.RangeIndex(8), False),
    ],
)
def test_only_a_zoned_quarter_hour_grid_is_regular(index: pd.Index, regular: bool) -> None:
    assert _is_regular(index) is regular


def test_a_regular_forecast_is_read_as_it_is_and_left_alone() -> None:
    site = site_from(base_mapping())
    forecast = pd.DataFrame({"x_p50": np.arange(8.0)}, index=REGULAR.tz_convert("UTC"))
    before = forecast.copy()
    issues: list[str] = []
    frame = clean_index(site, forecast, issues)
    assert issues == []
    assert str(pd.DatetimeIndex(frame.index).tz) == site.location.timezone
    assert frame.index.equals(REGULAR)
    np.testing.assert_array_equal(frame["x_p50"].to_numpy(), np.arange(8.0))
    pd.testing.assert_frame_equal(forecast, before, check_exact=True)
