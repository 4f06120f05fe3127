"""The entry points: fit models on a history, and forecast from an issue time.

``make_forecast(site, history, issue_time, horizon)`` fits and forecasts in one call;
``fit(site, history)`` returns :class:`ForecastModels` whose ``predict`` forecasts again and
again (a replay fits once and predicts thousands of times).

Only history that is complete at the issue time is used: rows whose interval has ended by
``issue_time`` (label + 15 min <= issue time). Both functions slice the history themselves, so
a caller may pass the whole frame, future included; they never modify it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting import declared, quality
from forecasting.calendar import calendar_arrays
from forecasting.declared import DeclaredModel
from forecasting.fitting import (
    FittedSeries,
    band_level,
    dependency_order,
    fit_all,
    p50_or_fallback,
)
from forecasting.frame import (
    Forecast,
    ForecastMetadata,
    SeriesInfo,
    assemble,
    code_version,
    ordered_band,
)
from forecasting.models import METHOD_DESCRIPTIONS
from forecasting.pv import ClearSkyCache, clear_sky_cache
from forecasting.timeline import Panel, make_pairs, regular_grid
from forecasting.weather import WeatherForecast, align_weather, weather_p50
from sites import columns
from sites.errors import DataError
from sites.history.series import SeriesKind, expected_series
from sites.schema import Site
from sites.time_step import STEP, STEPS_PER_DAY

LOOKBACK_DAYS = 36  # longest feature window (28 days of similar days) plus a week of margin
MAX_HORIZON = pd.Timedelta(days=7)  # weekly lags stay observed; models trained to 48 h
MIN_HISTORY_DAYS = 1.0  # below a day not even daily persistence: the declared baselines
MAX_TRAINING = pd.Timedelta(days=400)  # a year and a bit: keeps a fit's time bounded


@dataclass(frozen=True)
class ForecastModels:
    """Fitted, calibrated models of every series of a site; reusable for any issue time."""

    site: Site
    series: tuple[FittedSeries, ...]
    quality_profile: quality.QualityProfile
    training_quality: quality.QualityReport
    trained_from: pd.Timestamp
    trained_until: pd.Timestamp
    clear_sky: dict[str, ClearSkyCache]

    def predict(
        self,
        issue_time: pd.Timestamp,
        horizon: pd.Timedelta,
        history: pd.DataFrame,
        weather: WeatherForecast | pd.DataFrame | None = None,
    ) -> Forecast:
        return _predict(self, issue_time, horizon, history, weather)


def _clear_sky_caches(site: Site) -> dict[str, ClearSkyCache]:
    return {
        columns.pv_kw(a.name): clear_sky_cache(site.location, a.tilt_deg, a.azimuth_deg)
        for a in site.assets.pv
    }


def _issue_time(issue_time: pd.Timestamp, site: Site) -> pd.Timestamp:
    issue = pd.Timestamp(issue_time)
    if issue.tzinfo is None:
        raise DataError(
            f"issue_time: got {issue} without a timezone; it must be timezone-aware "
            f"(e.g. in {site.location.timezone})"
        )
    return issue.tz_convert(site.location.timezone)


def _clean(
    site: Site,
    history: pd.DataFrame,
    grid: pd.DatetimeIndex,
    clear_sky: Mapping[str, np.ndarray],
    profile: quality.QualityProfile | None,
    complete_at: pd.Timestamp | None = None,
) -> tuple[dict[str, np.ndarray], quality.QualityReport, quality.QualityProfile]:
    """Clean the rows of ``history`` on ``grid`` (``clear_sky``: per PV column, its clear-sky
    output [kW/kWp] on ``grid``); with ``complete_at``, only the rows whose interval has
    ended by then."""
    index = quality.site_index(history, site.location.timezone)
    used = _rows_between(history, index, grid)
    if complete_at is not None:  # the same rows, in the same order, as filtering first
        used = used[
            np.asarray(quality.site_index(used, site.location.timezone) + STEP <= complete_at)
        ]
    night = {c: values == 0.0 for c, values in clear_sky.items()}
    caps = quality.series_caps(site)
    return quality.clean(used, expected_series(site), grid, caps, night, profile)


def _rows_between(
    history: pd.DataFrame, index: pd.DatetimeIndex, grid: pd.DatetimeIndex
) -> pd.DataFrame:
    """The rows of ``history`` (on ``index``) labelled ``grid[0]`` .. ``grid[-1]``: a slice
    found by bisection when the index is sorted (a replay passes a year of history on every
    call), else a mask."""
    if index.is_monotonic_increasing:
        first = index.searchsorted(grid[0], side="left")
        last = index.searchsorted(grid[-1], side="right")
        return history.iloc[first:last]
    return history[(index >= grid[0]) & (index <= grid[-1])]


def fit(site: Site, history: pd.DataFrame, until: pd.Timestamp | None = None) -> ForecastModels:
    """Fit every series on the history complete by ``until`` (default: all of it), at most
    the last ``MAX_TRAINING`` of it.

    With less than ``MIN_HISTORY_DAYS`` of it (none at all included: a new park), every
    series gets its baseline from the site's declaration (:mod:`forecasting.declared`).
    """
    index = quality.site_index(history, site.location.timezone)
    # rows without a single value (a store's frame padded to its window) are no history
    present = [c for c in expected_series(site) if c in history.columns]
    measured = np.asarray(history[present].notna().any(axis=1)) if present else np.zeros(0, bool)
    index = index[measured] if len(measured) == len(index) else index
    if until is None and len(index) == 0:
        raise DataError("history: no row; give until (the issue time) to forecast without one")
    end = index.max() + STEP if until is None else _issue_time(until, site)
    usable = index[index + STEP <= end]
    floor = end.floor("15min")
    caches = _clear_sky_caches(site)
    if len(usable) == 0:
        return _declared_models(site, history, floor, 0.0, caches)
    first = max(usable.min().floor("15min"), floor - MAX_TRAINING)
    grid = regular_grid(first, floor)
    if len(grid) < MIN_HISTORY_DAYS * STEPS_PER_DAY:
        return _declared_models(site, history, floor, len(grid) / STEPS_PER_DAY, caches)
    clear_sky = {c: cache.per_kwp(grid) for c, cache in caches.items()}
    values, report, profile = _clean(site, history, grid, clear_sky, None)
    panel = Panel(grid, values, calendar_arrays(grid), clear_sky, {})
    uppers = quality.series_caps(site)
    series = fit_all(site, expected_series(site), panel, uppers)
    return ForecastModels(site, series, profile, report, grid[0], grid[-1] + STEP, caches)


def _declared_models(
    site: Site,
    history: pd.DataFrame,
    end: pd.Timestamp,
    days: float,
    caches: dict[str, ClearSkyCache],
) -> ForecastModels:
    """Every series from the site's declaration; the quality rules learn from the last day
    (whatever of it there is) so that the forecasts' cleaning has its limits."""
    grid = regular_grid(end - pd.Timedelta(days=1), end)
    clear_sky = {c: cache.per_kwp(grid) for c, cache in caches.items()}
    _, report, profile = _clean(site, history, grid, clear_sky, None)
    uppers = quality.series_caps(site)
    reason = (
        f"history too short: {days:.2f} days before {end}; a model needs at least "
        f"{MIN_HISTORY_DAYS:g} day, so the baseline comes from the site's declaration"
    )
    series = []
    for spec in dependency_order(expected_series(site)):
        upper = quality.series_ceiling(spec, uppers)
        model = DeclaredModel(site, spec, upper)
        note = f"fixed band around the declared baseline ({declared.description(spec)})"
        series.append(FittedSeries(spec, model, model.band(), upper, reason, note))
    return ForecastModels(site, tuple(series), profile, report, end, end, caches)


