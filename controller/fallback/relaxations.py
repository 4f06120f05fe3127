"""The relaxation report: which soft constraint gave way, by how much, in which intervals;
plus the data repairs of preparation and what the AC check still found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.network.linear import LinearNetwork
from controller.plans.dispatch import Dispatch
from controller.plans.plan import Relaxation
from network_models import Verification
from sites import Site

SLACK_TOL = 1e-2  # kW, kWh or kW-eq: below 10 W (Wh) a slack is solver noise, not a relaxation

_UNITS = {
    "grid_import_limit": "kW",
    "heat_unmet": "kW_th",
    "battery_soc_min": "kWh",
    "battery_soc_max": "kWh",
    "battery_end_level": "kWh",
    "storage_capacity": "kWh_th",
    "storage_end_level": "kWh_th",
    "network_limit": "kW-eq",
    "self_consumption_target": "kWh",
    "export_target": "kWh",
}

_DETAIL = {
    "grid_import_limit": "import above the connection's limit (or a grid event's): loads exceed "
    "what the park can supply within it",
    "heat_unmet": "heat demand no asset could serve",
    "battery_soc_min": "SoC below its window (a measured SoC outside it, brought back in)",
    "battery_soc_max": "SoC above its window",
    "battery_end_level": "battery ends the horizon below its starting SoC",
    "storage_capacity": "thermal storage above its capacity",
    "storage_end_level": "thermal storage ends the horizon below its starting level",
    "network_limit": "linear network limit (loading or voltage) exceeded",
    "self_consumption_target": "renewable self-consumption below the policy target over the "
    "horizon",
    "export_target": "export above the policy target over the horizon",
}


def _labels(
    site: Site, name: str, rows: int, linear: LinearNetwork | None, network_rows: tuple[int, ...]
) -> list[str]:
    a = site.assets
    names = {
        "heat_unmet": [d.name for d in a.heat_demands],
        "battery_soc_min": [b.name for b in a.batteries],
        "battery_soc_max": [b.name for b in a.batteries],
        "battery_end_level": [b.name for b in a.batteries],
        "storage_capacity": [s.name for s in a.thermal_storage],
        "storage_end_level": [s.name for s in a.thermal_storage],
    }.get(name)
    if name == "network_limit" and linear is not None:
        names = [linear.rows[r].element for r in network_rows]
    if names is None or len(names) != rows:
        return [name] * rows
    return [f"{name}[{n}]" for n in names]


def relaxations_from(
    site: Site,
    inputs: DispatchInputs,
    dispatch: Dispatch | None,
    linear: LinearNetwork | None,
    network_rows: tuple[int, ...],
    verification: Verification | None,
) -> tuple[Relaxation, ...]:
    found: list[Relaxation] = [Relaxation("data", 0.0, "", (), issue) for issue in inputs.issues]
    index = inputs.index
    if dispatch is not None:
        for name, values in dispatch.slacks.items():
            values = np.asarray(values, dtype=float)
            unit = _UNITS.get(name, "")
            detail = _DETAIL.get(name, "")
            if values.ndim <= 1 and (values.ndim == 0 or values.shape[0] != len(index)):
                flat = np.atleast_1d(values)
                for label, amount in zip(
                    _labels(site, name, flat.size, linear, network_rows), flat, strict=True
                ):
                    if amount > SLACK_TOL:
                        found.append(Relaxation(label, float(amount), unit, (), detail))
                continue
            matrix = (
                values.reshape(-1, len(index)) if values.size else values.reshape(0, len(index))
            )
            grouped: dict[str, np.ndarray] = {}
            for label, row in zip(
                _labels(site, name, matrix.shape[0], linear, network_rows), matrix, strict=True
            ):
                grouped[label] = np.maximum(grouped.get(label, np.zeros(len(index))), row)
            for label, row in grouped.items():
                where = row > SLACK_TOL
                if where.any():
                    intervals = tuple(pd.Timestamp(t) for t in index[where])
                    found.append(Relaxation(label, float(row.max()), unit, intervals, detail))
    if verification is not None and not verification.ok:
        found += _ac_relaxations(verification.violations)
    return tuple(found)


def _ac_relaxations(violations: pd.DataFrame) -> list[Relaxation]:
    """One relaxation per (element, quantity) the AC check still finds broken, in their sorted
    order, with the intervals in the table's order (as ``groupby`` gives them, without
    building a frame per group)."""
    values = pd.to_numeric(violations["value"], errors="coerce").to_numpy(dtype=float)
    limits = pd.to_numeric(violations["limit"], errors="coerce").to_numpy(dtype=float)
    intervals = violations["interval"].tolist()
    groups: dict[tuple[str, str], list[int]] = {}
    keys = zip(violations["element"].tolist(), violations["quantity"].tolist(), strict=True)
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    found = []
    for (element, quantity), rows in sorted(groups.items()):
        value, limit = values[rows], limits[rows]
        excess = float(np.nanmax(np.abs(value - limit))) if (~np.isnan(value)).any() else np.nan
        found.append(
            Relaxation(
                f"ac_network_check[{element} {quantity}]",
                excess,
                str(quantity).rsplit("_", 1)[-1],
                tuple(pd.Timestamp(intervals[row]) for row in rows),
                "AC power flow of the final plan still exceeds this limit",
            )
        )
    return found
