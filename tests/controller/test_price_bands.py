"""The price bands of a horizon, found in those looked up for an earlier one: the same as
the tariff gives for the horizon itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from controller.inputs.dispatch_inputs import BAND_SPAN_STEPS, prices_for
from sites import load_bundled_site
from sites.tariff import site_tariff


def _expected(site_id: str, index: pd.DatetimeIndex) -> tuple[tuple[str, ...], np.ndarray]:
    tariff = site_tariff(load_bundled_site(site_id))
    bands = list(tariff.bands(index))
    return tuple(str(b) for b in bands), tariff.band_prices(bands)


@pytest.mark.parametrize(
    ("start", "periods"),
    [
        ("2016-06-06 10:00", 152),  # the first horizon: looked up with the span after it
        ("2016-06-06 10:15", 151),  # a step later: inside the span
        ("2016-06-07 00:00", 96),  # inside, a day later
        ("2016-06-06 10:07", 4),  # off the 15-minute grid of the span
        ("2016-06-06 09:45", 96),  # before the span
        ("2016-06-06 10:00", 152 + BAND_SPAN_STEPS + 1),  # beyond its end
        ("2016-06-06 10:00", 1),
    ],
)
def test_bands_of_a_horizon_are_the_tariffs(start: str, periods: int) -> None:
    site = load_bundled_site("chiping-aluminium")
    zone = site.location.timezone
    prices = prices_for(site)
    prices.bands_and_prices(pd.date_range("2016-06-06 10:00", periods=152, freq="15min", tz=zone))
    index = pd.date_range(start, periods=periods, freq="15min", tz=zone)
    bands, values = prices.bands_and_prices(index)
    expected_bands, expected_values = _expected(site.id, index)
    assert bands == expected_bands
    np.testing.assert_array_equal(values, expected_values)


def test_an_irregular_or_other_zone_index_is_looked_up_as_it_is() -> None:
    site = load_bundled_site("chiping-aluminium")
    prices = prices_for(site)
    zone = site.location.timezone
    prices.bands_and_prices(pd.date_range("2016-06-06", periods=96, freq="15min", tz=zone))
    irregular = pd.DatetimeIndex(
        [pd.Timestamp("2016-06-06 08:00"), pd.Timestamp("2016-06-06 19:00")]
    ).tz_localize(zone)
    utc = pd.date_range("2016-06-06", periods=96, freq="15min", tz="UTC")
    for index in (irregular, utc):
        bands, values = prices.bands_and_prices(index)
        expected_bands, expected_values = _expected(site.id, index)
        assert bands == expected_bands
        np.testing.assert_array_equal(values, expected_values)
    bands, values = prices.bands_and_prices(utc[:0])
    assert bands == () and values.size == 0
