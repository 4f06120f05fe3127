"""``/api/v1/sites/{id}/forecasts/latest``: the newest stored forecast (every quantile)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from controller.service import db
from controller.service.api.deps import OperatorSite, ServiceDep
from controller.service.jsonable import to_jsonable
from controller.service.store import forecasts as forecast_store

router = APIRouter(prefix="/api/v1/sites/{site_id}/forecasts", tags=["forecasts"])


class ForecastOut(BaseModel):
    id: int
    site_id: str
    issued_at: str
    created_at: str
    info: dict[str, Any]
    index: list[str]
    series: dict[str, list[float | None]]


@router.get("/latest", response_model=ForecastOut)
def latest_forecast(site: OperatorSite, service: ServiceDep) -> ForecastOut:
    with db.read(service.engine) as connection:
        stored = forecast_store.latest(connection, site.id, site.location.timezone)
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no forecast for {site.id!r} yet")
    frame = stored.frame
    return ForecastOut(
        id=stored.id,
        site_id=stored.site_id,
        issued_at=stored.issued_at.isoformat(),
        created_at=stored.created_at.isoformat(),
        info=dict(stored.info),
        index=[t.isoformat() for t in frame.index],
        series={str(c): to_jsonable(frame[c].tolist()) for c in frame.columns},
    )
