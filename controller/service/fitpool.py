"""Forecast model fits in worker processes.

Fitting a park's forecast models is the slow part of a planning run (seconds of numpy and
gradient boosting per park), and it holds the interpreter lock for much of that time. In
worker processes the parks' fits run in parallel on separate cores (at start, three parks
need three fits at once) and the API's event loop is never starved while they run. The
models come back pickled (about 2 MB a park, milliseconds).

The workers are started with ``spawn`` (a clean interpreter; forking a process that runs
threads is unsafe) and warmed at service start, so they have imported the forecaster by the
time the first fit is asked for. ``processes=0`` fits in the calling thread. If a worker
dies, the pool is replaced and that fit is made in the calling thread, so a run never fails
for the pool's sake. A worker exits by itself within a second of the service's end, even
when the service was killed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd

from forecasting import ForecastModels, fit
from sites import Site

log = logging.getLogger(__name__)
PARENT_CHECK_S = 1.0
"""How often a worker checks that the service that started it still runs."""


def _worker_start(parent: int) -> None:
    """In a worker, first: leave Ctrl+C to the service (a terminal sends it to the whole
    process group; the service stops its workers itself, :meth:`ForecastFitter.close`), and
    exit as soon as the service is gone, however it ended (``kill -9`` included)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def exit_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=exit_with_parent, name="exit-with-service", daemon=True).start()


def _ready() -> int:
    """Run in a worker once it has imported the forecaster; its process id."""
    return os.getpid()


class SpawnedPool:
    """Worker processes started at first use (spawned: they inherit none of the service's
    threads), a dead worker replaced by a fresh pool, closed once: what the forecast fitter
    and the planner share."""

    kind = "worker"
    """What the workers do, for the log."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    def _initargs(self) -> tuple[Any, ...]:
        """The arguments of :func:`_worker_start` (or a subclass's initializer)."""
        return (os.getpid(),)

    def _initializer(self) -> Callable[..., None]:
        return _worker_start

    def _starting(self) -> None:
        """Called in the service before a pool is started."""
        return None

    def _run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """``work(*args, **kwargs)`` in a worker: ``(True, its result)``, or ``(False, None)``
        where no worker ran it (none configured, the pool closed, or the worker died: a
        fresh pool next time), for the caller to run it in this process."""
        pool = self._get_pool()
        if pool is None:
            return False, None
        try:
            return True, pool.submit(work, *args, **kwargs).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): a fresh pool next
            log.warning("a %s process died; its work is done in the service", self.kind)
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
        except RuntimeError:  # the pool was shut down meanwhile: the service is stopping
            if not self._closed:
                raise
        return False, None

    def close(self) -> None:
        """Stop the workers; later work is done in the calling thread."""
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _get_pool(self) -> ProcessPoolExecutor | None:
        if self.processes <= 0:
            return None
        with self._lock:
            if self._closed:
                return None
            if self._pool is None:
                self._starting()
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=self._initializer(),
                    initargs=self._initargs(),
                )
            return self._pool


class ForecastFitter(SpawnedPool):
    """Callable like :func:`forecasting.fit`; fits in ``processes`` worker processes."""

    kind = "forecast worker"

    def __call__(
        self, site: Site, history: pd.DataFrame, until: pd.Timestamp | None = None
    ) -> ForecastModels:
        done, models = self._run(fit, site, history, until)
        return models if done else fit(site, history, until)

    def warm(self) -> list[Future[int]]:
        """Start every worker now (each imports the forecaster) instead of at the first fit;
        the futures give the workers' process ids."""
        pool = self._get_pool()
        return [pool.submit(_ready) for _ in range(self.processes)] if pool else []
