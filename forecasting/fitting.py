"""Fitting every series' model, and calibrating its band on a backtest inside the history.

For a cleaned training panel of ``D`` days:

1. the last ``clip(CALIBRATION_FRACTION x D, CALIBRATION_MIN_DAYS, CALIBRATION_MAX_DAYS)``
   days are held back; each model is trained on the days before and forecasts the held-back
   days from an origin every ``CALIBRATION_STRIDE`` steps, 48 h ahead, in dependency order
   (temperature and loads before the heat that depends on them, which uses their forecasts);
2. the residuals of that backtest give each series its :class:`~forecasting.quantiles
   .QuantileTable` (P10/P90 offsets by lead time and level);
3. each model is trained again on the whole history for use.

A series whose model needs more days than are left before the held-back days falls back to
daily persistence anchored on the last value (:class:`~forecasting.baselines.FallbackModel`),
calibrated on its own residuals over the whole history, and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecasting import heat, load, pv, temperature, wind
from forecasting.baselines import ANOMALY_DECAY_STEPS, PV_ANOMALY_DECAY_STEPS, FallbackModel
from forecasting.models import TRAIN_LEADS, SeriesModel, TrainingSpan
from forecasting.quantiles import QuantileTable, band_table, fit_quantile_table
from forecasting.timeline import Pairs, Panel, make_pairs, origins_every
from sites.history.series import SeriesKind, SeriesSpec
from sites.schema import Site
from sites.time_step import STEPS_PER_DAY

CALIBRATION_FRACTION = 0.25
CALIBRATION_MIN_DAYS = 7  # a week: every weekday once
CALIBRATION_MAX_DAYS = 56  # eight weeks: recent enough to follow the seasons
CALIBRATION_STRIDE = 24  # an origin every 6 h, so every time of day is an issue time
FALLBACK_STRIDE = 24
_KIND_ORDER = (
    SeriesKind.AMBIENT_TEMPERATURE,
    SeriesKind.PV,
    SeriesKind.WIND,
    SeriesKind.LOAD,
    SeriesKind.HEAT_DEMAND,
    SeriesKind.WASTE_HEAT,
)

Builder = Callable[[Panel, TrainingSpan], SeriesModel]


@dataclass(frozen=True)
class FittedSeries:
    spec: SeriesSpec
    model: SeriesModel
    quantiles: QuantileTable
    upper: float
    """Physical ceiling (inverter, rated power, recovery limit), inf if none."""
    fallback_reason: str | None
    quantile_note: str


def dependency_order(specs: dict[str, SeriesSpec]) -> list[SeriesSpec]:
    return sorted(specs.values(), key=lambda s: _KIND_ORDER.index(s.kind))


def builder(site: Site, spec: SeriesSpec) -> tuple[Builder, int]:
    """The fit function of a series and the days of training it needs at least."""
    a, c = site.assets, spec.column
    if spec.kind is SeriesKind.PV:
        array = next(x for x in a.pv if x.name == spec.asset)
        return (lambda p, s: pv.fit_pv(array, c, p, s)), pv.MIN_TRAIN_DAYS
    if spec.kind is SeriesKind.WIND:
        turbine = next(x for x in a.wind if x.name == spec.asset)
        return (lambda p, s: wind.fit_wind(turbine, c, p, s)), wind.MIN_TRAIN_DAYS
    if spec.kind is SeriesKind.LOAD:
        return (lambda p, s: load.fit_load(c, p, s)), load.MIN_TRAIN_DAYS
    if spec.kind is SeriesKind.HEAT_DEMAND:
        demand = next(x for x in a.heat_demands if x.name == spec.asset)
        return (lambda p, s: heat.fit_heat_demand(demand, p, s)), heat.MIN_TRAIN_DAYS
    if spec.kind is SeriesKind.WASTE_HEAT:
        stream = next(x for x in a.waste_heat if x.name == spec.asset)
        return (lambda p, s: heat.fit_waste_heat(stream, p, s)), heat.MIN_TRAIN_DAYS
    return (lambda p, s: temperature.fit_temperature(c, p, s)), temperature.MIN_TRAIN_DAYS


def calibration_days(total_days: float) -> int:
    days = round(CALIBRATION_FRACTION * total_days)
    return int(np.clip(days, CALIBRATION_MIN_DAYS, CALIBRATION_MAX_DAYS))


def p50_or_fallback(
    model: SeriesModel, column: str, panel: Panel, pairs: Pairs, upstream: dict[str, np.ndarray]
) -> np.ndarray:
    """The model's P50, with daily persistence wherever the model had nothing to go on."""
    p50 = model.p50(panel, pairs, upstream)
    missing = np.isnan(p50)
    if missing.any():
        p50 = np.where(missing, FallbackModel(column).p50(panel, pairs, upstream), p50)
    return p50


