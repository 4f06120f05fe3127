"""Which measurement series a park accepts, the physical bounds of each, and the
plausibility rules a point must pass at the door.

History series (:func:`sites.history.series.expected_series`) plus the measured state the
planner starts from (battery SoC, heat and hydrogen tank levels, CHP and recovery output,
batch draw) and the connection point's import and export.
A value outside its bound is rejected, never clipped: bounds are the physical capacity with a
tolerance for metering (:data:`FLOW_TOLERANCE`, or :data:`DEMAND_TOLERANCE` for demands,
whose configured peak is a design value a real day may exceed).

Beyond the bounds (:func:`check_points`), a batch is refused whole, naming each point, when:

- a timestamp's UTC offset is not a whole quarter hour (``+00:07`` would put it off the
  15-minute grid) or the time is not a quarter-hour start in UTC;
- it lies outside the window ``[now - max_age, now + skew]`` (a 1970 or 2100 point);
- a PV series reports more than :data:`NIGHT_PV_FRACTION` of its rating while the sun is
  below the horizon for the whole interval (clear-sky bound: no irradiance, no output);
- a battery's state of charge changes between two consecutive quarter hours (in the batch,
  or against the stored point just before) by more than its power rating allows in 15
  minutes (:data:`SOC_STEP_TOLERANCE` for metering).

Frozen sensors are flagged by :func:`frozen_series` (a warning in ``/health``), not refused:
a value repeated for hours is suspicious, not impossible. So are spikes
(:func:`spike_positions`: one quarter hour far above both neighbours), which are also left
out of the history the forecaster sees (:func:`without_spikes`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
from pvlib import solarposition

from controller import columns as pc
from sites import Site, columns
from sites.history.series import SeriesKind, expected_series
from sites.time_step import HOURS_PER_STEP, STEP

FLOW_TOLERANCE = 1.1
DEMAND_TOLERANCE = 1.5
AMBIENT_BOUNDS_DEGC = (-60.0, 60.0)
NIGHT_PV_FRACTION = 0.01
"""PV above 1 % of its rating with the sun below the horizon is refused (metering noise and
inverter standby draw stay well under it)."""
NIGHT_ELEVATION_DEG = -1.0
"""The sun counts as down below -1 degree (refraction and the interval's edges)."""
SOLAR_YEARS = (1900, 2200)
"""The night rule looks at times in these years only (others are refused by the window)."""
SOC_STEP_TOLERANCE = 1.1
"""A state of charge may move by the battery's power x 15 min x 1.1 between quarter hours."""


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    unit: str
    pv_rating_kw: float | None = None
    """A PV series: its rating (for the night rule)."""
    soc_step_kwh: float | None = None
    """A battery's state of charge: the most it can move in one quarter hour."""

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}] {self.unit}"


@dataclass(frozen=True)
class PointProblem:
    """One rejected point: which, what value, and the rule it broke."""

    index: int
    series: str
    ts: str
    value: float | None
    rule: str
    field: str = "value"
    """Which of the point's fields is at fault: series, ts or value."""


def series_bounds(site: Site) -> dict[str, Bound]:
    bounds: dict[str, Bound] = {}
    inverters = {pv.name: pv.inverter_kva for pv in site.assets.pv}
    for column, spec in expected_series(site).items():
        if spec.kind is SeriesKind.AMBIENT_TEMPERATURE:
            bounds[column] = Bound(*AMBIENT_BOUNDS_DEGC, spec.unit)
            continue
        rating = spec.rating or 0.0
        if spec.kind is SeriesKind.PV and spec.asset is not None:
            rating = min(rating, inverters[spec.asset])
        tolerance = (
            DEMAND_TOLERANCE
            if spec.kind in (SeriesKind.LOAD, SeriesKind.HEAT_DEMAND)
            else FLOW_TOLERANCE
        )
        pv = rating if spec.kind is SeriesKind.PV else None
        bounds[column] = Bound(0.0, rating * tolerance, spec.unit, pv_rating_kw=pv)
    for battery in site.assets.batteries:
        step = max(battery.charge_kw, battery.discharge_kw) * HOURS_PER_STEP * SOC_STEP_TOLERANCE
        bounds[pc.battery_soc_kwh(battery.name)] = Bound(
            0.0, battery.capacity_kwh, "kWh", soc_step_kwh=step
        )
    for tank in site.assets.thermal_storage:
        bounds[pc.thermal_storage_level_kwh_th(tank.name)] = Bound(
            0.0, tank.capacity_kwh_th, "kWh_th"
        )
    for chp in site.assets.chp:  # its output tells the planner whether it runs
        bounds[columns.chp_kw(chp.name)] = Bound(0.0, chp.rated_electric_kw * FLOW_TOLERANCE, "kW")
    for unit in site.assets.recovery_power:
        bounds[columns.recovery_kw(unit.name)] = Bound(0.0, unit.rated_kw * FLOW_TOLERANCE, "kW")
    for batch in site.assets.batch_loads:  # its draw tells the planner what a batch has had
        bounds[columns.batch_kw(batch.name)] = Bound(0.0, batch.max_kw * FLOW_TOLERANCE, "kW")
    for h2 in site.assets.hydrogen_tanks:
        bounds[pc.tank_level_kg(h2.name)] = Bound(0.0, h2.capacity_kg, "kg")
    grid = site.grid_connection
    bounds[pc.GRID_IMPORT_KW] = Bound(0.0, grid.import_limit_kw * DEMAND_TOLERANCE, "kW")
    bounds[pc.GRID_EXPORT_KW] = Bound(0.0, max(grid.export_limit_kw, 1.0) * DEMAND_TOLERANCE, "kW")
    return bounds


