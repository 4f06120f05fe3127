"""``/api/v1/sites``: the parks this key may see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from controller.service.api.deps import ServiceDep, UtilityKey, UtilitySite
from sites import Site

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])


class SiteSummary(BaseModel):
    id: str
    name: str
    timezone: str
    day_ahead_gate_time: str
    import_limit_kw: float
    export_limit_kw: float
    min_self_consumption_ratio: float
    max_export_ratio: float


class SiteDetail(SiteSummary):
    description: str
    config: dict[str, Any]
    """The park's full validated description (assets, network, tariff)."""


def summary(site: Site) -> SiteSummary:
    return SiteSummary(
        id=site.id,
        name=site.name,
        timezone=site.location.timezone,
        day_ahead_gate_time=site.day_ahead_gate_time,
        import_limit_kw=site.grid_connection.import_limit_kw,
        export_limit_kw=site.grid_connection.export_limit_kw,
        min_self_consumption_ratio=site.policy.min_self_consumption_ratio,
        max_export_ratio=site.policy.max_export_ratio,
    )


@router.get("", response_model=list[SiteSummary])
def list_sites(service: ServiceDep, principal: UtilityKey) -> list[SiteSummary]:
    """The parks this key is granted."""
    return [summary(s) for s in service.parks.by_id.values() if principal.may_see(s.id)]


@router.get("/{site_id}", response_model=SiteDetail)
def site_detail(site: UtilitySite) -> SiteDetail:
    return SiteDetail(
        **summary(site).model_dump(),
        description=site.description,
        config=site.model_dump(mode="json"),
    )
