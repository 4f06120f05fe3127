"""Everything a running service holds, built once by :func:`controller.service.app.create_app`."""

from __future__ import annotations

import threading
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
from controller.service.runner import Clock, Runner
from controller.service.settings import ServiceSettings


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
    demo_key: str | None = None
    executor: ThreadPoolExecutor | None = None
    """Runs operator-triggered re-plans in the background (set while the app runs)."""
    field_loop: FieldLoop | None = None
    """Field devices in and out (``field_devices``; by default in demo mode)."""
    in_force_flight: SingleFlight[tuple[str, int], InForce] = field(default_factory=SingleFlight)
    """One store lookup per park when many requests miss the plan in force at once."""

    def now(self) -> datetime:
        return self.clock()

    def submit(self, work: Callable[[], Any]) -> None:
        """Run ``work`` in the background (in this thread when the app is not started)."""
        if self.executor is None:
            threading.Thread(target=work, name="replan", daemon=True).start()
        else:
            self.executor.submit(work)

    def plans_changed(self) -> None:
        """A plan was stored: forget every resolved plan in force."""
        self.in_force.invalidate()
