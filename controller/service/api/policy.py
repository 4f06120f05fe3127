"""``/api/v1/sites/{id}/policy``: the renewable self-consumption and export ratios of the year
and the month so far from measurements, against the policy targets, with the export budget
left this year (:mod:`controller.service.tracking`), for the operator, the utility and the
authorities."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from controller.service import db
from controller.service.api.deps import ServiceDep, UtilitySite
from controller.service.tracking import policy_tracking

router = APIRouter(prefix="/api/v1/sites/{site_id}/policy", tags=["kpis"])


class MeasuredPeriodOut(BaseModel):
    start: datetime
    end: datetime
    intervals: int
    intervals_measured: int
    intervals_export_metered: int
    renewable_available_kwh: float
    renewable_available_export_metered_kwh: float
    renewable_used_on_site_kwh: float | None
    export_kwh: float | None
    self_consumption_ratio: float | None
    export_ratio: float | None
    missing: list[str]
    peak_import_kw: float | None


class PolicyTrackingOut(BaseModel):
    site_id: str
    at: datetime
    timezone: str
    min_self_consumption_ratio: float
    max_export_ratio: float
    year_to_date: MeasuredPeriodOut
    month_to_date: MeasuredPeriodOut
    remaining_export_budget_kwh: float | None
    demand_charge_cny_per_kw_month: float


@router.get("", response_model=PolicyTrackingOut)
def policy(
    site: UtilitySite,
    service: ServiceDep,
    at: Annotated[
        AwareDatetime | None, Query(description="up to this moment (default: now)")
    ] = None,
) -> PolicyTrackingOut:
    """Year to date and month to date, on the park's local calendar; ratios are ``null``
    (and ``missing`` names the series) where no meter posted what they need."""
    with db.read(service.engine) as connection:
        found = policy_tracking(connection, site, at or service.now())
    return PolicyTrackingOut.model_validate(asdict(found))
