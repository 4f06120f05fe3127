"""``/api/v1/sites/{id}/measurements``: batch ingestion and reading back by series and period.

A batch is checked whole before anything is written: every point's series must be one the
park has (see :mod:`controller.service.validation`), its timestamp a quarter-hour interval
start with a UTC offset, its value finite and within the series' physical bound. One bad
point rejects the batch with 422 listing every problem; a good batch is upserted in one
transaction (posting a point again replaces its value).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from controller.service import db
from controller.service.api.deps import OperatorSite, ServiceDep
from controller.service.field import records as field_records
from controller.service.store import measurements as measurement_store
from controller.service.store.measurements import Point
from controller.service.validation import Bound, check_points, series_bounds
from sites import Site

router = APIRouter(prefix="/api/v1/sites/{site_id}/measurements", tags=["measurements"])


class MeasurementIn(BaseModel):
    series: str = Field(examples=["pv_roof_kw"])
    ts: AwareDatetime = Field(description="interval start, ISO 8601 with UTC offset")
    value: float = Field(allow_inf_nan=True)


class MeasurementBatch(BaseModel):
    points: list[MeasurementIn] = Field(min_length=1)


class Accepted(BaseModel):
    site_id: str
    accepted: int


class MeasurementOut(BaseModel):
    series: str
    ts: datetime
    value: float
    quality: str | None = Field(
        default=None,
        description="a value read from a field device: its quality flag (good); the flags "
        "of readings that were not stored: GET .../field/readings. Absent: posted over REST",
    )


@cache
def _bounds(site_json: str) -> dict[str, Bound]:
    return series_bounds(Site.model_validate_json(site_json))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Accepted,
    responses={404: {"description": "unknown park"}, 422: {"description": "rejected points"}},
)
def post_measurements(site: OperatorSite, batch: MeasurementBatch, service: ServiceDep) -> Accepted:
    """Validate the whole batch, then upsert it in one transaction."""
    limit = service.settings.max_measurement_batch
    if len(batch.points) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"at most {limit} points per batch")
    raw = [(p.series, p.ts, p.value) for p in batch.points]
    problems = check_points(_bounds(site.model_dump_json()), raw)
    if problems:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": f"{len(problems)} problem(s); nothing was written",
                "problems": [
                    {
                        "index": p.index,
                        "series": p.series,
                        "ts": p.ts,
                        "value": p.value,
                        "rule": p.rule,
                    }
                    for p in problems
                ],
            },
        )
    points = [Point(s, t, v) for s, t, v in raw]
    with db.write(service.engine) as connection:
        measurement_store.upsert(connection, site.id, points)
    service.metrics.measurements.labels(site.id).inc(len(points))
    return Accepted(site_id=site.id, accepted=len(points))


@router.get("", response_model=list[MeasurementOut], response_model_exclude_none=True)
def get_measurements(
    site: OperatorSite,
    service: ServiceDep,
    start: Annotated[AwareDatetime, Query(description="first interval start (inclusive)")],
    end: Annotated[AwareDatetime, Query(description="last interval start (exclusive)")],
    series: Annotated[list[str] | None, Query(description="repeat for several")] = None,
) -> list[MeasurementOut]:
    if end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end must be after start")
    with db.read(service.engine) as connection:
        points = measurement_store.read(connection, site.id, series, start, end)
        flags = {
            (r.series, r.ts): r.quality.value
            for r in field_records.readings(connection, site.id, series, start, end)
        }
    return [
        MeasurementOut(series=p.series, ts=p.ts, value=p.value, quality=flags.get((p.series, p.ts)))
        for p in points
    ]
