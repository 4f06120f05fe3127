"""``/health`` (no key) and ``/metrics`` (Prometheus text; operator or admin key).

``/health`` answers 200 with ``status: ok`` or ``status: degraded`` and, per park, the
reasons (a failed last run, no plan in force, a fallback plan, stale measurements, field
alarms and manual modes), the plan in force and the last run of each job, and whether the
plan in force was made on fallback forecasts (``forecast``, ``forecast_fallbacks``: a park
with little or no history); 503 only when the database does not answer.

It answers within :data:`HEALTH_BUDGET_S` whatever the database does: the document is made
in a thread of its own (one at a time, never queued behind the API's work); when that does
not finish in time, the last document made is sent, marked, with the database named as the
failing dependency. ``dependencies.database`` always says what this process saw of the
database lately without asking it (:class:`~controller.service.db.DatabaseState`): writes
waiting for its lock, its last failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from controller.service import db
from controller.service.api.deps import OperatorKey, ServiceDep
from controller.service.api.operator import run_out
from controller.service.auth import Principal
from controller.service.context import Service
from controller.service.field.api import manual_reasons
from controller.service.health import all_health
from controller.service.render import header_json

router = APIRouter(tags=["health"])


HEALTH_BUDGET_S = 0.8
"""How long ``/health`` waits for a fresh document before sending the last one."""
BUSY_AFTER_S = 1.0
PRIME_WITHIN_S = 5.0
"""How long the service's start waits for its first ``/health`` document (it carries on
without it past that; the document is kept when it comes)."""
"""A write waiting this long for the database's lock makes the database "busy"."""


def health_document(service: Service) -> tuple[int, dict[str, Any]]:
    try:
        with service.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        problem = db.classify(exc) or db.DatabaseUnavailable(type(exc).__name__)
        db.state(service.engine).failed(problem)
        return status.HTTP_503_SERVICE_UNAVAILABLE, {
            "status": "unavailable",
            "reasons": [f"database does not answer: {problem.reason}"],
        }
    now = service.now()
    parks = {}
    for site_id, h in all_health(service.engine, service.parks, now, service.alarms()).items():
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
    background = service.recent_background_failures()
    return status.HTTP_200_OK, {
        "status": "degraded" if degraded or background else "ok",
        "background_failures": background,
        "time": now.isoformat(),
        "demo": service.settings.demo,
        "sites": parks,
    }


def database_dependency(service: Service) -> dict[str, Any]:
    """What this process saw of the database lately, without asking it."""
    seen = db.state(service.engine)
    waited = seen.longest_write_wait_s()
    if seen.writers_waiting and waited >= BUSY_AFTER_S:
        return {
            "status": "busy",
            "reason": f"database busy: {seen.writers_waiting} write(s) waiting for its lock "
            f"or not committed yet, the longest for {waited:.1f} s",
        }
    failure = seen.recent_failure()
    if failure is not None:
        return {
            "status": "busy" if isinstance(failure, db.DatabaseBusy) else "down",
            "reason": failure.reason,
        }
    return {"status": "ok"}


class HealthMonitor:
    """Makes ``/health``'s document in a thread of its own, at most one at a time."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
        self._running: Future[tuple[int, dict[str, Any]]] | None = None
        self._last: tuple[int, dict[str, Any], float] | None = None
        self._lock = threading.Lock()

    def _made(self, service: Service) -> tuple[int, dict[str, Any]]:
        try:
            made = health_document(service)
        except db.DatabaseUnavailable as problem:  # it answered the probe, not the queries
            return status.HTTP_503_SERVICE_UNAVAILABLE, {
                "status": "unavailable",
                "reasons": [f"database does not answer: {problem.reason}"],
            }
        if made[0] == status.HTTP_200_OK:
            self._last = (made[0], made[1], time.monotonic())
        return made

    def prime(self, service: Service) -> None:
        """Make the first document as the service starts (waiting up to
        ``PRIME_WITHIN_S``), so that a first ``/health`` that the database is too slow to
        answer within ``HEALTH_BUDGET_S`` sends it, marked with its age, rather than a 503
        for a database that answers."""
        with self._lock:
            running = self._running = self._executor.submit(self._made, service)
        with contextlib.suppress(FutureTimeout):
            running.result(timeout=PRIME_WITHIN_S)

    async def document(self, service: Service) -> tuple[int, dict[str, Any]]:
        with self._lock:
            running = self._running
            if running is None or running.done():
                running = self._running = self._executor.submit(self._made, service)
        try:
            code, document = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(running)), HEALTH_BUDGET_S
            )
        except TimeoutError:
            late = (
                f"database not answering: the health queries did not finish within "
                f"{HEALTH_BUDGET_S:g} s"
            )
            if self._last is None:
                return status.HTTP_503_SERVICE_UNAVAILABLE, {
                    "status": "unavailable",
                    "reasons": [late],
                }
            code, last, made_at = self._last
            document = dict(last)
            document["status"] = "degraded"
            document["reasons"] = [late]
            document["as_of_age_s"] = round(time.monotonic() - made_at, 1)
        document = dict(document)
        dependency = database_dependency(service)
        if code == status.HTTP_503_SERVICE_UNAVAILABLE:
            dependency = {"status": "down", "reason": "; ".join(document.get("reasons", []))}
        elif dependency["status"] != "ok":
            document["status"] = "degraded"
        document["dependencies"] = {"database": dependency}
        return code, document

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@router.get(
    "/health",
    responses={
        503: {"description": "The database does not answer (the reasons say why)"},
    },
)
async def health(service: ServiceDep) -> JSONResponse:
    """No key needed. Degraded parks are listed with the reasons; answers within a second
    (the last document, marked, when the database is too slow to make a new one)."""
    code, document = await service.health.document(service)
    return JSONResponse(document, status_code=code)


@router.get("/metrics", response_class=Response)
async def metrics(service: ServiceDep, key: OperatorKey) -> Response:
    """Prometheus text; a key granted some parks sees only their series."""
    body = await run_in_threadpool(service.metrics.exposition)
    if not key.all_parks:
        body = granted_only(body, key)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


_SITE_LABEL = re.compile(rb'site="([^"]*)"')


def granted_only(body: bytes, key: Principal) -> bytes:
    """The exposition without the samples of parks ``key`` is not granted."""
    kept = []
    for line in body.split(b"\n"):
        found = _SITE_LABEL.search(line)
        if found is None or key.may_see(found.group(1).decode()):
            kept.append(line)
    return b"\n".join(kept)
