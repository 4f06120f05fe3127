"""Data quality of a history: what is wrong with it and what was done, in one place.

No model sees a history that has not been through :func:`clean`. It works on the slice of
history a fit or a forecast uses and returns the cleaned values on a regular 15-minute grid
plus a :class:`QualityReport` of every finding. The rules, in the order they run:

1. **Timestamps** (whole rows). The index must be timezone-aware (else :class:`DataError`); it
   is converted to the site's zone. Duplicated timestamps: the last non-missing value of each
   column is kept. Timestamps off the quarter-hour grid: excluded. The rows are then put on
   the regular grid; timestamps missing from it become gaps.
2. **Physical range** (per value). Non-negative flows (kW, kW_th) slightly below zero (down to
   ``NEGATIVE_TOLERANCE`` x rating: meter offset) are clipped to 0; further below zero, above
   ``MAX_RATING_FACTOR`` x rating, or a temperature outside ``TEMPERATURE_RANGE_DEGC``:
   excluded. PV while the sun is below the horizon (negative or positive): set to 0.
3. **Spikes**: a value further than the series' spike threshold from the median of its
   ``SPIKE_WINDOW`` neighbours is excluded. The threshold is learnt once per fit
   (:func:`fit_profile`) from the training history: ``SPIKE_FACTOR`` x the ``SPIKE_QUANTILE``
   quantile of that distance, at least ``SPIKE_FLOOR`` x the series' 1-99 % range.
4. **Frozen sensors**: ``FROZEN_MIN_STEPS`` or more identical values in a row are excluded,
   unless the value is 0 (off, calm, night) or the series' ceiling (its rating, an inverter or
   heat-recovery limit, or its training maximum), where flat runs are genuine.
5. **Gaps** (missing timestamps, missing values and everything excluded above): runs of at
   most ``MAX_FILL_STEPS`` between two known values are filled by linear interpolation (PV at
   night with 0); longer gaps stay missing and the models skip them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import numpy as np
import pandas as pd

from forecasting.medians import rolling_nanmedian
from sites import columns
from sites.errors import DataError
from sites.history.series import SeriesKind, SeriesSpec
from sites.schema import Site

NEGATIVE_TOLERANCE = 0.01  # of rating: meters read a few tenths of a percent below zero
MAX_RATING_FACTOR = 1.5  # a flow half again above its rating is a unit or meter error
TEMPERATURE_RANGE_DEGC = (-45.0, 55.0)  # beyond any weather record in the North China Plain
SPIKE_WINDOW = 5  # centred neighbourhood (75 min) whose median a spike stands out from
SPIKE_QUANTILE = 0.999  # natural one-step excursions of a clean series stay below this...
SPIKE_FACTOR = 3.0  # ...and spikes are judged against three times that
SPIKE_FLOOR = 0.05  # smooth series: never call less than 5 % of the range a spike
FROZEN_MIN_STEPS = 16  # 4 h; the bundled clean data repeat a value for at most 11 steps
MAX_FILL_STEPS = 4  # an hour: what interpolation can bridge without inventing a profile
_CEILING_RTOL = 1e-6


class Issue(StrEnum):
    DUPLICATE_TIMESTAMP = "duplicate timestamp"
    OFF_GRID_TIMESTAMP = "timestamp off the 15-minute grid"
    MISSING_TIMESTAMP = "missing timestamp"
    MISSING_VALUE = "missing value"
    SMALL_NEGATIVE = "slightly negative flow"
    OUT_OF_RANGE = "physically impossible value"
    PV_AT_NIGHT = "PV output while the sun is down"
    SPIKE = "spike"
    FROZEN = "frozen sensor"
    GAP_FILLED = "short gap"
    GAP_LEFT = "long gap"


class Action(StrEnum):
    KEPT_LAST = "kept the last value"
    EXCLUDED = "excluded"
    CLIPPED_TO_ZERO = "clipped to 0"
    SET_TO_ZERO = "set to 0"
    INTERPOLATED = "filled by linear interpolation"
    LEFT_MISSING = "left missing; models skip it"


@dataclass(frozen=True)
class Finding:
    column: str
    """Series column, or ``"*"`` for whole rows."""
    issue: Issue
    action: Action
    count: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None

    def __str__(self) -> str:
        span = f" ({self.first} .. {self.last})" if self.first is not None else ""
        return f"{self.column}: {self.count} x {self.issue}: {self.action}{span}"


@dataclass(frozen=True)
class QualityReport:
    rows_in: int
    findings: tuple[Finding, ...]

    def count(self, issue: Issue, column: str | None = None) -> int:
        return sum(
            f.count for f in self.findings if f.issue is issue and column in (None, f.column)
        )

    def __str__(self) -> str:
        if not self.findings:
            return f"{self.rows_in} rows, no findings"
        return "\n".join([f"{self.rows_in} rows:", *(f"  {f}" for f in self.findings)])


@dataclass(frozen=True)
class SeriesLimits:
    ceilings: tuple[float, ...]
    """Values at which a flat run is genuine (besides 0)."""
    spike_threshold: float
    """Distance from the neighbourhood median beyond which a value is a spike."""


@dataclass(frozen=True)
class QualityProfile:
    """Per series the limits the rules use, learnt from a training history."""

    limits: Mapping[str, SeriesLimits]


def series_caps(site: Site) -> dict[str, float]:
    """Hard output limits below the rating: PV inverters, turbine groups, heat recovery."""
    caps = {columns.pv_kw(a.name): min(a.inverter_kva, a.peak_kw) for a in site.assets.pv}
    caps |= {columns.wind_kw(w.name): w.total_rated_kw for w in site.assets.wind}
    caps |= {columns.waste_heat_kw_th(s.name): s.max_kw_th for s in site.assets.waste_heat}
    return caps


def series_ceiling(spec: SeriesSpec, caps: Mapping[str, float]) -> float:
    """Hard ceiling of a series: an inverter, turbine or recovery limit, else its rating."""
    return caps.get(spec.column, spec.rating if spec.rating is not None else np.inf)


def _physical_limits(spec: SeriesSpec, caps: Mapping[str, float]) -> tuple[float, float]:
    """Values outside (lower, upper) are impossible; flows in (lower, 0) are meter offset."""
    if spec.kind is SeriesKind.AMBIENT_TEMPERATURE:
        return TEMPERATURE_RANGE_DEGC
    rating = series_ceiling(spec, caps)
    return -NEGATIVE_TOLERANCE * rating, MAX_RATING_FACTOR * rating


def site_index(history: pd.DataFrame, timezone: str) -> pd.DatetimeIndex:
    """The history's index on the site's clock; raises DataError unless timezone-aware times."""
    index = history.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise DataError(
            f"history.index: got {type(index).__name__} (tz={getattr(index, 'tz', None)}); "
            f"it must be a timezone-aware DatetimeIndex (e.g. in {timezone})"
        )
    return index.tz_convert(timezone)


def _float_columns(history: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The ``columns`` of ``history`` as float64, shape (rows, columns); DataError if one of
    them is not numeric. A frame of floats is read as it is (selecting columns from a frame
    costs more than the rest of a forecast's cleaning)."""
    if history.columns.is_unique:
        values = history.to_numpy()
        if values.dtype == np.float64:
            return values[:, [cast(int, history.columns.get_loc(c)) for c in columns]]
    try:
        return history[columns].astype("float64").to_numpy()
    except (TypeError, ValueError) as exc:
        raise DataError(f"history columns: must all be numeric ({exc})") from None


