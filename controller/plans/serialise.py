"""Plans as JSON (everything, round-trips) and CSV (the per-interval frame).

Column names carry their units (``grid_import_kw``, ``battery_bess_soc_kwh``); times are
ISO 8601 with their UTC offset, each labelling the start of its interval.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from controller.kinds import Solver
from controller.plans.kpi import Kpis
from controller.plans.plan import (
    Binding,
    NetworkSummary,
    Plan,
    PlanKind,
    PlanMetadata,
    PlanStatus,
    Relaxation,
)

FORMAT_VERSION = 1
INDEX_NAME = "interval_start"


def _number(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _time(value: datetime | pd.Timestamp | None) -> str | None:
    return None if value is None else pd.Timestamp(value).isoformat()


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    meta = plan.metadata
    frame = plan.frame
    metadata = {
        "site_id": meta.site_id,
        "kind": meta.kind.value,
        "version": meta.version,
        "created_at": _time(meta.created_at),
        "forecast_issued_at": _time(meta.forecast_issued_at),
        "input_hash": meta.input_hash,
        "code_version": meta.code_version,
        "solver": meta.solver,
        "status": meta.status.value,
        "solve_time_s": meta.solve_time_s,
        "objective_terms": {k: _number(v) for k, v in meta.objective_terms.items()},
        "network": {
            k: _number(v) if not isinstance(v, tuple) else list(v)
            for k, v in asdict(meta.network).items()
        },
        "ac_rounds": meta.ac_rounds,
        "month_peak_import_kw": meta.month_peak_import_kw,
        "initial_battery_soc_kwh": dict(meta.initial_battery_soc_kwh),
        "initial_storage_level_kwh_th": dict(meta.initial_storage_level_kwh_th),
        "notes": list(meta.notes),
        "forecast_fallbacks": dict(meta.forecast_fallbacks),
        "connection_netted_kwh": meta.connection_netted_kwh,
        "connection_netted_cny": meta.connection_netted_cny,
    }
    return {
        "format_version": FORMAT_VERSION,
        "metadata": metadata,
        "kpis": {k: _number(v) for k, v in plan.kpis.as_dict().items()},
        "relaxations": [
            {
                "constraint": r.constraint,
                "amount": _number(r.amount),
                "unit": r.unit,
                "intervals": [_time(t) for t in r.intervals],
                "detail": r.detail,
            }
            for r in plan.relaxations
        ],
        "binding": [
            {"constraint": b.constraint, "intervals": b.intervals, "first": _time(b.first)}
            for b in plan.binding
        ],
        "intervals": {
            "timezone": str(pd.DatetimeIndex(frame.index).tz),
            INDEX_NAME: [_time(t) for t in frame.index],
            "columns": {c: [_number(v) for v in frame[c].tolist()] for c in frame.columns},
        },
    }


def plan_to_json(plan: Plan, indent: int | None = None) -> str:
    return json.dumps(plan_to_dict(plan), indent=indent, allow_nan=False)


def plan_to_csv(plan: Plan) -> str:
    """The per-interval frame; the first column is the interval start (ISO 8601)."""
    frame = plan.frame
    frame.index = pd.Index([_time(t) for t in frame.index], name=INDEX_NAME)
    buffer = io.StringIO()
    frame.to_csv(buffer, float_format="%.6f")
    return buffer.getvalue()


def _stamp(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text)


def plan_from_dict(data: dict[str, Any]) -> Plan:
    m = data["metadata"]
    network = m["network"]
    values: dict[str, Any] = {}
    for f in fields(NetworkSummary):
        value = network[f.name]
        if isinstance(value, list):
            value = tuple(value)
        values[f.name] = float("nan") if value is None else value
    summary = NetworkSummary(**values)
    created = _stamp(m["created_at"])
    issued = _stamp(m["forecast_issued_at"])
    metadata = PlanMetadata(
        site_id=m["site_id"],
        kind=PlanKind(m["kind"]),
        version=int(m["version"]),
        created_at=created.to_pydatetime() if created is not None else datetime.min,
        forecast_issued_at=issued.to_pydatetime() if issued is not None else None,
        input_hash=m["input_hash"],
        code_version=m["code_version"],
        solver=Solver(m["solver"]),
        status=PlanStatus(m["status"]),
        solve_time_s=float(m["solve_time_s"]),
        objective_terms={
            k: float("nan") if v is None else v for k, v in m["objective_terms"].items()
        },
        network=summary,
        ac_rounds=int(m["ac_rounds"]),
        month_peak_import_kw=float(m["month_peak_import_kw"]),
        initial_battery_soc_kwh=m["initial_battery_soc_kwh"],
        initial_storage_level_kwh_th=m["initial_storage_level_kwh_th"],
        notes=tuple(m["notes"]),
        forecast_fallbacks=m.get("forecast_fallbacks", {}),  # absent before they were kept
        connection_netted_kwh=float(m.get("connection_netted_kwh", 0.0)),
        connection_netted_cny=float(m.get("connection_netted_cny", 0.0)),
    )
    intervals = data["intervals"]
    index = pd.DatetimeIndex([pd.Timestamp(t) for t in intervals[INDEX_NAME]])
    zone = intervals.get("timezone")
    if zone and zone != "None" and len(index):
        index = index.tz_convert(zone)
    frame = pd.DataFrame(
        {
            c: [np.nan if v is None else v for v in values]
            for c, values in intervals["columns"].items()
        },
        index=index,
    )
    kpis = Kpis(**{k: float("nan") if v is None else v for k, v in data["kpis"].items()})
    relaxations = tuple(
        Relaxation(
            r["constraint"],
            float("nan") if r["amount"] is None else r["amount"],
            r["unit"],
            tuple(pd.Timestamp(t) for t in r["intervals"]),
            r["detail"],
        )
        for r in data["relaxations"]
    )
    binding = tuple(
        Binding(b["constraint"], int(b["intervals"]), _stamp(b["first"])) for b in data["binding"]
    )
    return Plan(metadata, frame, kpis, relaxations, binding)


def plan_from_json(text: str) -> Plan:
    return plan_from_dict(json.loads(text))
