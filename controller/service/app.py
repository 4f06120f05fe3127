"""The FastAPI application: store, scheduler, demo feeder, API and dashboard in one process.

:func:`create_app` opens the store (running migrations), records the parks and builds the
service; starting the app (its lifespan) starts the background work: the store watcher
(:mod:`controller.service.watch`), the forecast worker processes
(:mod:`controller.service.fitpool`), then in a background thread the start-up sequence
(:mod:`controller.service.startup`: demo backfill, scheduler, catch-up of every park at
once). Tests build the app with ``scheduler=False`` and drive it directly.

GET plan-in-force is answered from memory while nothing changed: the app
(:class:`~controller.service.fastpath.ServiceApp`) first offers every request to
:class:`~controller.service.fastpath.PlanInForceFastPath`, which hands everything it cannot
answer from its caches to the framework and the routes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.service import apidocs, db, errors, migrate, openapi_errors
from controller.service.api import (
    forecasts,
    health,
    keys,
    kpis,
    measurements,
    operator,
    plans,
    policy,
)
from controller.service.api import sites as sites_api
from controller.service.api.health import HealthMonitor
from controller.service.auth import KeyVerifier, Role, create_key
from controller.service.bodies import BodyCache
from controller.service.context import Service
from controller.service.dashboard import mount
from controller.service.door import Door
from controller.service.fastpath import PlanInForceFastPath, ServiceApp
from controller.service.feeder import ReplayFeeder
from controller.service.field import wiring
from controller.service.field.api import router as field_router
from controller.service.field.metrics import FieldMetrics
from controller.service.fitpool import ForecastFitter
from controller.service.gridevents.api import router as grid_events_router
from controller.service.gridevents.rule import connection_caps_at, plan_limits
from controller.service.health import all_health
from controller.service.inforce import PlansInForce
from controller.service.metrics import Metrics
from controller.service.parks import load_parks
from controller.service.pipeline import Pipeline, chained
from controller.service.planpool import Planner
from controller.service.prices.api import router as prices_router
from controller.service.prices.rule import plan_prices
from controller.service.runner import Clock, Runner, utc_now
from controller.service.scheduler import Scheduler
from controller.service.settings import ServiceSettings
from controller.service.startup import start_up
from controller.service.store import keys as key_store
from controller.service.store import runs as run_store
from controller.service.store.sites import upsert_sites
from controller.service.watch import StoreWatcher

log = logging.getLogger(__name__)
DEMO_KEY_LABEL = "demo dashboard (read-only, made at start)"
API_VERSION = "1"


@dataclass
class Background:
    """What the app's lifespan starts and stops."""

    scheduler: Scheduler | None = None
    thread: threading.Thread | None = None
    executor: ThreadPoolExecutor | None = None
    watcher: StoreWatcher | None = None
    fitter: ForecastFitter | None = None
    planner: Planner | None = None
    plants: tuple[BaseProcess, ...] = ()
    """The demo's simulated plant processes (with field devices)."""


def limits(settings: ServiceSettings) -> db.Limits:
    """The database's bounds on every wait, from the settings."""
    return db.Limits(
        busy_timeout_s=settings.db_busy_timeout_s,
        statement_timeout_s=settings.db_statement_timeout_s,
        write_slots=settings.db_write_slots,
        write_wait_s=settings.db_write_wait_s,
    )


def build_service(settings: ServiceSettings, clock: Clock = utc_now) -> Service:
    """Open the store (migrated to the newest schema), record the parks, build the service."""
    engine = db.make_engine(settings.database_url, settings.sqlite_synchronous, limits(settings))
    migrate.upgrade(engine)
    parks = load_parks(settings.sites, settings.site_files)
    with db.write(engine) as connection:
        upsert_sites(connection, {i: (s, parks.sources[i]) for i, s in parks.by_id.items()})
        interrupted = run_store.close_interrupted(connection)
    if interrupted:
        log.warning("%d run(s) were interrupted by the last stop; marked failed", interrupted)
    metrics = Metrics()
    holder: list[Service] = []
    processes = settings.forecast_processes
    if processes is None:
        processes = min(os.cpu_count() or 1, len(parks.ids))
    fitter = ForecastFitter(processes)
    planner = Planner(settings.planning_processes, settings.plan_cache_size)
    runner = Runner(
        engine,
        parks,
        Pipeline(
            engine,
            settings.history_days,
            settings.forecast_refit_hours,
            fitter,
            limits=chained(plan_limits(engine), plan_prices(engine)),
            planner=planner,
        ),
        metrics,
        settings.run_lock_timeout_s,
        clock,
        on_plan=lambda: holder[0].plans_changed(),
        on_unrecorded=lambda site_id, what, exc: holder[0].background_failed(what, exc, site_id),
        on_succeeded=lambda site_id: holder[0].recovered(site_id),
    )
    service = Service(
        settings=settings,
        engine=engine,
        parks=parks,
        metrics=metrics,
        runner=runner,
        keys=KeyVerifier(engine, settings.key_cache_ttl_s),
        bodies=BodyCache(settings.plan_body_cache_size),
        in_force=PlansInForce(engine, clock),
        clock=clock,
        fitter=fitter,
        planner=planner,
        health=HealthMonitor(),
    )
    holder.append(service)
    if settings.field:
        field_metrics = FieldMetrics(metrics.registry)
        caps = {site_id: connection_caps_at(engine, site_id) for site_id in parks.ids}
        service.field_loop = wiring.build_field_loop(
            engine, settings, parks, clock, field_metrics, caps
        )

    def probe() -> dict[str, tuple[bool, float | None]]:
        """Per park, as ``/health`` says; none while the database does not answer (the
        scrape still answers, with ``microgrid_database_failing``)."""
        now = service.now()
        try:
            found = all_health(engine, parks, now, service.alarms())
        except db.DatabaseUnavailable:
            return {}
        return {
            site_id: (
                h.degraded,
                (now - h.plan_in_force.created_at).total_seconds() if h.plan_in_force else None,
            )
            for site_id, h in found.items()
        }

    metrics.watch_health(probe)
    metrics.background_failures_active.set_function(
        lambda: len(service.recent_background_failures())
    )
    metrics.database_failing.set_function(
        lambda: 0.0 if health.database_dependency(service)["status"] == "ok" else 1.0
    )
    return service


