"""``/api/v1/sites/{id}/measurements``: batch ingestion, reading back, and deleting a period.

A batch is checked whole before anything is written: every point's series must be one the
park has (see :mod:`controller.service.validation`), its timestamp an ISO 8601 string with
a UTC offset on the quarter-hour grid and within the accepted window around now, its value
a JSON number (not a boolean) that is finite, within the series' physical bound and
plausible (no PV at night, no state of charge moving faster than the battery can), and a
``unit``, if given, the series' own. One bad point rejects the batch with 422 listing every
problem (its index, series, time, value, the field at fault and the rule); a good batch is
upserted in one transaction (posting a point again replaces its value).

An operator deletes the points of a period (``DELETE``, with a reason): the deletion is
recorded with the key that made it (``GET .../measurements/deletions``). A correction is a
deletion followed by a post of the right values.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat

from controller.service import db
from controller.service.api.deps import OperatorKey, OperatorSite, ServiceDep
from controller.service.errors import SERVICE_UNAVAILABLE, Refusal, refuse
from controller.service.field import records as field_records
from controller.service.store import measurements as measurement_store
from controller.service.store.measurements import Deletion, Point
from controller.service.validation import Bound, Window, bounds_of, check_points, soc_series
from sites import Site

router = APIRouter(prefix="/api/v1/sites/{site_id}/measurements", tags=["measurements"])
MAX_BATCH_POINTS = 100_000
"""No batch is longer (checked while parsing); ``max_measurement_batch`` may set less."""
EARLIEST_QUERY = datetime(1970, 1, 1).astimezone()
LATEST_QUERY_YEAR = 2200


def _iso_text(value: Any) -> Any:
    """A time must be sent as ISO 8601 text: a number (a Unix timestamp) is refused."""
    if not isinstance(value, str):
        raise ValueError(
            f"must be an ISO 8601 string with a UTC offset such as 2026-03-02T00:15:00+08:00, "
            f"not a {type(value).__name__}"
        )
    return value


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain a NUL byte (\\u0000)")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
Text = Annotated[str, BeforeValidator(_no_nul)]


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    series: Text = Field(max_length=96, examples=["pv_roof_kw"])
    ts: IsoTime = Field(description="interval start, ISO 8601 text with a UTC offset")
    value: StrictFloat | Annotated[int, Field(strict=True)] = Field(
        description="a JSON number in the series' unit (true/false are refused)"
    )
    unit: Text | None = Field(
        default=None,
        max_length=16,
        description="optional; if given it must be the series' own unit (kW, kW_th, kWh, "
        "degC): values are never converted",
    )


class MeasurementBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[MeasurementIn] = Field(min_length=1, max_length=MAX_BATCH_POINTS)


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


def _window(service: Any) -> Window:
    now = service.now()
    settings = service.settings
    return Window(
        now - timedelta(days=settings.measurement_max_age_days),
        now + timedelta(seconds=settings.measurement_future_skew_s),
    )


REJECTED = {"model": Refusal, "description": "rejected points (nothing was written)"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Accepted,
    responses={
        404: {"description": "unknown park"},
        413: {"model": Refusal, "description": "too many points in one batch"},
        422: {"description": "rejected points: detail.problems names each"},
        **SERVICE_UNAVAILABLE,
    },
)
def post_measurements(site: OperatorSite, batch: MeasurementBatch, service: ServiceDep) -> Accepted:
    """Validate the whole batch, then upsert it in one transaction."""
    limit = service.settings.max_measurement_batch
    if len(batch.points) > limit:
        raise refuse(
            status.HTTP_413_CONTENT_TOO_LARGE,
            "batch_too_large",
            f"{len(batch.points)} points in one batch",
            "points",
            len(batch.points),
            f"at most {limit} points per batch",
        )
    bounds = bounds_of(site)
    raw = [(p.series, p.ts, float(p.value)) for p in batch.points]
    unit_problems: list[dict[str, Any]] = [
        {
            "index": i,
            "series": p.series,
            "ts": p.ts.isoformat(),
            "value": p.unit,
            "field": "unit",
            "rule": f"unit {p.unit!r} is not the series' unit {bounds[p.series].unit!r}; send "
            f"the value in {bounds[p.series].unit} (values are never converted)",
        }
        for i, p in enumerate(batch.points)
        if p.unit is not None and p.series in bounds and p.unit != bounds[p.series].unit
    ]
    if service.settings.measurement_plausibility_checks:
        before = _stored_before(service, site, bounds, raw)
        location = (site.location.latitude, site.location.longitude)
        problems = check_points(bounds, raw, _window(service), location, before)
    else:
        problems = check_points(bounds, raw, _window(service), None, None, soc_steps=False)
    listed: list[dict[str, Any]] = [
        {
            "index": p.index,
            "series": p.series,
            "ts": p.ts,
            "value": p.value,
            "field": p.field,
            "rule": p.rule,
        }
        for p in problems
    ]
    listed = sorted(listed + unit_problems, key=lambda p: int(p["index"]))
    if listed:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "code": "points_rejected",
                "message": f"{len(listed)} problem(s); nothing was written",
                "problems": listed[:100],
            },
        )
    points = [Point(s, t, v) for s, t, v in raw]
    with db.write(service.engine) as connection:
        measurement_store.upsert(connection, site.id, points)
    service.metrics.measurements.labels(site.id).inc(len(points))
    return Accepted(site_id=site.id, accepted=len(points))


def _stored_before(
    service: Any, site: Site, bounds: dict[str, Bound], raw: list[tuple[str, datetime, float]]
) -> dict[str, tuple[datetime, float]]:
    """Per battery SoC series in the batch: the stored point just before its first one."""
    firsts: dict[str, datetime] = {}
    for series, ts, _ in raw:
        if series in soc_series(bounds) and ts.utcoffset() is not None:
            firsts[series] = min(ts, firsts.get(series, ts))
    if not firsts:
        return {}
    found = {}
    with db.read(service.engine) as connection:
        for series, first in firsts.items():
            point = measurement_store.latest(connection, site.id, series, first)
            if point is not None:
                found[series] = (point.ts, point.value)
    return found


def _query_time(name: str, value: datetime) -> None:
    if not value >= EARLIEST_QUERY or value.year >= LATEST_QUERY_YEAR:
        raise refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "time_out_of_range",
            f"{name} is outside the times the store holds",
            f"query.{name}",
            value.isoformat(),
            f"a time from 1970-01-01 to before {LATEST_QUERY_YEAR}-01-01",
        )


def _check_series(site: Site, series: list[str] | None) -> None:
    if series is None:
        return
    known = bounds_of(site)
    unknown = [s for s in series if s not in known]
    if unknown:
        raise refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "unknown_series",
            f"{site.id} has no series {unknown[0]!r}",
            "query.series",
            unknown[0],
            f"one of {', '.join(sorted(known))}",
        )


def _check_period(start: datetime, end: datetime) -> None:
    _query_time("start", start)
    _query_time("end", end)
    if end <= start:
        raise refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "empty_period",
            "end must be after start",
            "query.end",
            end.isoformat(),
            f"a time after {start.isoformat()}",
        )


PERIOD_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"model": Refusal, "description": "a period or series not accepted"}
}


@router.get(
    "",
    response_model=list[MeasurementOut],
    response_model_exclude_none=True,
    responses={**PERIOD_REFUSED, **SERVICE_UNAVAILABLE},
)
def get_measurements(
    site: OperatorSite,
    service: ServiceDep,
    start: Annotated[AwareDatetime, Query(description="first interval start (inclusive)")],
    end: Annotated[AwareDatetime, Query(description="last interval start (exclusive)")],
    series: Annotated[list[str] | None, Query(description="repeat for several")] = None,
) -> list[MeasurementOut]:
    _check_period(start, end)
    _check_series(site, series)
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


@router.delete("", response_model=Deletion, responses={**PERIOD_REFUSED, **SERVICE_UNAVAILABLE})
def delete_measurements(
    site: OperatorSite,
    principal: OperatorKey,
    service: ServiceDep,
    start: Annotated[AwareDatetime, Query(description="first interval start (inclusive)")],
    end: Annotated[AwareDatetime, Query(description="last interval start (exclusive)")],
    reason: Annotated[str, Query(min_length=3, max_length=500, description="why (audited)")],
    series: Annotated[list[str] | None, Query(description="default: every series")] = None,
) -> Deletion:
    """Delete the points of a period (bad data), recorded with the key and the reason."""
    _check_period(start, end)
    _check_series(site, series)
    with db.write(service.engine) as connection:
        made = measurement_store.delete_period(
            connection, site.id, series, start, end, reason, principal.key_id, service.now()
        )
    return made


@router.get("/deletions", response_model=list[Deletion], responses={**SERVICE_UNAVAILABLE})
def measurement_deletions(site: OperatorSite, service: ServiceDep) -> list[Deletion]:
    """The deletions made in this park's measurements, newest first (the audit trail)."""
    with db.read(service.engine) as connection:
        made = measurement_store.deletions(connection, site.id)
    return made
