"""``/api/v1/.../plans``: the plan in force, plans by kind and date, versions, by id.

JSON or CSV by ``?format=json|csv`` or the ``Accept`` header. Every plan response carries a
strong ``ETag`` made from the stored plan's id and content hash (no re-serialising); a
request with a matching ``If-None-Match`` gets ``304 Not Modified`` and no body. Answers are
cached per (plan id, format) ready to send (:mod:`controller.service.bodies`): a stored plan
never changes. The plan in force is resolved once per park and kept until it may change
(:mod:`controller.service.inforce`); a poll that finds all of it cached is answered before
routing (:mod:`controller.service.fastpath`) with the same bytes as this route sends.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.api.deps import ServiceDep, UtilityKey, UtilitySite
from controller.service.bodies import Encoded, if_none_match
from controller.service.context import Service
from controller.service.render import Format, render
from controller.service.store import plans as plan_store
from controller.service.store.plans import PlanHeader

router = APIRouter(prefix="/api/v1", tags=["plans"])
PLAN_IN_FORCE_PATH = "/sites/{site_id}/plans/current"
MAX_ID = 2**31 - 1
"""Plan ids and versions are 32-bit columns on PostgreSQL: larger numbers are refused (422)
on every database, before the store is asked."""
FormatQuery = Annotated[Format | None, Query(alias="format", description="json (default) or csv")]


class PlanVersion(BaseModel):
    id: int
    version: int
    created_at: str
    status: str
    start: str
    end: str
    etag: str


def negotiate(accept: str | None, fmt: Format | None) -> Format:
    """``?format=`` if given, else CSV when the ``Accept`` header asks for it, else JSON."""
    if fmt is not None:
        return fmt
    accept = accept or ""
    return Format.CSV if "text/csv" in accept and "application/json" not in accept else Format.JSON


class EncodedResponse(Response):
    """A cached plan answer sent as it is (no serialising, no header building)."""

    def __init__(self, encoded: Encoded, not_modified: bool) -> None:
        self.background = None
        if not_modified:
            self.status_code = status.HTTP_304_NOT_MODIFIED
            self.body = b""
            self.raw_headers = list(encoded.not_modified_headers)
        else:
            self.status_code = status.HTTP_200_OK
            self.body = encoded.body
            self.raw_headers = list(encoded.ok_headers)


def answer(request: Request, encoded: Encoded) -> Response:
    not_modified = if_none_match(request.headers.get("if-none-match"), encoded.etag)
    return EncodedResponse(encoded, not_modified)


async def plan_response(
    service: Service, request: Request, header: PlanHeader, fmt: Format | None
) -> Response:
    chosen = negotiate(request.headers.get("accept"), fmt)
    encoded = service.bodies.peek(header.id, chosen)
    if encoded is None:
        encoded = await run_in_threadpool(_encode, service, header, chosen)
    return answer(request, encoded)


def _encode(service: Service, header: PlanHeader, fmt: Format) -> Encoded:
    def make() -> bytes:
        timezone = service.parks.by_id[header.site_id].location.timezone
        with db.read(service.engine) as connection:
            stored = plan_store.load(connection, header.id, timezone)
        assert stored is not None
        return render(stored, fmt)

    return service.bodies.get(header, fmt, make)


class PlanIntervals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str
    interval_start: list[str]
    columns: dict[str, list[float | str | None]] = Field(
        description="one list per column, units in the names (kW, kWh, CNY, kg CO2)"
    )


class PlanDocument(BaseModel):
    """A stored plan as JSON: the store's identity of it, then the planner's serialisation
    (documentation of what the plan routes send; they send it without re-validating it)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    site_id: str
    kind: PlanKind
    date: str
    version: int
    created_at: str
    status: str
    start: str
    end: str
    n_intervals: int
    content_hash: str
    format_version: int
    metadata: dict[str, Any] = Field(description="provenance: code version, solver, inputs")
    kpis: dict[str, Any]
    relaxations: list[Any]
    binding: list[Any]
    intervals: PlanIntervals


PLAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": PlanDocument,
        "description": "The plan as JSON (default) or CSV (one row per interval), with a "
        "strong ETag",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    304: {"description": "Not modified: the ETag sent in If-None-Match is still current"},
    404: {"description": "No such plan"},
}


@router.get(PLAN_IN_FORCE_PATH, responses=PLAN_RESPONSES)
async def plan_in_force(
    site: UtilitySite, request: Request, service: ServiceDep, fmt: FormatQuery = None
) -> Response:
    """The plan in force now: the newest plan whose horizon covers this moment.

    Answered from memory while the plan in force is unchanged (see
    :mod:`controller.service.inforce`); the same answer, byte for byte, as from the store.
    """
    resolved = service.in_force.peek(site.id)
    if resolved is None:
        # shared only with lookups begun since the last plan was stored (same generation)
        key = (site.id, service.in_force.generation)
        resolved = await service.in_force_flight.run(key, lambda: service.in_force.resolve(site.id))
    if resolved.header is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan in force for {site.id!r}")
    response = await plan_response(service, request, resolved.header, fmt)
    if resolved.stale is not None:
        age = (service.now() - resolved.resolved_at).total_seconds() if resolved.resolved_at else 0
        response.headers["Warning"] = f'110 - "stale: {_ascii(resolved.stale)[:200]}"'
        response.headers["X-Plan-Resolved-Age"] = f"{max(age, 0.0):.0f}"
    return response


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace('"', "'")


@router.get(
    "/sites/{site_id}/plans/{kind}/{plan_date}",
    responses=PLAN_RESPONSES,
)
async def plan_for_date(
    site: UtilitySite,
    kind: PlanKind,
    plan_date: date,
    request: Request,
    service: ServiceDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="default: the latest")
    ] = None,
    fmt: FormatQuery = None,
) -> Response:
    """The latest version (or ``version``) of a park's plan of ``kind`` for a local date."""

    def lookup() -> PlanHeader | None:
        with db.read(service.engine) as connection:
            return plan_store.for_date(connection, site.id, kind, plan_date, version)

    header = await run_in_threadpool(lookup)
    if header is None:
        which = f"version {version}" if version else "any version"
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no {kind.value} plan for {site.id} on {plan_date} ({which})",
        )
    return await plan_response(service, request, header, fmt)


@router.get("/sites/{site_id}/plans/{kind}/{plan_date}/versions", response_model=list[PlanVersion])
def plan_versions(
    site: UtilitySite, kind: PlanKind, plan_date: date, service: ServiceDep
) -> list[PlanVersion]:
    """Every stored version, oldest first."""
    with db.read(service.engine) as connection:
        headers = plan_store.versions(connection, site.id, kind, plan_date)
    return [
        PlanVersion(
            id=h.id,
            version=h.version,
            created_at=h.created_at.isoformat(),
            status=h.status,
            start=h.start.isoformat(),
            end=h.end.isoformat(),
            etag=h.etag,
        )
        for h in headers
    ]


@router.get("/plans/{plan_id}", responses=PLAN_RESPONSES)
async def plan_by_id(
    plan_id: Annotated[int, Path(ge=1, le=MAX_ID, description="a stored plan's id")],
    request: Request,
    service: ServiceDep,
    principal: UtilityKey,
    fmt: FormatQuery = None,
) -> Response:
    """A stored plan by id (the key must be granted its park; else 404, as for no plan)."""

    def lookup() -> PlanHeader | None:
        with db.read(service.engine) as connection:
            return plan_store.get_header(connection, plan_id)

    header = await run_in_threadpool(lookup)
    if header is None or not principal.may_see(header.site_id):
        # a plan of a park the key is not granted is "no plan": its existence is not told
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan {plan_id} for this key")
    return await plan_response(service, request, header, fmt)
