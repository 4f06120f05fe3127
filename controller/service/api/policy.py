"""``/api/v1/sites/{id}/policy``: the renewable self-consumption and export ratios of the year
and the month so far from measurements, against the policy targets, with the export budget
left this year (:mod:`controller.service.tracking`), for the operator, the utility and the
authorities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from controller.service import db
from controller.service.api.deps import ServiceDep, UtilitySite
from controller.service.tracking import PolicyTracking, policy_tracking

router = APIRouter(prefix="/api/v1/sites/{site_id}/policy", tags=["kpis"])


@router.get("", response_model=PolicyTracking)
def policy(
    site: UtilitySite,
    service: ServiceDep,
    at: Annotated[
        AwareDatetime | None, Query(description="up to this moment (default: now)")
    ] = None,
) -> PolicyTracking:
    """Year to date and month to date, on the park's local calendar; ratios are ``null``
    (and ``missing`` names the series) where no meter posted what they need."""
    with db.read(service.engine) as connection:
        return policy_tracking(connection, site, at or service.now())