def _rows_on_grid(
    values: np.ndarray, index: pd.DatetimeIndex, grid: pd.DatetimeIndex, found: list[Finding]
) -> tuple[np.ndarray, np.ndarray]:
    """The history's ``values`` (rows at ``index``) on ``grid``, and which grid timestamps
    the history has a row for. A history whose rows are the grid's timestamps, in order (a
    forecast's usual case), is taken as it is."""
    if index.equals(grid):
        return values, np.ones(len(grid), dtype=bool)
    frame = pd.DataFrame(values, index=index)
    duplicated = index.duplicated(keep=False)
    if duplicated.any():
        _note(found, "*", Issue.DUPLICATE_TIMESTAMP, Action.KEPT_LAST, index[duplicated])
        frame = frame.groupby(level=0, sort=False).last()
    rows = pd.DatetimeIndex(frame.index)
    off_grid = np.asarray(rows != rows.floor("15min"))
    if off_grid.any():
        _note(found, "*", Issue.OFF_GRID_TIMESTAMP, Action.EXCLUDED, rows[off_grid])
        frame, rows = frame[~off_grid], rows[~off_grid]
    missing = grid.difference(rows)
    if len(missing):
        _note(found, "*", Issue.MISSING_TIMESTAMP, Action.LEFT_MISSING, missing)
    return frame.reindex(grid).to_numpy(dtype="float64"), grid.isin(index)


