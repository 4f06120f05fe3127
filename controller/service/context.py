"""Everything a running service holds, built once by :func:`controller.service.app.create_app`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from controller.service import db
from controller.service.auth import KeyVerifier
from controller.service.bodies import BodyCache
from controller.service.metrics import Metrics
from controller.service.parks import Parks
from controller.service.runner import Clock, Runner
from controller.service.settings import ServiceSettings
from controller.service.store import plans as plan_store

IN_FORCE_TTL_S = 5.0
"""How long a resolved plan-in-force is reused (plans made by this process reset it)."""


@dataclass
class _InForce:
    header: plan_store.PlanHeader | None
    generation: int
    expires: float


@dataclass
class Service:
    settings: ServiceSettings
    engine: Engine
    parks: Parks
    metrics: Metrics
    runner: Runner
    keys: KeyVerifier
    bodies: BodyCache
    clock: Clock
    demo_key: str | None = None
    executor: ThreadPoolExecutor | None = None
    """Runs operator-triggered re-plans in the background (set while the app runs)."""
    _generation: int = 0
    _in_force: dict[str, _InForce] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return self.clock()

    def submit(self, work: Callable[[], Any]) -> None:
        """Run ``work`` in the background (in this thread when the app is not started)."""
        if self.executor is None:
            threading.Thread(target=work, name="replan", daemon=True).start()
        else:
            self.executor.submit(work)

    def plans_changed(self) -> None:
        """A plan was stored: forget every resolved plan-in-force."""
        with self._lock:
            self._generation += 1
            self._in_force.clear()

    def cached_in_force(self, site_id: str) -> tuple[bool, plan_store.PlanHeader | None]:
        """(hit, header) without touching the database."""
        entry = self._in_force.get(site_id)
        if entry is None or entry.generation != self._generation:
            return False, None
        if entry.expires < time.monotonic():
            return False, None
        if entry.header is not None and entry.header.end <= self.now():
            return False, None
        return True, entry.header

    def in_force(self, site_id: str) -> plan_store.PlanHeader | None:
        hit, header = self.cached_in_force(site_id)
        if hit:
            return header
        generation = self._generation
        with db.read(self.engine) as connection:
            header = plan_store.in_force(connection, site_id, self.now())
        with self._lock:
            if generation == self._generation:
                self._in_force[site_id] = _InForce(
                    header, generation, time.monotonic() + IN_FORCE_TTL_S
                )
        return header
