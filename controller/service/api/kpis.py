"""``/api/v1/sites/{id}/kpis``: key figures over a period, by the planner's own definitions.

The frame the KPIs are computed from is, per interval of the period, the row of the plan
that was in force at that interval (the newest plan covering it made before it ended): what
the park was dispatched to do. :func:`controller.plans.kpi.compute_kpis` then applies exactly the
definitions every plan and replay uses.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel

from controller.plans.kpi import compute_kpis
from controller.service import db
from controller.service.api.deps import ServiceDep, UtilitySite
from controller.service.store import plans as plan_store

router = APIRouter(prefix="/api/v1/sites/{site_id}/kpis", tags=["kpis"])
MAX_PERIOD = pd.Timedelta(days=92)


class KpiReport(BaseModel):
    site_id: str
    start: str
    end: str
    intervals: int
    """Intervals of the period some plan covered (the KPIs are over these)."""
    kpis: dict[str, float]
    meets_self_consumption_target: bool
    meets_export_target: bool


@router.get("", response_model=KpiReport)
def kpis(
    site: UtilitySite,
    service: ServiceDep,
    start: Annotated[AwareDatetime, Query(description="period start (inclusive)")],
    end: Annotated[AwareDatetime, Query(description="period end (exclusive)")],
) -> KpiReport:
    if end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end must be after start")
    if pd.Timestamp(end) - pd.Timestamp(start) > MAX_PERIOD:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"a period is at most {MAX_PERIOD.days} days"
        )
    with db.read(service.engine) as connection:
        frame = plan_store.stitched(connection, site.id, start, end, site.location.timezone)
    if frame.empty:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no plan of {site.id!r} covers {start}..{end}"
        )
    result = compute_kpis(site, frame)
    return KpiReport(
        site_id=site.id,
        start=start.isoformat(),
        end=end.isoformat(),
        intervals=len(frame),
        kpis=result.as_dict(),
        meets_self_consumption_target=result.meets_self_consumption_target,
        meets_export_target=result.meets_export_target,
    )
