"""Everything a running service holds, built once by :func:`controller.service.app.create_app`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from controller.service.auth import KeyVerifier
from controller.service.bodies import BodyCache
from controller.service.field.loop import FieldLoop
from controller.service.fitpool import ForecastFitter
from controller.service.flight import SingleFlight
from controller.service.inforce import InForce, PlansInForce
from controller.service.metrics import Metrics
from controller.service.parks import Parks
from controller.service.planpool import Planner
from controller.service.runner import Clock, Runner
from controller.service.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class Service:
    settings: ServiceSettings
    engine: Engine
    parks: Parks
    metrics: Metrics
    runner: Runner
    keys: KeyVerifier
    bodies: BodyCache
    in_force: PlansInForce
    clock: Clock
    fitter: ForecastFitter | None = None
    """Fits forecast models for the pipeline (in worker processes unless configured off)."""
    planner: Planner | None = None
    """Makes the pipeline's plans (in a worker process unless configured off)."""
    demo_key: str | None = None
    executor: ThreadPoolExecutor | None = None
    """Runs operator-triggered re-plans in the background (set while the app runs)."""
    field_loop: FieldLoop | None = None
    """Field devices in and out (``field_devices``; by default in demo mode)."""
    health: Any = None
    """``/health``'s :class:`~controller.service.api.health.HealthMonitor` (set by the app)."""
    background_failures: list[tuple[float, str, str | None]] = field(default_factory=list)
    """Background work that failed outside a recorded run (when, what, the park; newest
    last, bounded): shown in ``/health`` and counted in ``/metrics``."""
    _failures_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    in_force_flight: SingleFlight[tuple[str, int], InForce] = field(default_factory=SingleFlight)
    """One store lookup per park when many requests miss the plan in force at once."""

    def now(self) -> datetime:
        return self.clock()

    def submit(
        self, work: Callable[[], Any], what: str = "background work", site_id: str | None = None
    ) -> None:
        """Run ``work`` in the background (in a thread of its own when the app is not
        started); a failure is logged, kept in :attr:`background_failures` and counted."""

        def guarded() -> None:
            try:
                work()
            except Exception as exc:
                self.background_failed(what, exc, site_id)

        if self.executor is None:
            threading.Thread(target=guarded, name="replan", daemon=True).start()
        else:
            self.executor.submit(guarded)

    def background_failed(self, what: str, exc: BaseException, site_id: str | None = None) -> None:
        """``site_id``: the park the work was for (its next successful run clears it)."""
        log.error("%s failed: %s", what, exc, exc_info=exc)
        stamp = self.now().strftime("%Y-%m-%d %H:%M")
        text = f"{what} failed at {stamp} UTC: {exc}"
        with self._failures_lock:
            self.background_failures.append((time.monotonic(), text, site_id))
            del self.background_failures[:-20]
        self.metrics.background_failures.labels(what.split(" ")[0]).inc()

    def recovered(self, site_id: str) -> None:
        """A run of ``site_id`` succeeded: its background failures are over."""
        with self._failures_lock:
            self.background_failures[:] = [f for f in self.background_failures if f[2] != site_id]

    def recent_background_failures(self, within_s: float = 3600.0) -> list[str]:
        """Shown in ``/health`` for an hour, or until the park's next successful run."""
        since = time.monotonic() - within_s
        with self._failures_lock:
            return [text for at, text, _ in self.background_failures if at >= since]

    def alarms(self) -> dict[str, list[str]]:
        """Per park, what this process saw that the store does not record (a clock jump)."""
        return {site_id: [text] for site_id, text in self.runner.clock_jumps.items()}

    def plans_changed(self) -> None:
        """A plan was stored: forget every resolved plan in force."""
        self.in_force.invalidate()