def _horizon_steps(horizon: pd.Timedelta) -> int:
    horizon = pd.Timedelta(horizon)
    if not pd.Timedelta(0) < horizon <= MAX_HORIZON:
        raise DataError(f"horizon: got {horizon}; it must be above 0 and at most {MAX_HORIZON}")
    return int(np.ceil(horizon / STEP))


def _predict(
    models: ForecastModels,
    issue_time: pd.Timestamp,
    horizon: pd.Timedelta,
    history: pd.DataFrame,
    weather: WeatherForecast | pd.DataFrame | None,
) -> Forecast:
    site = models.site
    issue = _issue_time(issue_time, site)
    steps = _horizon_steps(horizon)
    start = issue.ceil("15min")
    origin = LOOKBACK_DAYS * STEPS_PER_DAY
    timeline = regular_grid(start - origin * STEP, start + steps * STEP)
    observed = timeline[:origin]
    clear_sky = {c: cache.per_kwp(timeline) for c, cache in models.clear_sky.items()}
    # the interval just before an off-grid issue time is incomplete: not used
    values, report, _ = _clean(
        site,
        history,
        observed,
        {c: values[:origin] for c, values in clear_sky.items()},
        models.quality_profile,
        None if issue == start else issue,
    )
    future = np.full(steps, np.nan)
    values = {c: np.concatenate([v, future]) for c, v in values.items()}
    horizon_index = timeline[origin:]
    aligned, wind_height = align_weather(weather, horizon_index)
    panel = Panel(timeline, values, calendar_arrays(timeline), clear_sky, {})
    pairs = make_pairs(np.array([origin]), steps, len(timeline))
    upstream: dict[str, np.ndarray] = {}
    bands = {}
    infos = []
    for fitted in models.series:
        spec, model = fitted.spec, fitted.model
        p50 = p50_or_fallback(model, spec.column, panel, pairs, upstream)
        method = model.method
        from_weather = weather_p50(site, spec, horizon_index, aligned, wind_height)
        if from_weather is not None:
            p50, method = from_weather
        reason = fitted.fallback_reason
        if np.isnan(p50).any():  # no measurement in the look-back: the declared baseline
            baseline = DeclaredModel(site, spec, fitted.upper).p50(panel, pairs, upstream)
            p50 = np.where(np.isnan(p50), baseline, p50)
            method = DeclaredModel(site, spec, fitted.upper).method
            reason = (
                f"no valid value in the {LOOKBACK_DAYS} days before {issue}: the baseline "
                "from the site's declaration where the model had nothing to go on"
            )
        upstream[spec.column] = p50
        scale = model.scale(panel, pairs)
        level = band_level(spec, p50, scale)
        offsets = fitted.quantiles.offsets_for(pairs.lead, level) * scale[:, None]
        lower = 0.0 if spec.non_negative else -np.inf
        band = ordered_band(p50, p50 + offsets[:, 0], p50 + offsets[:, 1], lower, fitted.upper)
        if spec.kind is SeriesKind.PV:
            sun_up = panel.clear_sky[spec.column][pairs.target] > 0.0
            band = (band[0] * sun_up, band[1] * sun_up, band[2] * sun_up)
        bands[spec.column] = band
        infos.append(
            SeriesInfo(
                spec.column,
                method,
                METHOD_DESCRIPTIONS[method],
                reason is not None,
                reason,
                fitted.quantile_note,
            )
        )
    order = list(expected_series(site))
    frame = assemble(horizon_index, {c: bands[c] for c in order})
    metadata = ForecastMetadata(
        series=tuple(sorted(infos, key=lambda i: order.index(i.column))),
        quality=report,
        training_quality=models.training_quality,
        trained_from=models.trained_from,
        trained_until=models.trained_until,
        out_of_sample=models.trained_until <= issue,
        weather_columns=tuple(aligned),
        code_version=code_version(),
    )
    return Forecast(frame, site.id, issue, metadata)


def make_forecast(
    site: Site,
    history: pd.DataFrame,
    issue_time: pd.Timestamp,
    horizon: pd.Timedelta,
    weather: WeatherForecast | pd.DataFrame | None = None,
    models: ForecastModels | None = None,
) -> Forecast:
    """Forecast every series of ``site`` from ``issue_time`` for ``horizon``.

    Without ``models``, they are fitted first on the history complete at ``issue_time``.
    """
    if models is None:
        models = fit(site, history, until=issue_time)
    elif models.site.id != site.id:
        raise DataError(f"models: fitted for site {models.site.id!r}, not for {site.id!r}")
    return models.predict(issue_time, horizon, history, weather)
