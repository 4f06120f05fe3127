"""One store lookup for many concurrent requests that need the same answer.

When a cached answer lapses under load (a key's trust expires, a plan is stored), every
request in flight would otherwise run the same query in its own worker thread at once.
:class:`SingleFlight` runs it once per key; the others await that call's result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, work: Callable[[], V]) -> V:
        """``work()`` in a worker thread, shared with concurrent callers of the same ``key``."""
        running = self._running.get(key)
        if running is not None and running.get_loop() is asyncio.get_running_loop():
            return await asyncio.shield(running)
        future: asyncio.Future[V] = asyncio.ensure_future(run_in_threadpool(work))
        self._running[key] = future
        try:
            return await asyncio.shield(future)
        finally:
            if self._running.get(key) is future:
                del self._running[key]