def _note(found: list[Finding], column: str, issue: Issue, action: Action, times: pd.Index) -> None:
    if len(times):
        found.append(Finding(column, issue, action, len(times), times.min(), times.max()))


def _note_at(
    found: list[Finding],
    column: str,
    issue: Issue,
    action: Action,
    grid: pd.DatetimeIndex,
    at: np.ndarray,
) -> None:
    """:func:`_note` of the timestamps of the ascending ``grid`` where ``at`` is True (the
    first and last of them are its earliest and latest: no index of them is built)."""
    if at.any():
        positions = np.flatnonzero(at)
        first, last = grid[positions[0]], grid[positions[-1]]
        found.append(Finding(column, issue, action, len(positions), first, last))


def _spike_distance(x: np.ndarray) -> np.ndarray:
    return np.abs(x - rolling_nanmedian(x, SPIKE_WINDOW, min_periods=3))


def _run_lengths(change: np.ndarray) -> np.ndarray:
    """Length of the run each position belongs to; a run starts where ``change`` is True
    (``change[0]`` must be)."""
    run = np.cumsum(change) - 1
    return np.asarray(np.bincount(run)[run])


def _frozen(x: np.ndarray, ceilings: tuple[float, ...]) -> np.ndarray:
    repeats = (x[1:] == x[:-1]) & (x[1:] != 0.0)
    if np.count_nonzero(repeats) < FROZEN_MIN_STEPS - 1:  # the usual case: no run can be long
        return np.zeros(len(x), dtype=bool)
    change = np.concatenate([[True], x[1:] != x[:-1]])  # NaN != NaN: gaps break runs
    frozen = (_run_lengths(change) >= FROZEN_MIN_STEPS) & ~np.isnan(x) & (x != 0.0)
    if frozen.any():  # rare: the ceiling test only where it can matter
        for ceiling in ceilings:
            frozen &= ~np.isclose(x, ceiling, rtol=_CEILING_RTOL, atol=0.0)
    return frozen


def _fill_short_gaps(x: np.ndarray) -> np.ndarray:
    """Runs of at most ``MAX_FILL_STEPS`` NaN between two known values, filled by linear
    interpolation by position (the numbers of pandas' ``Series.interpolate(limit_area=
    "inside")``, which calls ``np.interp`` the same way)."""
    missing = np.isnan(x)
    known = np.flatnonzero(~missing)
    if len(known) in (0, len(x)):
        return x.copy()
    change = np.concatenate([[True], missing[1:] != missing[:-1]])
    short = missing & (_run_lengths(change) <= MAX_FILL_STEPS)
    positions = np.arange(len(x))
    inside = np.flatnonzero(short & (positions > known[0]) & (positions < known[-1]))
    out = x.copy()
    out[inside] = np.interp(inside, known, x[known])
    return out


def _physical(
    x: np.ndarray,
    specs: Mapping[str, SeriesSpec],
    caps: Mapping[str, float],
    night: np.ndarray,
    found: list[list[Finding]],
    grid: pd.DatetimeIndex,
) -> np.ndarray:
    """Rule 2 on every series at once: ``x`` and ``night`` have a row per series."""
    limits = np.array([_physical_limits(spec, caps) for spec in specs.values()])
    lower, upper = limits[:, :1], limits[:, 1:]
    non_negative = np.array([spec.non_negative for spec in specs.values()])[:, None]
    lit = night & ~np.isnan(x) & (x != 0.0)
    x = np.where(night, 0.0, x)
    out_of_range = (x < lower) | (x > upper)
    x = np.where(out_of_range, np.nan, x)
    small = (x < 0.0) & non_negative
    x = np.where(small, 0.0, x)
    _note_rows(found, specs, Issue.PV_AT_NIGHT, Action.SET_TO_ZERO, grid, lit)
    _note_rows(found, specs, Issue.OUT_OF_RANGE, Action.EXCLUDED, grid, out_of_range)
    _note_rows(found, specs, Issue.SMALL_NEGATIVE, Action.CLIPPED_TO_ZERO, grid, small)
    return x


def _note_rows(
    found: list[list[Finding]],
    specs: Mapping[str, SeriesSpec],
    issue: Issue,
    action: Action,
    grid: pd.DatetimeIndex,
    at: np.ndarray,
) -> None:
    """:func:`_note_at` of each series (a row of ``at``) into its own list of findings."""
    names = list(specs)
    for row in np.flatnonzero(at.any(axis=1)).tolist():
        _note_at(found[row], names[row], issue, action, grid, at[row])


