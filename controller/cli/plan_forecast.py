"""Where ``microgrid plan`` gets its forecast: the history's own values of the day, or the
production forecaster fitted on the history before it (with its fallbacks where the history
is short or missing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd

from controller.cli.choices import ForecastSource
from sites import DataError, Site, columns
from sites.history.series import expected_series
from sites.park import Park
from sites.time_step import STEP


@dataclass(frozen=True)
class PlanForecast:
    frame: pd.DataFrame
    description: str
    fallbacks: dict[str, str]
    """Series forecast by a fallback baseline, with why (none for an actual forecast)."""


def _window(site: Site, day: date, start: time) -> tuple[pd.Timestamp, pd.Timestamp]:
    zone = site.location.timezone
    begin = pd.Timestamp(datetime.combine(day, start)).tz_localize(zone)
    return begin, pd.Timestamp(datetime.combine(day, time(0, 0))).tz_localize(zone) + pd.Timedelta(
        days=1
    )


def covers(frame: pd.DataFrame, site: Site, day: date) -> bool:
    """Whether ``frame`` holds every interval of ``day``."""
    begin, end = _window(site, day, time(0, 0))
    index = pd.DatetimeIndex(frame.index)
    return int(((index >= begin) & (index < end)).sum()) == int((end - begin) / STEP)


def actual_forecast(
    site: Site, frame: pd.DataFrame, day: date, start: time = time(0, 0)
) -> PlanForecast:
    """The history's values of ``day`` from ``start`` as a perfect P50 forecast."""
    begin, end = _window(site, day, start)
    index = pd.DatetimeIndex(frame.index)
    chosen = frame[(index >= begin) & (index < end)]
    if chosen.empty:
        span = f"{index[0]:%Y-%m-%d}..{index[-1]:%Y-%m-%d}" if len(index) else "no day"
        raise DataError(
            f"--date: got {day:%Y-%m-%d}; the history of {site.id} covers {span}; "
            "--forecast actual plans only a day the history holds (--forecast model forecasts "
            "any later day)"
        )
    renamed = chosen.rename(columns={c: columns.quantile(c, 50) for c in expected_series(site)})
    return PlanForecast(renamed, "the history's own values of that day, as a perfect forecast", {})


def model_forecast(
    site: Site, frame: pd.DataFrame, day: date, start: time = time(0, 0)
) -> PlanForecast:
    """The production forecaster's forecast of ``day`` from ``start``, fitted and issued on
    the history before ``start`` (what the service does at that time)."""
    from forecasting import make_forecast

    begin, end = _window(site, day, start)
    index = pd.DatetimeIndex(frame.index)
    made = make_forecast(site, frame[index < begin], begin, end - begin)
    window = pd.DatetimeIndex(made.frame.index)
    fallbacks = made.metadata.fallback_methods
    days = f"{int((index < begin).sum()) / 96:.1f} days of history"
    text = f"forecaster issued {begin:%Y-%m-%d %H:%M} on {days}"
    if fallbacks:
        text += f"; fallback baselines for {len(fallbacks)} of {len(made.metadata.series)} series"
    return PlanForecast(made.frame[(window >= begin) & (window < end)], text, fallbacks)


MODEL_REACH = pd.Timedelta(days=7)
"""By default the forecaster plans a day that starts at most this long after the history
ends (its longest horizon); a later day needs --forecast model."""


def default_source(frame: pd.DataFrame, site: Site, day: date) -> ForecastSource:
    """The history's own values for a day it holds; the forecaster for a park without
    history, or for a day soon after the history; else a clear error."""
    if covers(frame, site, day):
        return ForecastSource.ACTUAL
    index = pd.DatetimeIndex(frame.index)
    begin, _ = _window(site, day, time(0, 0))
    if len(index) == 0 or index.max() < begin <= index.max() + MODEL_REACH:
        return ForecastSource.MODEL
    raise DataError(
        f"--date: got {day:%Y-%m-%d}; the history of {site.id} covers "
        f"{index.min():%Y-%m-%d}..{index.max():%Y-%m-%d}: give a day it holds, a day up to "
        f"{MODEL_REACH.days} days after it, or --forecast model (baselines where the history "
        "says nothing)"
    )


def day_forecast(
    park: Park, day: date, source: ForecastSource | None, start: time = time(0, 0)
) -> PlanForecast:
    frame = park.history_frame
    if source is None:
        source = default_source(frame, park.site, day)
    if source is ForecastSource.ACTUAL:
        return actual_forecast(park.site, frame, day, start)
    return model_forecast(park.site, frame, day, start)