def band_level(spec: SeriesSpec, p50: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The level a band is looked up by: P50 / scale for flows (bounded: errors depend on how
    close to 0 or to the ceiling the forecast is); one level for temperature."""
    if spec.kind is SeriesKind.AMBIENT_TEMPERATURE:
        return np.zeros(len(p50))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, p50 / scale, 0.0)


def _table(
    model: SeriesModel, spec: SeriesSpec, panel: Panel, pairs: Pairs, p50: np.ndarray
) -> QuantileTable | None:
    scale = model.scale(panel, pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual = panel.values[spec.column][pairs.target]
        residual = np.where(scale > 0, (actual - p50) / scale, np.nan)
    return fit_quantile_table(pairs.lead, band_level(spec, p50, scale), residual)


def _fallback(spec: SeriesSpec, panel: Panel, upper: float, reason: str) -> FittedSeries:
    decay = PV_ANOMALY_DECAY_STEPS if spec.kind is SeriesKind.PV else ANOMALY_DECAY_STEPS
    model = FallbackModel(spec.column, decay)
    origins = origins_every(STEPS_PER_DAY, len(panel), FALLBACK_STRIDE)
    pairs = make_pairs(origins, TRAIN_LEADS, len(panel))
    table = _table(model, spec, panel, pairs, model.p50(panel, pairs, {}))
    note = "empirical quantiles of the baseline's residuals over the whole history"
    if table is None:
        x = panel.values[spec.column]
        half = (
            float(np.subtract(*np.nanquantile(x, [0.95, 0.05]))) / 2
            if np.isfinite(x).any()
            else 0.0
        )
        table = band_table(-half, half)
        note = "too few residuals to calibrate: +- half the history's 5-95 % range"
    return FittedSeries(spec, model, table, upper, reason, note)


def fit_all(
    site: Site, specs: dict[str, SeriesSpec], panel: Panel, uppers: dict[str, float]
) -> tuple[FittedSeries, ...]:
    n = len(panel)
    total_days = n / STEPS_PER_DAY
    held_back = calibration_days(total_days)
    split = max(n - held_back * STEPS_PER_DAY, 0)
    calibration = make_pairs(origins_every(split, n, CALIBRATION_STRIDE), TRAIN_LEADS, n)
    upstream: dict[str, np.ndarray] = {}
    fitted = []
    for spec in dependency_order(specs):
        build, min_days = builder(site, spec)
        upper = uppers.get(spec.column, np.inf)
        valid = np.count_nonzero(np.isfinite(panel.values[spec.column][:split]))
        valid_days = valid / STEPS_PER_DAY
        if split / STEPS_PER_DAY < min_days or valid_days < min_days:
            reason = (
                f"history too short: {total_days:.1f} days, of which the last {held_back} "
                f"calibrate the band, leaving {split / STEPS_PER_DAY:.1f} days to train on "
                f"({valid_days:.1f} days of valid values); the model needs {min_days} days"
            )
            fitted.append(_fallback(spec, panel, upper, reason))
            upstream[spec.column] = fitted[-1].model.p50(panel, calibration, upstream)
            continue
        early = build(panel, TrainingSpan(0, split))
        p50 = p50_or_fallback(early, spec.column, panel, calibration, upstream)
        upstream[spec.column] = p50
        table = _table(early, spec, panel, calibration, p50)
        if table is None:
            fitted.append(_fallback(spec, panel, upper, "too few observations to calibrate"))
            continue
        note = (
            f"empirical residual quantiles of a {held_back}-day backtest inside the history "
            f"({table.residuals} residuals), by lead time and level"
        )
        model = build(panel, TrainingSpan(0, n))
        fitted.append(FittedSeries(spec, model, table, upper, None, note))
    return tuple(fitted)