def clean(
    history: pd.DataFrame,
    specs: Mapping[str, SeriesSpec],
    grid: pd.DatetimeIndex,
    caps: Mapping[str, float],
    night: Mapping[str, np.ndarray],
    profile: QualityProfile | None,
) -> tuple[dict[str, np.ndarray], QualityReport, QualityProfile]:
    """Cleaned values of every series on ``grid``, the report, and the profile used.

    ``history`` holds the rows to use (already sliced by time); ``grid`` is ascending, on the
    quarter hours; ``night[column]`` marks the intervals where a PV column's array sees no
    sun. Without ``profile`` the spike thresholds are learnt from this history (a fit); with
    one (a forecast) they are reused. The rules run on all series at once (a row each); the
    findings are reported series by series, in the order of the rules.
    """
    missing_columns = [c for c in specs if c not in history.columns]
    if missing_columns:
        raise DataError(
            f"history columns: {missing_columns} are missing; a history of this site needs "
            f"the columns {list(specs)}"
        )
    found: list[Finding] = []
    index = site_index(history, str(grid.tz))
    raw = _float_columns(history, list(specs))
    on_grid, present = _rows_on_grid(raw, index, grid, found)
    names = list(specs)
    x = np.ascontiguousarray(on_grid.T, dtype=np.float64)
    dark = np.zeros(x.shape, dtype=bool)
    for row, column in enumerate(names):
        if column in night:
            dark[row] = night[column]
    first: list[list[Finding]] = [[] for _ in names]  # rules 1-2, per series
    _note_rows(first, specs, Issue.MISSING_VALUE, Action.LEFT_MISSING, grid, np.isnan(x) & present)
    x = _physical(x, specs, caps, dark, first, grid)
    if profile is None:
        profile = fit_profile(dict(zip(names, x, strict=True)), specs, caps)
    then: list[list[Finding]] = [[] for _ in names]  # rules 3-5, per series
    threshold = np.array([[profile.limits[c].spike_threshold] for c in names])
    spike = _spike_distance(x) > threshold
    x = np.where(spike, np.nan, x)
    _note_rows(then, specs, Issue.SPIKE, Action.EXCLUDED, grid, spike)
    frozen = np.zeros(x.shape, dtype=bool)
    for runs in _may_be_frozen(x).tolist():
        frozen[runs] = _frozen(x[runs], profile.limits[names[runs]].ceilings)
    x = np.where(frozen, np.nan, x)
    _note_rows(then, specs, Issue.FROZEN, Action.EXCLUDED, grid, frozen)
    gaps = np.isnan(x)
    for gappy in np.flatnonzero(gaps.any(axis=1)).tolist():
        x[gappy] = _fill_short_gaps(x[gappy])
    x = np.where(dark, 0.0, x)
    left = np.isnan(x)
    _note_rows(then, specs, Issue.GAP_FILLED, Action.INTERPOLATED, grid, gaps & ~left)
    _note_rows(then, specs, Issue.GAP_LEFT, Action.LEFT_MISSING, grid, left)
    for series in (*first, *then):
        found.extend(series)
    values = {column: x[row] for row, column in enumerate(names)}
    return values, QualityReport(len(history), tuple(found)), profile


def _may_be_frozen(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` with enough repeats in a row for :func:`_frozen` to find a run (the
    usual case is none)."""
    repeats = (x[:, 1:] == x[:, :-1]) & (x[:, 1:] != 0.0)
    return np.flatnonzero(np.count_nonzero(repeats, axis=1) >= FROZEN_MIN_STEPS - 1)


def fit_profile(
    values: Mapping[str, np.ndarray], specs: Mapping[str, SeriesSpec], caps: Mapping[str, float]
) -> QualityProfile:
    """Spike thresholds and ceilings of each series, from range-checked training values."""
    limits = {}
    for column, spec in specs.items():
        x = values[column]
        known = x[~np.isnan(x)]
        spread = float(np.subtract(*np.quantile(known, [0.99, 0.01]))) if len(known) else 0.0
        distance = _spike_distance(x)
        distance = distance[~np.isnan(distance)]
        natural = float(np.quantile(distance, SPIKE_QUANTILE)) if len(distance) else 0.0
        threshold = max(SPIKE_FACTOR * natural, SPIKE_FLOOR * spread)
        ceilings: tuple[float, ...] = ()
        if spec.non_negative:
            ceiling = series_ceiling(spec, caps)
            ceilings = (ceiling, float(known.max())) if len(known) else (ceiling,)
        limits[column] = SeriesLimits(ceilings, threshold)
    return QualityProfile(limits)
