"""The plan in force per park, resolved once and then answered from memory.

The plan in force at a moment is the newest plan whose horizon covers it
(:func:`controller.service.store.plans.in_force`). A resolution is kept until the first of:

- a plan is stored: by this process (the runner calls :meth:`PlansInForce.invalidate` once
  the plan's transaction has committed) or by another one (the store watcher,
  :mod:`controller.service.watch`, notices and calls the same);
- the moment the answer changes with time alone: the end of the plan in force, or the start
  of any plan of the park that starts later (a newer plan stored ahead takes over then).

So a cached answer is never older than the store, apart from the watcher's poll interval for
plans written by other processes (none in normal operation: every plan is made by the
service's own runner). While the store does not answer, the park's last resolution is
served marked stale (:attr:`InForce.stale`, with when it was resolved). A resolution that
raced with an invalidation is used for its own request but not kept (generation check).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from controller.service import db
from controller.service.store import plans as plan_store
from controller.service.store.plans import PlanHeader


@dataclass(frozen=True)
class InForce:
    """One park's plan in force (``None``: no plan is), and until when that holds."""

    header: PlanHeader | None
    until: datetime | None
    """The first moment the answer may change with time; ``None``: only a new plan changes it."""
    generation: int
    stale: str | None = None
    """Why this is an older resolution (the store did not answer); ``None``: current."""
    resolved_at: datetime | None = None

    def holds_at(self, now: datetime) -> bool:
        return self.until is None or now < self.until


class PlansInForce:
    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock
        self._generation = 0
        self._items: dict[str, InForce] = {}
        self._last: dict[str, InForce] = {}
        """The newest resolution per park, kept across invalidations: served (marked stale)
        while the store does not answer."""
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Grows with every invalidation: a lookup begun at an older one may be outdated."""
        return self._generation

    def invalidate(self) -> None:
        """A plan was stored: forget every resolution."""
        with self._lock:
            self._generation += 1
            self._items.clear()

    def peek(self, site_id: str) -> InForce | None:
        """The kept resolution if it still holds, else ``None``; no store access."""
        found = self._items.get(site_id)
        if found is None or found.generation != self._generation:
            return None
        return found if found.holds_at(self._clock()) else None

    def resolve(self, site_id: str) -> InForce:
        """The kept resolution, else one read from the store (blocking: call off the loop)."""
        found = self.peek(site_id)
        if found is not None:
            return found
        generation = self._generation
        now = self._clock()
        try:
            with db.read(self._engine) as connection:
                header = plan_store.in_force(connection, site_id, now)
                later = plan_store.next_start(connection, site_id, now)
        except db.DatabaseUnavailable as problem:
            last = self._last.get(site_id)
            if last is None or last.header is None:
                raise
            return dataclasses.replace(last, stale=problem.reason)
        ends = [t for t in (header.end if header else None, later) if t is not None]
        made = InForce(header, min(ends) if ends else None, generation, resolved_at=now)
        with self._lock:
            if generation == self._generation:
                self._items[site_id] = made
            self._last[site_id] = made
        return made
