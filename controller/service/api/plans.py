"""``/api/v1/.../plans``: the plan in force, plans by kind and date, versions, by id.

JSON or CSV by ``?format=json|csv`` or the ``Accept`` header. Every plan response carries a
strong ``ETag`` made from the stored plan's id and content hash (no re-serialising); a
request with a matching ``If-None-Match`` gets ``304 Not Modified`` and no body. Bodies are
cached per plan id: a stored plan never changes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from controller.plan import PlanKind
from controller.service import db
from controller.service.api.deps import ServiceDep, UtilityKey, UtilitySite
from controller.service.context import Service
from controller.service.render import Format, render
from controller.service.store import plans as plan_store
from controller.service.store.plans import PlanHeader

router = APIRouter(prefix="/api/v1", tags=["plans"])
FormatQuery = Annotated[Format | None, Query(alias="format", description="json (default) or csv")]


class PlanVersion(BaseModel):
    id: int
    version: int
    created_at: str
    status: str
    start: str
    end: str
    etag: str


def negotiate(request: Request, fmt: Format | None) -> Format:
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    return Format.CSV if "text/csv" in accept and "application/json" not in accept else Format.JSON


def _matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    return given.strip() == "*" or etag in [t.strip() for t in given.split(",")]


async def plan_response(
    service: Service, request: Request, header: PlanHeader, fmt: Format | None
) -> Response:
    chosen = negotiate(request, fmt)
    etag = f'{header.etag[:-1]}-{chosen.value}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Accept"}
    if _matches(request, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = service.bodies.peek(header.id, chosen.value)
    if body is None:
        body = await run_in_threadpool(_render, service, header, chosen)
    return Response(body, media_type=chosen.media_type, headers=headers)


def _render(service: Service, header: PlanHeader, fmt: Format) -> bytes:
    def make() -> bytes:
        timezone = service.parks.by_id[header.site_id].location.timezone
        with db.read(service.engine) as connection:
            stored = plan_store.load(connection, header.id, timezone)
        assert stored is not None
        return render(stored, fmt)

    return service.bodies.get(header.id, fmt.value, make)


@router.get(
    "/sites/{site_id}/plans/current",
    responses={200: {"content": {"text/csv": {}}}, 304: {}, 404: {}},
)
async def plan_in_force(
    site: UtilitySite, request: Request, service: ServiceDep, fmt: FormatQuery = None
) -> Response:
    """The plan in force now: the newest plan whose horizon covers this moment."""
    hit, header = service.cached_in_force(site.id)
    if not hit:
        header = await run_in_threadpool(service.in_force, site.id)
    if header is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan in force for {site.id!r}")
    return await plan_response(service, request, header, fmt)


@router.get(
    "/sites/{site_id}/plans/{kind}/{plan_date}",
    responses={200: {"content": {"text/csv": {}}}, 304: {}, 404: {}},
)
async def plan_for_date(
    site: UtilitySite,
    kind: PlanKind,
    plan_date: date,
    request: Request,
    service: ServiceDep,
    version: Annotated[int | None, Query(ge=1, description="default: the latest")] = None,
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


@router.get("/plans/{plan_id}", responses={200: {"content": {"text/csv": {}}}, 304: {}, 404: {}})
async def plan_by_id(
    plan_id: int,
    request: Request,
    service: ServiceDep,
    principal: UtilityKey,
    fmt: FormatQuery = None,
) -> Response:
    """A stored plan by id (the key must be granted its park)."""

    def lookup() -> PlanHeader | None:
        with db.read(service.engine) as connection:
            return plan_store.get_header(connection, plan_id)

    header = await run_in_threadpool(lookup)
    if header is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan {plan_id}")
    if not principal.may_see(header.site_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"this key is not granted {header.site_id!r}"
        )
    return await plan_response(service, request, header, fmt)
