"""Rolling-origin evaluation of the forecasts against the naive baselines.

Origins: on every ``every``-th day from ``start`` to ``end`` (inclusive), at the site's
day-ahead gate time and ``origins_per_day - 1`` more times spread evenly over the day (the
intraday re-forecasts). Models are refitted every ``refit_every`` on the history complete at
that origin and never see anything later; each forecast goes through the public
``ForecastModels.predict``, which slices the history itself.

Per series and lead-time bucket (intraday: interval starts 0-4 h after the issue time;
day-ahead: 12-36 h), over all origins:

- MAE and RMSE of P50; normalised MAE = MAE / the series' rating (kWp, rated kW, peak kW or
  kW_th; none for temperature);
- skill = 1 - MAE / MAE(baseline) against persistence (last value held flat), daily
  persistence (same time on the last observed day) and seasonal naive (same time last week),
  see :mod:`forecasting.baselines`; the baselines read the same raw history;
- coverage: share of actual values inside [P10, P90] (nominal 80 %).

PV is scored only while its array sees the sun (at night every forecast and baseline is 0).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from tqdm import tqdm

from forecasting.api import ForecastModels, fit
from forecasting.baselines import Baseline, baseline_forecast
from forecasting.pv import ClearSkyCache
from forecasting.quality import site_index
from forecasting.timeline import regular_grid
from sites import columns
from sites.columns import quantile
from sites.errors import DataError
from sites.history.series import SeriesKind, SeriesSpec, expected_series
from sites.schema import Site
from sites.time_step import STEP

BUCKETS = {"intraday 0-4 h": (0.0, 4.0), "day-ahead 12-36 h": (12.0, 36.0)}
HORIZON = pd.Timedelta(hours=48)
EVERY = pd.Timedelta(days=1)
REFIT_EVERY = pd.Timedelta(days=7)  # as in operation: bands go stale faster than P50 does
ORIGINS_PER_DAY = 4


@dataclass(frozen=True)
class BacktestResult:
    site_id: str
    start: date
    end: date
    origins: int
    refits: int
    table: pd.DataFrame
    """One row per (series, bucket): n, MAE, RMSE, nMAE, baseline MAEs, skills, coverage."""
    samples: dict[str, np.ndarray]
    """Per series, one row per forecast interval: ``SAMPLE_COLUMNS``."""


def backtest_origins(
    site: Site, start: date, end: date, every: pd.Timedelta, per_day: int = ORIGINS_PER_DAY
) -> pd.DatetimeIndex:
    if end < start:
        raise DataError(f"backtest --to: got {end}; it must not be before --from {start}")
    if every < pd.Timedelta(days=1) or every % pd.Timedelta(days=1) != pd.Timedelta(0):
        raise DataError(f"backtest --every: got {every}; it must be a whole number of days")
    if not 1 <= per_day <= 96:
        raise DataError(f"backtest origins per day: got {per_day}; accepted 1 .. 96")
    tz = site.location.timezone
    gates = pd.date_range(
        pd.Timestamp(datetime.combine(start, site.gate_time), tz=tz),
        pd.Timestamp(datetime.combine(end, site.gate_time), tz=tz),
        freq=every,
    )
    spacing = (pd.Timedelta(days=1) / per_day).floor("15min")
    return pd.DatetimeIndex(sorted(g + k * spacing for g in gates for k in range(per_day)))


def run_backtest(
    site: Site,
    history: pd.DataFrame,
    start: date,
    end: date,
    every: pd.Timedelta = EVERY,
    origins_per_day: int = ORIGINS_PER_DAY,
    refit_every: pd.Timedelta = REFIT_EVERY,
    progress: bool = False,
) -> BacktestResult:
    origins = backtest_origins(site, start, end, every, origins_per_day)
    index = site_index(history, site.location.timezone)
    if index.min() >= origins[0] or index.max() < origins[-1]:
        raise DataError(
            f"backtest --from/--to: {start} .. {end} must lie inside the history "
            f"{index.min().date()} .. {index.max().date()} (with history before --from)"
        )
    grid = regular_grid(index.min().floor("15min"), index.max() + STEP)
    raw = history.set_axis(index, axis=0)
    raw = raw[~raw.index.duplicated(keep="last")].reindex(grid)
    specs = expected_series(site)
    blocks: dict[str, list[np.ndarray]] = {c: [] for c in specs}
    models: ForecastModels | None = None
    refits, refit_at = 0, origins[0]
    for origin in tqdm(origins, desc=f"backtest {site.id}", file=sys.stderr, disable=not progress):
        if models is None or origin >= refit_at:
            models = fit(site, history, until=origin)
            refits, refit_at = refits + 1, origin + refit_every
        frame = models.predict(origin, HORIZON, history).frame
        target = grid.get_indexer(frame.index)
        keep = target >= 0
        target = target[keep]
        first = np.full(len(target), grid.get_loc(frame.index[0]))
        lead_h = np.asarray((grid[target] - origin) / pd.Timedelta(hours=1))
        for column in specs:
            x = raw[column].to_numpy(dtype="float64")
            band = [frame[quantile(column, q)].to_numpy()[keep] for q in (10, 50, 90)]
            naive = [baseline_forecast(b, x, first, target) for b in Baseline]
            blocks[column].append(np.column_stack([target, lead_h, x[target], *band, *naive]))
    data = {c: np.concatenate(b) for c, b in blocks.items()}
    table = _metrics(site, specs, data, grid)
    return BacktestResult(site.id, start, end, len(origins), refits, table, data)


SAMPLE_COLUMNS = ("target", "lead_h", "actual", "p10", "p50", "p90", *(b.value for b in Baseline))
_TARGET, _LEAD, _ACTUAL, _P10, _P50, _P90, _NAIVE = range(7)


def _metrics(
    site: Site, specs: dict[str, SeriesSpec], data: dict[str, np.ndarray], grid: pd.DatetimeIndex
) -> pd.DataFrame:
    sun: dict[str, np.ndarray] = {}
    for array in site.assets.pv:
        cache = ClearSkyCache(site.location, array.tilt_deg, array.azimuth_deg)
        sun[columns.pv_kw(array.name)] = cache.per_kwp(grid) > 0.0
    records = []
    for column, spec in specs.items():
        block = data[column]
        scored = ~np.isnan(block[:, _ACTUAL : _NAIVE + len(Baseline)]).any(axis=1)
        if spec.kind is SeriesKind.PV:
            scored &= sun[column][block[:, _TARGET].astype(np.int64)]
        for bucket, (low, high) in BUCKETS.items():
            rows = block[scored & (block[:, _LEAD] >= low) & (block[:, _LEAD] < high)]
            records.append(_row(column, spec, bucket, rows))
    return pd.DataFrame(records)


def _row(column: str, spec: SeriesSpec, bucket: str, rows: np.ndarray) -> dict[str, object]:
    actual = rows[:, _ACTUAL]
    error = rows[:, _P50] - actual
    mae = float(np.mean(np.abs(error))) if len(rows) else np.nan
    record: dict[str, object] = {
        "series": column,
        "bucket": bucket,
        "n": len(rows),
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))) if len(rows) else np.nan,
        "nmae": mae / spec.rating if spec.rating else np.nan,
    }
    for i, baseline in enumerate(Baseline):
        naive_mae = float(np.mean(np.abs(rows[:, _NAIVE + i] - actual))) if len(rows) else np.nan
        record[f"mae_{baseline.value}"] = naive_mae
        record[f"skill_{baseline.value}"] = 1.0 - mae / naive_mae if naive_mae > 0 else np.nan
    inside = (rows[:, _P10] <= actual) & (actual <= rows[:, _P90])
    record["coverage"] = float(np.mean(inside)) if len(rows) else np.nan
    return record
