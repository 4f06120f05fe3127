"""Reading a forecast frame at the boundary: a regular tz-aware 15-minute grid and repaired
series, every repair recorded (nothing raises for data it was given)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sites import Site, columns
from sites.time_step import STEP_NS


def _is_regular(index: pd.Index) -> bool:
    """A tz-aware, nanosecond index already on the 15-minute grid: sorted, unique, no NaT,
    starting on a quarter hour of the local clock, one step apart. :func:`clean_index` would
    leave such an index as it is (but for the zone)."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None or len(index) == 0:
        return False
    if index.unit != "ns" or index.hasnans or not index.is_unique:
        return False
    start = index[0]
    if start.minute % 15 or start.second or start.microsecond or start.nanosecond:
        return False
    return bool((np.diff(index.values.view(np.int64)) == STEP_NS).all())


def clean_index(site: Site, forecast: pd.DataFrame, issues: list[str]) -> pd.DataFrame:
    """The forecast on a regular, tz-aware 15-minute index in the site's zone (a new frame;
    where the index is already regular it shares the forecast's data, which is only read)."""
    zone = site.location.timezone
    if _is_regular(forecast.index):
        frame = forecast.copy(deep=False)
        frame.index = pd.DatetimeIndex(forecast.index).tz_convert(zone)
        return frame
    frame = forecast.copy()
    if not isinstance(frame.index, pd.DatetimeIndex):
        try:
            frame.index = pd.DatetimeIndex(frame.index)
        except (TypeError, ValueError):
            issues.append("forecast index is not time stamps; no interval could be planned")
            return frame.iloc[0:0]
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        issues.append(f"forecast index has no time zone; read as {zone}")
        index = index.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    frame.index = index.tz_convert(zone)
    frame = frame[frame.index.notna()]
    if frame.index.has_duplicates:
        issues.append("forecast index has duplicate time stamps; the first of each was kept")
        frame = frame[~frame.index.duplicated(keep="first")]
    frame = frame.sort_index()
    if len(frame) == 0:
        return frame
    start = frame.index[0].floor("15min")
    regular = pd.date_range(start, frame.index[-1], freq="15min")
    if not frame.index.equals(regular):
        issues.append("forecast index is not a regular 15-minute grid; values were re-gridded")
        union = frame.index.union(regular)
        frame = frame.reindex(union).interpolate(method="time", limit_direction="both")
        frame = frame.reindex(regular)
    return frame


def read_series(
    frame: pd.DataFrame,
    column: str,
    default: float,
    issues: list[str],
    non_negative: bool = True,
    upper: float | None = None,
) -> np.ndarray:
    """The P50 column (or the plain column), repaired; ``default`` where nothing is known."""
    name = columns.quantile(column, 50)
    if name not in frame.columns:
        name = column
    if name not in frame.columns:
        issues.append(
            f"forecast lacks {columns.quantile(column, 50)}; assumed {default:g} throughout"
        )
        return np.full(len(frame), float(default))
    series = frame[name]
    out = series.to_numpy(dtype=float, copy=True) if series.dtype == np.float64 else None
    if out is None or not np.isfinite(out).all():
        out = _repaired(series, name, default, issues)
    if non_negative and (out < 0).any():
        issues.append(f"{name} has negative values (min {out.min():.3g}); clipped to 0")
        out = np.clip(out, 0.0, None)
    if upper is not None and (out > upper * (1 + 1e-9)).any():
        issues.append(f"{name} exceeds the rating {upper:g} (max {out.max():.4g}); clipped")
        out = np.minimum(out, upper)
    return out


def _repaired(series: pd.Series, name: str, default: float, issues: list[str]) -> np.ndarray:
    """Numbers of a column that is not all finite floats: anything else becomes NaN, and
    NaN is interpolated (``default`` where the column has no number at all)."""
    values = pd.to_numeric(series, errors="coerce").astype(float)
    values = values.replace([np.inf, -np.inf], np.nan)
    if values.isna().any():
        issues.append(f"{name} has {int(values.isna().sum())} missing value(s); interpolated")
        values = values.interpolate(limit_direction="both").fillna(default)
    return values.to_numpy(dtype=float)


def spread(frame: pd.DataFrame, column: str, p50: np.ndarray, percent: int) -> np.ndarray:
    """How far the forecast's ``percent`` quantile of ``column`` lies from its P50 (>= 0);
    0 where the forecast has no such band or no number in it (a band is optional)."""
    name = columns.quantile(column, percent)
    if name not in frame.columns:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(np.abs(values - p50), nan=0.0, posinf=0.0, neginf=0.0)


def as_forecast(truth: pd.DataFrame) -> pd.DataFrame:
    """A frame of true values in the forecast layout (P10 = P50 = P90 = truth): for plans
    made with hindsight (the bound, the month's peak target) and for real-time rules."""
    return pd.concat(
        {columns.quantile(c, q): truth[c] for c in truth.columns for q in columns.QUANTILES},
        axis=1,
    )
