"""Which measurement series a park accepts and the physical bounds of each.

History series (:func:`sites.history.series.expected_series`) plus the measured state the
planner starts from (battery SoC, tank level) and the connection point's import and export.
A value outside its bound is rejected, never clipped: bounds are the physical capacity with a
tolerance for metering (:data:`FLOW_TOLERANCE`, or :data:`DEMAND_TOLERANCE` for demands,
whose configured peak is a design value a real day may exceed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from controller import columns as pc
from sites import Site
from sites.history.series import SeriesKind, expected_series

FLOW_TOLERANCE = 1.1
DEMAND_TOLERANCE = 1.5
AMBIENT_BOUNDS_DEGC = (-60.0, 60.0)


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    unit: str

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
        bounds[column] = Bound(0.0, rating * tolerance, spec.unit)
    for battery in site.assets.batteries:
        bounds[pc.battery_soc_kwh(battery.name)] = Bound(0.0, battery.capacity_kwh, "kWh")
    for tank in site.assets.thermal_storage:
        bounds[pc.thermal_storage_level_kwh_th(tank.name)] = Bound(
            0.0, tank.capacity_kwh_th, "kWh_th"
        )
    grid = site.grid_connection
    bounds[pc.GRID_IMPORT_KW] = Bound(0.0, grid.import_limit_kw * DEMAND_TOLERANCE, "kW")
    bounds[pc.GRID_EXPORT_KW] = Bound(0.0, max(grid.export_limit_kw, 1.0) * DEMAND_TOLERANCE, "kW")
    return bounds


def check_points(
    bounds: dict[str, Bound], points: Sequence[tuple[str, datetime, float]]
) -> list[PointProblem]:
    """Every problem of a batch (unknown series, off the quarter hour, out of bounds)."""
    problems = []
    for i, (series, ts, value) in enumerate(points):
        where = ts.isoformat()
        bound = bounds.get(series)
        if bound is None:
            problems.append(
                PointProblem(i, series, where, value, f"unknown series; known: {sorted(bounds)}")
            )
            continue
        if ts.tzinfo is None:
            problems.append(PointProblem(i, series, where, value, "timestamp needs a UTC offset"))
        elif ts.second or ts.microsecond or ts.minute % 15:
            problems.append(
                PointProblem(i, series, where, value, "timestamp must start a quarter hour")
            )
        if not math.isfinite(value):
            problems.append(PointProblem(i, series, where, None, "value must be a finite number"))
        elif not bound.low <= value <= bound.high:
            problems.append(
                PointProblem(i, series, where, value, f"outside the physical bound {bound}")
            )
    return problems
