"""Prices over time: which band each interval is in and what it costs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sites.errors import DataError
from sites.loader import load_tariff_calendar, load_tariff_calendar_file
from sites.schema import Band, Site, TariffCalendar
from sites.schema.tariff import clock_to_minutes


@dataclass(frozen=True)
class Tariff:
    """A site's resolved tariff: calendar, band prices, demand charge, export price."""

    calendar: TariffCalendar
    band_prices_cny_per_kwh: dict[Band, float]
    demand_charge_cny_per_kw_month: float
    export_price_cny_per_kwh: float
    deviation_price_cny_per_kwh: float = 0.0
    """Energy outside the committed schedule's tolerance band, either direction [CNY/kWh]."""
    lost_production_cny_per_kwh: float = 0.0
    """A kWh of heat demand not served [CNY/kWh] (the plant never sheds electric load: an
    import beyond the connection limit is counted as a violation instead)."""

    def bands(self, index: pd.DatetimeIndex) -> pd.Series:
        """Band of each interval (by its start, in the index's local clock)."""
        if index.tz is None:
            raise DataError("index must be timezone-aware (the site's local time)")
        table = _band_table(self.calendar)  # (12, 96) band codes
        quarter = (index.hour * 60 + index.minute) // 15
        codes = table[index.month - 1, quarter]
        order = list(Band)
        return pd.Series([order[c] for c in codes], index=index, name="price_band")

    def prices(self, index: pd.DatetimeIndex) -> pd.Series:
        """Energy price of each interval [CNY/kWh]."""
        return pd.Series(self.band_prices(self.bands(index)), index=index, name="price_cny_per_kwh")

    def band_prices(self, bands: Iterable[Band]) -> np.ndarray:
        """Energy price of each band [CNY/kWh] (NaN for a band without a price): for a caller
        that has looked the bands up already."""
        price = self.band_prices_cny_per_kwh
        return np.array([price.get(b, np.nan) for b in bands], dtype=float)


def site_tariff(site: Site) -> Tariff:
    config = site.tariff
    if config.calendar_file is not None:
        calendar = load_tariff_calendar_file(config.calendar_file)
    else:
        calendar = load_tariff_calendar(config.calendar)
    if config.band_prices_cny_per_kwh is not None:
        prices = dict(config.band_prices_cny_per_kwh)
    else:
        assert config.voltage_class is not None  # guaranteed by TariffConfig
        prices = calendar.band_prices(config.voltage_class)
    demand = config.demand_charge_cny_per_kw_month
    if demand is None:
        demand = calendar.demand_charge_cny_per_kw_month[config.voltage_class or ""]
    return Tariff(
        calendar,
        prices,
        demand,
        config.export_price_cny_per_kwh,
        config.deviation_price_cny_per_kwh,
        config.lost_production_cny_per_kwh,
    )


def _band_table(calendar: TariffCalendar) -> np.ndarray:
    order = list(Band)
    table = np.zeros((12, 96), dtype=np.int8)
    for season in calendar.seasons:
        for period in season.periods:
            start = clock_to_minutes(period.start) // 15
            end = clock_to_minutes(period.end) // 15
            for month in season.months:
                table[month - 1, start:end] = order.index(period.band)
    return table