@dataclass(frozen=True)
class Window:
    """The times a point may have: ``[earliest, latest]`` (aware)."""

    earliest: datetime
    latest: datetime


def check_points(
    bounds: dict[str, Bound],
    points: Sequence[tuple[str, datetime, float]],
    window: Window | None = None,
    location: tuple[float, float] | None = None,
    before: dict[str, tuple[datetime, float]] | None = None,
    soc_steps: bool = True,
) -> list[PointProblem]:
    """Every problem of a batch (see the module's docstring). ``location``: the park's
    (latitude, longitude) for the night rule; ``before``: per battery SoC series, the stored
    point just before the batch's first one of that series."""
    problems = []
    for i, (series, ts, value) in enumerate(points):
        where = ts.isoformat()
        bound = bounds.get(series)
        if bound is None:
            problems.append(
                PointProblem(
                    i, series, where, value, f"unknown series; known: {sorted(bounds)}", "series"
                )
            )
            continue
        problems += _time_problems(i, series, ts, value, window)
        if not math.isfinite(value):
            problems.append(PointProblem(i, series, where, None, "value must be a finite number"))
        elif not bound.low <= value <= bound.high:
            problems.append(
                PointProblem(i, series, where, value, f"outside the physical bound {bound}")
            )
    if location is not None:
        problems += _night_pv(bounds, points, location)
    if soc_steps:
        problems += _soc_jumps(bounds, points, before or {})
    return sorted(problems, key=lambda p: p.index)


def _time_problems(
    i: int, series: str, ts: datetime, value: float, window: Window | None
) -> list[PointProblem]:
    where = ts.isoformat()
    offset = ts.utcoffset()
    if offset is None:
        return [PointProblem(i, series, where, value, "timestamp needs a UTC offset", "ts")]
    if offset % STEP:
        return [
            PointProblem(
                i,
                series,
                where,
                value,
                f"UTC offset {_offset(offset)} is not a whole quarter hour: the time would "
                "fall off the 15-minute grid; accepted: offsets such as +00:00, +08:00, +05:45",
                "ts",
            )
        ]
    if ts.second or ts.microsecond or ts.minute % 15:
        return [PointProblem(i, series, where, value, "timestamp must start a quarter hour", "ts")]
    if window is not None and not window.earliest <= ts <= window.latest:
        return [
            PointProblem(
                i,
                series,
                where,
                value,
                f"timestamp outside the accepted window [{window.earliest.isoformat()}, "
                f"{window.latest.isoformat()}] (from the oldest history kept to now plus the "
                "clock skew allowed)",
                "ts",
            )
        ]
    return []


def _offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _night_pv(
    bounds: dict[str, Bound],
    points: Sequence[tuple[str, datetime, float]],
    location: tuple[float, float],
) -> list[PointProblem]:
    """PV above :data:`NIGHT_PV_FRACTION` of its rating with the sun down the whole interval."""
    suspects = []
    for i, (series, ts, value) in enumerate(points):
        bound = bounds.get(series)
        if bound is None or bound.pv_rating_kw is None or ts.utcoffset() is None:
            continue
        if not SOLAR_YEARS[0] <= ts.year <= SOLAR_YEARS[1]:
            continue  # far outside any window (refused for that); no sun position there
        if math.isfinite(value) and value > NIGHT_PV_FRACTION * bound.pv_rating_kw:
            suspects.append((i, series, ts, value, bound.pv_rating_kw))
    if not suspects:
        return []
    starts = pd.DatetimeIndex([pd.Timestamp(ts).tz_convert("UTC") for _, _, ts, _, _ in suspects])
    times = starts.append([starts + STEP / 2, starts + STEP])
    latitude, longitude = location
    elevation = (
        solarposition.get_solarposition(times, latitude, longitude)["apparent_elevation"]
        .to_numpy()
        .reshape(3, len(suspects))
        .max(axis=0)
    )
    return [
        PointProblem(
            i,
            series,
            ts.isoformat(),
            value,
            f"PV at night: the sun is below the horizon over this interval (elevation at most "
            f"{up:.1f} deg), so the clear-sky bound is {NIGHT_PV_FRACTION * rating:g} kW "
            f"({NIGHT_PV_FRACTION:.0%} of the {rating:g} kW rating)",
        )
        for (i, series, ts, value, rating), up in zip(suspects, elevation, strict=True)
        if up < NIGHT_ELEVATION_DEG
    ]


