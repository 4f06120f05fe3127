"""A stored plan as a JSON or CSV document (what the API serves; bytes, cached per plan).

Both are the planner's own serialisations (:mod:`controller.plans.serialise`): JSON is the store's
identity of the plan (id, park, kind, date, version, status, content hash) followed by
``plan_to_dict`` (metadata with provenance, KPIs with the policy targets, relaxations,
binding constraints, and the interval columns on the park's clock); CSV is ``plan_to_csv``
(one row per interval, ``interval_start`` first, units in the column names).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from controller.plans.serialise import plan_to_csv
from controller.service.store.plans import PlanHeader, StoredPlan


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        return "application/json" if self is Format.JSON else "text/csv; charset=utf-8"


def header_json(header: PlanHeader) -> dict[str, Any]:
    return {
        "id": header.id,
        "site_id": header.site_id,
        "kind": header.kind.value,
        "date": header.plan_date.isoformat(),
        "version": header.version,
        "created_at": header.created_at.isoformat(),
        "status": header.status,
        "start": header.start.isoformat(),
        "end": header.end.isoformat(),
        "n_intervals": header.n_rows,
        "content_hash": header.content_hash,
    }


def plan_json(plan: StoredPlan) -> bytes:
    """The store's identity of the plan, then the planner's own serialisation of it."""
    document = header_json(plan.header) | plan.document()
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def plan_csv(plan: StoredPlan) -> bytes:
    return plan_to_csv(plan.plan()).encode()


def render(plan: StoredPlan, fmt: Format) -> bytes:
    return plan_json(plan) if fmt is Format.JSON else plan_csv(plan)
