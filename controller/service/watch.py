"""Notices what other processes change in the store, so that no cache outlives it.

The service keeps the plan in force and verified keys in memory. What the service itself
stores or revokes clears those caches at once; a plan stored or a key revoked by another
process (``microgrid keys revoke``, a tool writing plans into the same database) is noticed
here: a background thread reads two counters every ``interval_s`` seconds (the plans' count
and newest id, the number of revoked keys) and, when one moved, calls the matching callback.
While the store does not answer, the caches are kept (the service answers from them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from controller.service import db
from controller.service.store import keys as key_store
from controller.service.store import plans as plan_store

log = logging.getLogger(__name__)


class StoreWatcher:
    def __init__(
        self,
        engine: Engine,
        interval_s: float,
        on_plans: Callable[[], None],
        on_keys: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._on_plans = on_plans
        self._on_keys = on_keys
        self._plans: tuple[int, int] | None = None
        self._revoked: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        """Read the counters once; call back for whatever moved since the last read."""
        with db.read(self._engine) as connection:
            plans = plan_store.revision(connection)
            revoked = key_store.revoked_count(connection)
        if self._plans is not None and plans != self._plans:
            self._on_plans()
        if self._revoked is not None and revoked != self._revoked:
            self._on_keys()
        self._plans, self._revoked = plans, revoked

    def start(self) -> None:
        self.poll()
        self._thread = threading.Thread(target=self._run, name="store-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.poll()
            except Exception as exc:  # the store did not answer: keep serving what is cached
                # (a plan or revocation made meanwhile by another process is noticed at the
                # first poll that answers: the counters are compared with the last good read)
                log.warning("store watch: the store did not answer (%s); caches kept", exc)