def _soc_jumps(
    bounds: dict[str, Bound],
    points: Sequence[tuple[str, datetime, float]],
    before: dict[str, tuple[datetime, float]],
) -> list[PointProblem]:
    """State-of-charge steps larger than the battery's power allows in a quarter hour."""
    by_series: dict[str, list[tuple[datetime, float, int]]] = {}
    for i, (series, ts, value) in enumerate(points):
        bound = bounds.get(series)
        if bound is None or bound.soc_step_kwh is None or ts.utcoffset() is None:
            continue
        if math.isfinite(value):
            by_series.setdefault(series, []).append((ts, value, i))
    problems = []
    for series, items in by_series.items():
        step = bounds[series].soc_step_kwh
        assert step is not None
        items.sort()
        previous = before.get(series)
        for ts, value, i in items:
            if previous is not None and ts - previous[0] == STEP:
                jump = abs(value - previous[1])
                if jump > step:
                    problems.append(
                        PointProblem(
                            i,
                            series,
                            ts.isoformat(),
                            value,
                            f"state of charge moved {jump:g} kWh from {previous[1]:g} kWh in "
                            f"15 minutes; the battery's power allows at most {step:g} kWh",
                        )
                    )
            previous = (ts, value)
    return problems


@lru_cache(maxsize=64)
def _bounds(site_json: str) -> dict[str, Bound]:
    return series_bounds(Site.model_validate_json(site_json))


def bounds_of(site: Site) -> dict[str, Bound]:
    """:func:`series_bounds`, made once per park (the caller must not change it)."""
    return _bounds(site.model_dump_json())


def soc_series(bounds: dict[str, Bound]) -> list[str]:
    return [name for name, b in bounds.items() if b.soc_step_kwh is not None]


FROZEN_INTERVALS = 16
"""A sensor repeating the exact same non-zero value for 16 quarter hours (4 h) is flagged."""


def frozen_series(values: dict[str, list[float]]) -> list[str]:
    """The series whose last :data:`FROZEN_INTERVALS` values are one and the same non-zero
    number (``values``: per series, its newest values in time order)."""
    frozen = []
    for series, newest in values.items():
        tail = newest[-FROZEN_INTERVALS:]
        if len(tail) == FROZEN_INTERVALS and tail[0] != 0.0 and len(set(tail)) == 1:
            frozen.append(series)
    return frozen


SPIKE_RATIO = 2.0
"""A point is a spike when it is more than twice both its neighbours..."""
SPIKE_SHARE_OF_BOUND = 0.25
"""...and above both by more than a quarter of the series' bound (a load's design peak x
:data:`DEMAND_TOLERANCE`, a PV array's rating x :data:`FLOW_TOLERANCE`): one quarter hour
jumping up and straight back by that much is a metering fault, not a process (a PV array
under breaking clouds, a furnace starting, stays up for more than one quarter hour or moves
less)."""


def spike_positions(values: Sequence[float], bound_high: float) -> list[int]:
    """Positions in ``values`` (one series in time order) of points that jump up from both
    neighbours and straight back (:data:`SPIKE_RATIO`, :data:`SPIKE_SHARE_OF_BOUND`); the
    first and last points have one neighbour and are not judged. NaN is never a spike."""
    series = np.asarray(values, dtype=float)
    if series.size < 3:
        return []
    value, before, after = series[1:-1], series[:-2], series[2:]
    higher = np.maximum(before, after)  # NaN where a neighbour is missing: never a spike
    with np.errstate(invalid="ignore"):
        spiked = (value - higher > SPIKE_SHARE_OF_BOUND * bound_high) & (
            value > SPIKE_RATIO * higher
        )
    return [int(i) + 1 for i in np.flatnonzero(spiked)]


def spiked_series(values: dict[str, list[float]], bounds: dict[str, Bound]) -> dict[str, float]:
    """Per series with a spike among its newest values (``values``: in time order), the
    largest spiked value."""
    found = {}
    for series, newest in values.items():
        bound = bounds.get(series)
        if bound is None:
            continue
        positions = spike_positions(newest, bound.high)
        if positions:
            found[series] = max(newest[i] for i in positions)
    return found


def without_spikes(history: pd.DataFrame, bounds: dict[str, Bound]) -> pd.DataFrame:
    """``history`` (a copy) with every spike (:func:`spike_positions`) of a bounded series
    made missing: the forecaster and the planner never see it."""
    cleaned = history.copy()
    for column in cleaned.columns:
        bound = bounds.get(str(column))
        if bound is None or bound.soc_step_kwh is not None:
            continue
        values = cleaned[column].to_numpy(dtype=float, copy=True)
        positions = spike_positions(values.tolist(), bound.high)
        if positions:
            values[positions] = math.nan
            cleaned[column] = values
    return cleaned
