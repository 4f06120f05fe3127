"""Time-of-use tariffs: the calendar (data file) and a site's choice of it."""

from __future__ import annotations

import re
from datetime import UTC
from enum import StrEnum

from pydantic import AwareDatetime, Field, field_validator, model_validator

from sites.schema.base import StrictModel

_CLOCK = re.compile(r"^([01]\d|2[0-4]):(00|15|30|45)$")


class Band(StrEnum):
    """Shandong's five industrial time-of-use bands, dearest first."""

    CRITICAL_PEAK = "critical_peak"
    PEAK = "peak"
    FLAT = "flat"
    VALLEY = "valley"
    DEEP_VALLEY = "deep_valley"


def clock_to_minutes(text: str) -> int:
    """``"07:30"`` -> 450; ``"24:00"`` -> 1440 (end of day)."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class BandPeriod(StrictModel):
    """One stretch of the day in one band, ``start`` inclusive, ``end`` exclusive (local clock)."""

    band: Band
    start: str = Field(description="HH:MM on a quarter hour, 00:00..23:45")
    end: str = Field(description="HH:MM on a quarter hour, 00:15..24:00")

    @field_validator("start", "end")
    @classmethod
    def _quarter_hour(cls, value: str) -> str:
        if not _CLOCK.match(value) or clock_to_minutes(value) > 1440:
            raise ValueError("must be a clock time HH:MM on a quarter hour between 00:00 and 24:00")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BandPeriod:
        if clock_to_minutes(self.start) >= clock_to_minutes(self.end):
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class Season(StrictModel):
    """Months that share one daily band pattern."""

    months: list[int] = Field(min_length=1)
    periods: list[BandPeriod] = Field(min_length=1)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        bad = [m for m in value if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months must be 1..12, got {bad}")
        return value

    @model_validator(mode="after")
    def _covers_the_day(self) -> Season:
        quarters = [0] * 96
        for period in self.periods:
            for q in range(
                clock_to_minutes(period.start) // 15, clock_to_minutes(period.end) // 15
            ):
                quarters[q] += 1
        gaps = [q for q, n in enumerate(quarters) if n == 0]
        overlaps = [q for q, n in enumerate(quarters) if n > 1]
        if gaps or overlaps:
            first = (gaps or overlaps)[0]
            raise ValueError(
                "periods must cover 00:00-24:00 exactly once; "
                f"{'uncovered' if gaps else 'overlapping'} from "
                f"{first // 4:02d}:{first % 4 * 15:02d}"
            )
        return self


class TariffCalendar(StrictModel):
    """A bundled time-of-use calendar: which band applies when, and reference prices."""

    id: str
    name: str
    source: str
    valid_from: str
    flat_price_cny_per_kwh: dict[str, float] = Field(
        description="reference flat-band energy price by voltage class, e.g. '110kV'"
    )
    band_multipliers: dict[Band, float] = Field(description="band price = flat price x multiplier")
    demand_charge_cny_per_kw_month: dict[str, float]
    seasons: list[Season] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_month_once(self) -> TariffCalendar:
        months = sorted(m for s in self.seasons for m in s.months)
        if months != list(range(1, 13)):
            raise ValueError(f"seasons must name every month 1..12 exactly once, got {months}")
        missing = set(Band) - set(self.band_multipliers)
        if missing:
            raise ValueError(f"band_multipliers lacks {sorted(missing)}")
        return self

    def band_prices(self, voltage_class: str) -> dict[Band, float]:
        flat = self.flat_price_cny_per_kwh[voltage_class]
        return {band: round(flat * m, 4) for band, m in self.band_multipliers.items()}


POSTED_IMPORT_PRICE_RANGE_CNY_PER_KWH = (0.0, 5.0)
"""Accepted posted import prices: the planner takes no negative import price, and 5 CNY/kWh
is about three times the highest critical-peak price of Shandong's calendars."""
POSTED_EXPORT_PRICE_RANGE_CNY_PER_KWH = (-1.0, 5.0)
"""Accepted posted export prices: spot prices may go negative, never near -1 CNY/kWh."""


