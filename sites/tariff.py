"""Prices over time: which band each interval is in and what it costs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sites.errors import DataError
from sites.loader import load_tariff_calendar, load_tariff_calendar_file
from sites.price_series import combined_price_series, posted_price_series, read_price_series
from sites.schema import Band, Site, TariffCalendar
from sites.schema.tariff import PostedPrice, clock_to_minutes


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
    price_series: pd.DataFrame | None = None
    """Per-interval import and export prices that replace the calendar's and the flat export
    price where given: posted prices over the price series file's (:mod:`sites.price_series`)."""

    def import_prices(self, index: pd.DatetimeIndex, band_prices: np.ndarray) -> np.ndarray:
        """``band_prices`` (the calendar's price of each interval of ``index``) with the price
        series' import price where it has one."""
        return self._override("import_price_cny_per_kwh", index, band_prices)

    def export_prices(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Export price of each interval [CNY/kWh]: the series' where it has one, else the
        tariff's flat export price."""
        flat = np.full(len(index), self.export_price_cny_per_kwh)
        return self._override("export_price_cny_per_kwh", index, flat)

    def _override(self, column: str, index: pd.DatetimeIndex, base: np.ndarray) -> np.ndarray:
        series = self.price_series
        if series is None or not len(index):
            return np.asarray(base, dtype=float)
        positions = series.index.get_indexer(index)
        found = positions >= 0
        values = np.full(len(index), np.nan)
        values[found] = series[column].to_numpy()[positions[found]]
        return np.where(np.isnan(values), base, values)

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
        """Energy price of each interval [CNY/kWh]: the calendar's, or the price series'."""
        prices = self.import_prices(index, self.band_prices(self.bands(index)))
        return pd.Series(prices, index=index, name="price_cny_per_kwh")

    def band_prices(self, bands: Iterable[Band]) -> np.ndarray:
        """Energy price of each band [CNY/kWh] (NaN for a band without a price): for a caller
        that has looked the bands up already."""
        price = self.band_prices_cny_per_kwh
        return np.array([price.get(b, np.nan) for b in bands], dtype=float)


def with_posted_prices(site: Site, posted: Sequence[PostedPrice]) -> Site:
    """``site`` whose tariff carries ``posted`` (one price per interval) as its posted prices."""
    tariff = site.tariff.model_copy(update={"posted_prices": tuple(posted)})
    return site.model_copy(update={"tariff": tariff})


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
    zone = site.location.timezone
    from_file = None
    if config.price_series_file is not None:
        from_file = read_price_series(config.price_series_file, zone)
    posted = posted_price_series(config.posted_prices, zone) if config.posted_prices else None
    series = combined_price_series(posted, from_file)
    return Tariff(
        calendar,
        prices,
        demand,
        config.export_price_cny_per_kwh,
        config.deviation_price_cny_per_kwh,
        config.lost_production_cny_per_kwh,
        series,
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
