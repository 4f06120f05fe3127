"""``/health`` (no key) and ``/metrics`` (Prometheus text; operator or admin key).

``/health`` answers 200 with ``status: ok`` or ``status: degraded`` and, per park, the
reasons (a failed last run, no plan in force, a fallback plan, stale measurements, field
alarms and manual modes), the plan in force and the last run of each job, and whether the
plan in force was made on fallback forecasts (``forecast``, ``forecast_fallbacks``: a park
with little or no history); 503 only when the database does not answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from controller.service.api.deps import OperatorKey, ServiceDep
from controller.service.api.operator import run_out
from controller.service.context import Service
from controller.service.field.api import manual_reasons
from controller.service.health import all_health
from controller.service.render import header_json

router = APIRouter(tags=["health"])


def health_document(service: Service) -> tuple[int, dict[str, Any]]:
    try:
        with service.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return status.HTTP_503_SERVICE_UNAVAILABLE, {
            "status": "unavailable",
            "reasons": [f"database does not answer: {type(exc).__name__}"],
        }
    now = service.now()
    parks = {}
    for site_id, h in all_health(service.engine, service.parks, now).items():
        field = service.field_loop.alarms(site_id) if service.field_loop is not None else []
        field += manual_reasons(service, site_id)
        parks[site_id] = {
            "status": "degraded" if h.degraded or field else "ok",
            "reasons": list(h.reasons) + field,
            "plan_in_force": header_json(h.plan_in_force) if h.plan_in_force else None,
            "last_runs": [run_out(r).model_dump(mode="json") for r in h.last_runs],
            "newest_measurement": h.newest_measurement.isoformat()
            if h.newest_measurement
            else None,
            "forecast": "fallback baselines" if h.forecast_fallbacks else "models",
            "forecast_fallbacks": h.forecast_fallbacks,
        }
    degraded = any(p["status"] == "degraded" for p in parks.values())
    return status.HTTP_200_OK, {
        "status": "degraded" if degraded else "ok",
        "time": now.isoformat(),
        "demo": service.settings.demo,
        "sites": parks,
    }


@router.get("/health")
async def health(service: ServiceDep) -> JSONResponse:
    """No key needed. Degraded parks are listed with the reasons."""
    code, document = await run_in_threadpool(health_document, service)
    return JSONResponse(document, status_code=code)


@router.get("/metrics", response_class=Response)
async def metrics(service: ServiceDep, _key: OperatorKey) -> Response:
    body = await run_in_threadpool(service.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