class PostedPrice(StrictModel):
    """The price of one interval posted by the operator (e.g. the spot market's day-ahead or
    real-time price of that quarter hour); the interval starts at ``timestamp``."""

    timestamp: AwareDatetime = Field(
        description="start of the interval, ISO 8601 with its UTC offset, on a quarter hour"
    )
    import_price_cny_per_kwh: float = Field(
        ge=POSTED_IMPORT_PRICE_RANGE_CNY_PER_KWH[0],
        le=POSTED_IMPORT_PRICE_RANGE_CNY_PER_KWH[1],
        allow_inf_nan=False,
    )
    export_price_cny_per_kwh: float | None = Field(
        default=None,
        ge=POSTED_EXPORT_PRICE_RANGE_CNY_PER_KWH[0],
        le=POSTED_EXPORT_PRICE_RANGE_CNY_PER_KWH[1],
        allow_inf_nan=False,
        description="none: the export price of the price series file or the tariff",
    )

    @field_validator("timestamp")
    @classmethod
    def _quarter_hour(cls, value: AwareDatetime) -> AwareDatetime:
        utc = value.astimezone(UTC)
        if utc.second or utc.microsecond or utc.minute % 15:
            raise ValueError("must start a quarter hour (minute 00, 15, 30 or 45, no seconds)")
        return value


class TariffConfig(StrictModel):
    """A site's tariff: a calendar plus its voltage class (or explicit band prices)."""

    calendar: str = Field(default="shandong-2025", description="id of a bundled calendar")
    calendar_file: str | None = Field(
        default=None,
        description="path of the site's own tariff calendar YAML (the bundled calendars' "
        "format), relative to the site file; replaces `calendar`",
    )
    voltage_class: str | None = Field(
        default=None, description="selects reference prices of the calendar, e.g. '110kV'"
    )
    price_series_file: str | None = Field(
        default=None,
        description="per-interval prices (CSV: timestamp with UTC offset, "
        "import_price_cny_per_kwh, export_price_cny_per_kwh; an empty cell keeps the "
        "calendar's price), relative to the site file; e.g. the spot market's 96 quarter "
        "hours a day",
    )
    posted_prices: tuple[PostedPrice, ...] = Field(
        default=(),
        description="per-interval prices posted to the service by the operator; they replace "
        "the price series file's and the calendar's prices for the intervals they cover. The "
        "service fills this from its store for each plan (the newest posting of each interval)",
    )
    band_prices_cny_per_kwh: dict[Band, float] | None = None
    demand_charge_cny_per_kw_month: float | None = Field(default=None, ge=0)
    export_price_cny_per_kwh: float = Field(
        default=0.3949, ge=0, description="Shandong coal-fired benchmark price by default"
    )
    deviation_price_cny_per_kwh: float = Field(
        default=0.10,
        ge=0,
        description=(
            "price of connection-point energy outside the tolerance band around the committed "
            "day-ahead schedule, in both directions. In Shandong's spot market a user's "
            "deviation from its day-ahead quantity is settled at the real-time price, so a kWh "
            "of deviation costs about the gap between the real-time and day-ahead prices; the "
            "default is an assumed order of magnitude of that gap, not a published figure: set "
            "it from the park's own settlement"
        ),
    )
    lost_production_cny_per_kwh: float = Field(
        default=10.0,
        ge=0,
        description=(
            "value of a kWh of heat demand the park could not serve (lost production); the "
            "default is an assumption, well above every energy price so that no plan trades "
            "production for energy: set it from the park's own loss per kWh not served"
        ),
    )

    @model_validator(mode="after")
    def _prices_known(self) -> TariffConfig:
        if self.voltage_class is None and self.band_prices_cny_per_kwh is None:
            raise ValueError("give voltage_class (reference prices) or band_prices_cny_per_kwh")
        if self.voltage_class is None and self.demand_charge_cny_per_kw_month is None:
            raise ValueError("without voltage_class, give demand_charge_cny_per_kw_month")
        stamps = [p.timestamp for p in self.posted_prices]
        if len(set(stamps)) != len(stamps):
            raise ValueError("posted_prices has more than one price for an interval")
        if self.band_prices_cny_per_kwh is not None:
            missing = set(Band) - set(self.band_prices_cny_per_kwh)
            if missing:
                raise ValueError(f"band_prices_cny_per_kwh lacks {sorted(missing)}")
        return self