def demo_key(service: Service) -> str:
    """A fresh read-only key of every park for the demo dashboard; older demo keys revoked."""
    with db.write(service.engine) as connection:
        for old in key_store.find_by_label(connection, DEMO_KEY_LABEL):
            key_store.revoke(connection, old.id)
    made = create_key(
        service.engine, Role.UTILITY, service.parks.ids, service.parks.ids, DEMO_KEY_LABEL
    )
    return made.token


def _start_background(service: Service) -> Background:
    settings = service.settings
    background = Background(
        executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="run"),
        fitter=service.fitter,
        planner=service.planner,
    )
    service.executor = background.executor
    background.watcher = StoreWatcher(
        service.engine, settings.store_poll_s, service.plans_changed, service.keys.forget
    )
    background.watcher.start()
    feeder = (
        ReplayFeeder(service.engine, service.parks, service.clock, settings.demo_backfill_days)
        if settings.demo
        else None
    )
    if service.field_loop is not None:
        if settings.demo:  # the plant, not the feeder, brings the live intervals
            background.plants = wiring.start_demo_plants(
                service.field_loop.maps, service.field_loop.broker, service.now()
            )
            wiring.start_when_serving(service.field_loop)
        else:
            service.field_loop.start()
    live_feed = feeder if service.field_loop is None else None
    if settings.scheduler:
        background.scheduler = Scheduler(
            service.engine, service.parks, service.runner, settings.misfire_grace_s, live_feed
        )

    fitter = service.fitter
    parallel = len(service.parks.ids) if fitter is not None and fitter.processes > 0 else 1
    if fitter is not None and (settings.scheduler or settings.startup_catch_up):
        fitter.warm()  # the workers import the forecaster while the history is written
    if service.planner is not None and (settings.scheduler or settings.startup_catch_up):
        service.planner.warm()

    def startup_work() -> None:
        try:
            start_up(service, feeder, background.scheduler, parallel)
        except Exception:  # the service keeps serving; /health shows what is missing
            log.exception("start-up work failed")

    background.thread = threading.Thread(target=startup_work, name="startup", daemon=True)
    background.thread.start()
    return background


def _stop_background(background: Background, service: Service) -> None:
    if service.field_loop is not None:
        service.field_loop.stop()
    wiring.stop_processes(background.plants)
    if background.watcher is not None:
        background.watcher.stop()
    if background.thread is not None:
        background.thread.join(timeout=600)
    if background.scheduler is not None:
        background.scheduler.shutdown()
    if background.executor is not None:
        background.executor.shutdown(wait=True)
    if background.fitter is not None:
        background.fitter.close()
    if background.planner is not None:
        background.planner.close()


class RequestMetrics:
    """Counts requests by method, route template and status (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, count: Callable[[str, str, int], None]) -> None:
        self.app = app
        self.count = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_code = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            self.count(scope["method"], getattr(route, "path", "unmatched"), status_code)


def create_app(settings: ServiceSettings, clock: Clock = utc_now) -> FastAPI:
    service = build_service(settings, clock)
    if settings.demo:
        service.demo_key = demo_key(service)
    service.health.prime(service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background = _start_background(service)
        try:
            yield
        finally:
            _stop_background(background, service)
            service.health.close()
            service.engine.dispose()

    app = ServiceApp(
        title="Park microgrid dispatch controller",
        version=API_VERSION,
        description=(
            "Plans, measurements, forecasts and KPIs of industrial green microgrids. "
            'Send an API key as `Authorization: Bearer <key>` ("Authorize" on `/docs`); only '
            "`/health`, the OpenAPI document, `/docs`, `/redoc` and the dashboard page are "
            "public."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    apidocs.mount(app)
    app.state.service = service
    for router in (
        sites_api.router,
        plans.router,
        measurements.router,
        forecasts.router,
        kpis.router,
        policy.router,
        operator.router,
        keys.router,
        health.router,
        field_router,
        grid_events_router,
        prices_router,
    ):
        app.include_router(router)
    mount(app)

    def count(method: str, route: str, status_code: int) -> None:
        service.metrics.requests.labels(method, route, str(status_code)).inc()

    errors.install(app)
    openapi_errors.install(app)
    app.add_middleware(Door, service=service)
    app.add_middleware(RequestMetrics, count=count)
    app.fast_path = PlanInForceFastPath(service, count)
    return app
