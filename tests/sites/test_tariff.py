"""Time-of-use calendar: every quarter hour of every month has exactly one band."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from sites import load_bundled_site, load_tariff_calendar
from sites.schema import Band, TariffCalendar
from sites.tariff import site_tariff


def test_bundled_calendar_has_five_bands_and_midday_valleys() -> None:
    tariff = site_tariff(load_bundled_site("chiping-aluminium"))
    index = pd.date_range(
        "2025-01-01", "2026-01-01", freq="15min", tz="Asia/Shanghai", inclusive="left"
    )
    bands = tariff.bands(index)
    assert set(bands) == set(Band)
    noon = bands[index.hour == 12]
    assert set(noon) <= {Band.VALLEY, Band.DEEP_VALLEY}  # PV surplus hours are cheap
    assert bands[pd.Timestamp("2025-04-15 12:00", tz="Asia/Shanghai")] is Band.DEEP_VALLEY
    assert bands[pd.Timestamp("2025-07-15 19:00", tz="Asia/Shanghai")] is Band.CRITICAL_PEAK
    prices = tariff.prices(index)
    by_band = prices.groupby(bands.to_numpy()).first()
    ordered = [by_band[b] for b in Band]
    assert ordered == sorted(ordered, reverse=True)  # dearest band first
    assert tariff.band_prices_cny_per_kwh[Band.FLAT] == pytest.approx(0.6220)


def test_calendar_gap_is_rejected() -> None:
    raw = load_tariff_calendar("shandong-2025").model_dump(mode="json")
    raw["seasons"][0]["periods"].pop(0)
    with pytest.raises(ValidationError, match="uncovered from 00:00"):
        TariffCalendar.model_validate(raw)


def test_naive_index_is_refused() -> None:
    tariff = site_tariff(load_bundled_site("gaotang-textile"))
    with pytest.raises(Exception, match="timezone-aware"):
        tariff.bands(pd.date_range("2025-01-01", periods=4, freq="15min"))
