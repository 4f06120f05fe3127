"""The planner in a worker process of its own, away from the API's interpreter.

Planning holds the interpreter lock for most of a run: cvxpy compiling a problem, scipy and
pandas calls that keep it for tens of milliseconds each, the month's peak target planned
over a whole month of history once a day. In the API's process, every plan poll then waits
for the lock between those calls, however small its own work (the polls' p99 rose to
65 ms while the parks were planned). In a worker process the API's event loop keeps its
interpreter to itself; the planning thread only waits for the worker's answer.

One worker (``spawn``: a clean interpreter) plans every park, so each park's compiled
problems and warm-started solver instances are kept in one place between runs, as they were
in the service's own process. The month's peak targets are chosen there too
(:class:`controller.peak_target.MonthPeakTarget`, one per park, kept in the worker). Inputs
and the plan travel pickled (milliseconds). If the worker dies, a fresh one is started and
that plan is made in the calling thread, so a run never fails for the worker's sake; the
worker exits by itself within a second of the service's end (see
:mod:`controller.service.fitpool`). ``processes=0`` plans in the calling thread.
"""

from __future__ import annotations

import copyreg
import logging
import os
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pandas as pd

from controller.inputs.state import MeasuredState
from controller.peak_target import MonthPeakTarget
from controller.plans.plan import Plan
from controller.service import heap
from controller.service.fitpool import SpawnedPool, _worker_start
from controller.solver.cache import ModelCache
from sites import Site

log = logging.getLogger(__name__)
PLAN_CACHE_SIZE = 8
"""Compiled problems kept (least recently used out). A park plans on a few at a time: its
intraday horizon's bucket changes every 4 hours (:attr:`DispatchConfig.horizon_bucket_steps`)
and its day-ahead plan once a day; a bucket is compiled again in well under a second to a
few seconds. The planner's own default (32, :data:`controller.cache.MODEL_CACHE_SIZE`) kept
each park's every bucket and network-row variant, tens of MB each: the planning process grew
by about 150 MB a simulated day until it held 32 of them."""

_TARGETS: dict[str, MonthPeakTarget] = {}
"""In the worker: per park, its month peak target chooser."""
_CACHE: ModelCache | None = None
"""In the worker: its compiled problems (:func:`_worker_init` sizes it)."""


def _plan_in_worker(planner: Callable[..., Plan], *args: Any, **kwargs: Any) -> Plan:
    """``planner`` with the worker's own compiled problems; then the C heap's free memory
    is handed back to the system (:func:`controller.service.heap.trim`: a plan's compile
    leaves the most behind)."""
    try:
        return planner(*args, cache=_CACHE, **kwargs)
    finally:
        heap.trim()


def choose_peak_target(
    site: Site,
    issue: pd.Timestamp,
    state: MeasuredState,
    history: pd.DataFrame,
    targets: dict[str, MonthPeakTarget] | None = None,
) -> float:
    """The month's target peak import for a plan issued at ``issue`` (see
    :class:`~controller.peak_target.MonthPeakTarget`), from the park's chooser in
    ``targets`` (default: the worker's own)."""
    chooser = (_TARGETS if targets is None else targets).setdefault(site.id, MonthPeakTarget(site))
    return chooser(issue, state, history)


def _ready() -> int:
    return os.getpid()


def _read_only(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _pickle_mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _read_only, (dict(proxy),)


def picklable_read_only_mappings() -> None:
    """Let pickle carry read-only mappings (``MappingProxyType``, which a plan's metadata
    and a measured state hold) as copies, in this process: needed on both sides of the
    worker's queue."""
    copyreg.pickle(MappingProxyType, _pickle_mapping_proxy)


def _worker_init(parent: int, cache_size: int) -> None:
    global _CACHE
    _worker_start(parent)
    picklable_read_only_mappings()
    _CACHE = ModelCache(cache_size)


class Planner(SpawnedPool):
    """Plans and chooses peak targets in a worker process (``processes=1``) or in the
    calling thread (``processes=0``)."""

    kind = "planning worker"

    def __init__(self, processes: int, cache_size: int = PLAN_CACHE_SIZE) -> None:
        super().__init__(min(processes, 1))
        self.cache_size = cache_size
        self._cache = ModelCache(cache_size)
        """The compiled problems when planning in the calling thread."""
        self._targets: dict[str, MonthPeakTarget] = {}
        """Per park, its month peak target chooser when planning in the calling thread."""

    def _initargs(self) -> tuple[Any, ...]:
        return (os.getpid(), self.cache_size)

    def _initializer(self) -> Callable[..., None]:
        return _worker_init

    def _starting(self) -> None:
        picklable_read_only_mappings()

    def plan(self, planner: Callable[..., Plan], *args: Any, **kwargs: Any) -> Plan:
        """``planner(*args, **kwargs)`` (:func:`controller.planner.plan`) in the worker, with
        the worker's compiled problems (or this planner's own, in the calling thread)."""
        if self._get_pool() is None:
            return planner(*args, cache=self._cache, **kwargs)
        return self._call(_plan_in_worker, planner, *args, **kwargs)

    def peak_target(
        self, site: Site, issue: pd.Timestamp, state: MeasuredState, history: pd.DataFrame
    ) -> float:
        """:func:`choose_peak_target` in the worker (or with this planner's own choosers)."""
        if self._get_pool() is None:
            return choose_peak_target(site, issue, state, history, self._targets)
        return float(self._call(choose_peak_target, site, issue, state, history))

    def _call(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        done, result = self._run(work, *args, **kwargs)
        if done:
            return result
        if work is choose_peak_target:  # with this planner's own choosers
            return work(*args, targets=self._targets)
        if work is _plan_in_worker:  # with this planner's own compiled problems
            planner, *rest = args
            return planner(*rest, cache=self._cache, **kwargs)
        return work(*args, **kwargs)

    def warm(self) -> None:
        """Start the worker now (it imports the planner) instead of at the first plan."""
        pool = self._get_pool()
        if pool is not None:
            pool.submit(_ready)

    def pid(self) -> int | None:
        """The worker's process id (None: planning in the calling thread, or not started)."""
        pool = self._get_pool()
        return pool.submit(_ready).result() if pool is not None else None
