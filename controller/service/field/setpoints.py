"""From a plan's row to what each device is sent: one rule per kind of setpoint, then the
device's own limits from the map, whatever the plan says."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from controller import columns as pc
from controller.service.field.devicemap import (
    EXPORT_LIMIT_KW,
    IMPORT_LIMIT_KW,
    Device,
    FieldMap,
    Point,
)
from sites import Site, columns

CURTAILED_KW = 1e-3
"""A plan curtails a PV array or wind park where its curtailment exceeds this."""


@dataclass(frozen=True)
class Order:
    device: Device
    point: Point
    planned: float | None
    value: float
    detail: str


def planned_value(
    site: Site,
    point: Point,
    row: Mapping[str, float],
    export_cap_kw: float | None,
    import_cap_kw: float | None = None,
) -> float | None:
    """The plan's value for a write point (``None``: the plan says nothing about it)."""
    name = point.setpoint or ""
    if name == EXPORT_LIMIT_KW:
        limit = site.grid_connection.export_limit_kw
        return limit if export_cap_kw is None else min(limit, export_cap_kw)
    if name == IMPORT_LIMIT_KW:
        limit = site.grid_connection.import_limit_kw
        return limit if import_cap_kw is None else min(limit, import_cap_kw)
    curtailed = {columns.pv_kw(p.name): pc.pv_curtailed_kw(p.name) for p in site.assets.pv}
    curtailed |= {columns.wind_kw(w.name): pc.wind_curtailed_kw(w.name) for w in site.assets.wind}
    if name in curtailed:
        cut = row.get(curtailed[name], 0.0)
        if not (math.isfinite(cut) and cut > CURTAILED_KW):
            return point.max  # not curtailed: the inverter runs uncapped
    recovery = {columns.recovery_kw(r.name): r for r in site.assets.recovery_power}
    if name in recovery:
        available = row.get(pc.recovery_available_kw(recovery[name].name), 0.0)
        cut = available - row.get(name, available)
        if recovery[name].must_run or not (math.isfinite(cut) and cut > CURTAILED_KW):
            return point.max  # not curtailed: the turbine gives what its process makes
    value = row.get(name)
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def orders(
    site: Site,
    field_map: FieldMap,
    row: Mapping[str, float],
    export_cap_kw: float | None = None,
    import_cap_kw: float | None = None,
) -> list[Order]:
    """Every write point's value for the interval, clamped into the device's limits."""
    out = []
    for device in field_map.devices:
        for point in device.writes:
            planned = planned_value(site, point, row, export_cap_kw, import_cap_kw)
            if planned is None:
                continue
            low = point.min if point.min is not None else -math.inf
            high = point.max if point.max is not None else math.inf
            value = min(max(planned, low), high)
            detail = (
                f"clamped from {planned:g} to the device's limits [{low:g}, {high:g}]"
                if value != planned
                else ""
            )
            out.append(Order(device, point, planned, value, detail))
    return out
