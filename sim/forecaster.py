"""The production forecaster inside a replay: fitted on the past only, refitted as time goes on.

A forecast depends only on the history before its issue time, never on what the controller
did with earlier forecasts. So a replay can make its forecasts ahead of the controller:
:class:`PrefetchingForecaster` runs the same :class:`RefittingForecaster` in a second process
over the issue times the policy will ask for, each to the furthest end it may ask, and hands
each one over cut to the end asked for (a forecast's values do not depend on its horizon;
``tests/sim/test_forecaster.py`` holds that). The controller loop and the forecasts then use
both cores, and the decisions are the same as with the forecaster in the loop.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from forecasting import ForecastModels, fit
from sites import Site
from sites.time_step import STEP

DEFAULT_REFIT_EVERY = pd.Timedelta(days=7)
"""How often a replay refits its forecasting models. The service refits every day
(``forecast_refit_hours``); a replay refits weekly, which a fit of about 10 s in the second
process keeps ahead of the controller over a year. Refitted every 28 days, the textile park's
day-ahead forecasts for March (P50 at the gate against the truth) ran 58 kW high on each of
its two large loads and 119 kW_th high on the dyeing heat; weekly 32 and 18 kW and
71 kW_th, daily 25 and 20 kW and 55 kW_th. Its March replay then cost 4.7 k CNY less and
half as many setpoints went unfollowed (154 against 299)."""
FALLBACK_REFIT_EVERY = pd.Timedelta(days=1)
"""While any series runs on its fallback (the history was too short for its model), the
models are fitted again every day, so that each series gets its model on the first day its
history allows, not up to ``DEFAULT_REFIT_EVERY`` later (a replay from 8 January would
otherwise plan all January on daily persistence). The service refits every day anyway
(``forecast_refit_hours``)."""
AHEAD = 1024
"""Forecasts the second process may make ahead of the controller (about 55 kB each for a
48-hour forecast of a dozen series). Enough to carry the controller through a refit: a fit
takes about 10 s, in which a replay uses a few hundred forecasts; between fits the second
process makes its forecasts faster than the controller plans, so it gets that far ahead."""
POLL_S = 1.0  # how often a wait for the next forecast checks that the process still runs


class RefittingForecaster:
    """Fits the forecasting models on the history before the first issue time, then refits
    every ``refit_every`` (every ``FALLBACK_REFIT_EVERY`` while a series runs on its fallback)
    on the history before that issue time: never on the future."""

    def __init__(self, site: Site, refit_every: pd.Timedelta = DEFAULT_REFIT_EVERY) -> None:
        self.site = site
        self.refit_every = refit_every
        self.models: ForecastModels | None = None
        self.fitted_at: pd.Timestamp | None = None
        self.fits = 0

    def __call__(self, now: pd.Timestamp, end: pd.Timestamp, history: pd.DataFrame) -> pd.DataFrame:
        models = self.models
        if models is None or self.fitted_at is None or self._refit_due(models, now):
            models = self.models = fit(self.site, history, until=now)
            self.fitted_at = now
            self.fits += 1
        return models.predict(now, end - now, history).frame

    def _refit_due(self, models: ForecastModels, now: pd.Timestamp) -> bool:
        assert self.fitted_at is not None
        on_fallback = any(s.fallback_reason is not None for s in models.series)
        every = min(self.refit_every, FALLBACK_REFIT_EVERY) if on_fallback else self.refit_every
        return bool(now - self.fitted_at >= every)


@dataclass(frozen=True)
class Call:
    """One forecast a policy will ask for: at ``issue``, to at most ``end`` (exclusive)."""

    issue: pd.Timestamp
    end: pd.Timestamp


def _forecast_ahead(
    site: Site,
    truth_path: Path,
    calls: Sequence[Call],
    refit_every: pd.Timedelta,
    out: Any,
) -> None:
    """The second process: every call in order, on the truth strictly before its issue time."""
    with threadpool_limits(1):  # one core for this process, the other for the controller
        forecaster = RefittingForecaster(site, refit_every)
        try:
            truth = pd.read_parquet(truth_path)
            for call in calls:
                history = truth.iloc[: int(truth.index.searchsorted(call.issue))]
                item = (call.issue, forecaster(call.issue, call.end, history), forecaster.fits)
                if not _hand_over(out, item):
                    return
        except Exception as exc:  # handed to the replay, which raises it there
            _hand_over(out, exc)


def _hand_over(out: Any, item: object) -> bool:
    """Put ``item`` on the queue as soon as there is room; False if the replay is gone (the
    process then ends instead of waiting for a reader that will never come)."""
    parent = mp.parent_process()
    while True:
        try:
            out.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            if parent is None or not parent.is_alive():
                out.cancel_join_thread()  # what is still buffered has no reader either
                return False


def _stop(process: BaseProcess, folder: tempfile.TemporaryDirectory[str]) -> None:
    if process.is_alive():
        process.terminate()
    process.join()
    folder.cleanup()


class PrefetchingForecaster:
    """A :class:`RefittingForecaster` run ahead of the replay in a second process.

    :meth:`expect` starts it on the calls the policy will make; a call off that schedule is
    answered by a forecaster in this process (fitted on its own schedule)."""

    def __init__(
        self,
        site: Site,
        truth: pd.DataFrame,
        refit_every: pd.Timedelta = DEFAULT_REFIT_EVERY,
        ahead: int = AHEAD,
    ) -> None:
        self.site = site
        self.truth = truth
        self.refit_every = refit_every
        self.ahead = ahead
        self.local = RefittingForecaster(site, refit_every)
        self.prefetched_fits = 0
        self.waits_s: list[float] = []
        """How long each prefetched forecast kept the replay waiting [s]."""
        self._pending: deque[Call] = deque()
        self._queue: Any = None
        self._process: BaseProcess | None = None
        self._stopper: weakref.finalize[Any, Any] | None = None

    @property
    def fits(self) -> int:
        return self.prefetched_fits + self.local.fits

    def expect(self, calls: Sequence[Call]) -> None:
        """Start the second process on ``calls`` (in time order). The history goes to it as a
        file, so starting it sends little (a program that starts it must guard its main
        module with ``if __name__ == "__main__":``, as every spawned process needs)."""
        self.close()
        folder = tempfile.TemporaryDirectory(prefix="replay-forecasts-")
        truth_path = Path(folder.name) / "truth.parquet"
        self.truth.to_parquet(truth_path)
        context = mp.get_context("spawn")  # no fork of a process holding solver threads
        self._queue = context.Queue(maxsize=self.ahead)
        process = context.Process(
            target=_forecast_ahead,
            args=(self.site, truth_path, list(calls), self.refit_every, self._queue),
            daemon=True,
        )
        process.start()
        self._stopper = weakref.finalize(self, _stop, process, folder)
        self._process = process
        self._pending = deque(calls)

    def close(self) -> None:
        if self._stopper is not None:
            self._stopper()  # stops the process and removes its file, once
            self._stopper = None
        self._process = None
        self._pending.clear()

    def __call__(self, now: pd.Timestamp, end: pd.Timestamp, history: pd.DataFrame) -> pd.DataFrame:
        while self._pending and self._pending[0].issue < now:
            self._next()  # asked for no more (the policy skipped it)
        if not self._pending or self._pending[0].issue != now:
            return self.local(now, end, history)
        further = end > self._pending[0].end
        frame = self._next()
        if further:  # beyond the end it was made to: off the schedule too
            return self.local(now, end, history)
        steps = int(np.ceil((end - now) / STEP))
        return frame.iloc[:steps]

    def _next(self) -> pd.DataFrame:
        expected = self._pending.popleft().issue
        began = time.perf_counter()
        while True:
            try:
                item = self._queue.get(timeout=POLL_S)
                break
            except queue.Empty:
                if self._process is None or not self._process.is_alive():
                    raise RuntimeError(
                        f"the forecasting process stopped before the forecast of {expected}"
                    ) from None
        if isinstance(item, Exception):
            self.close()
            raise item
        self.waits_s.append(time.perf_counter() - began)
        issue, frame, fits = item
        if issue != expected:  # the two processes walk the same list; guard all the same
            raise RuntimeError(f"forecast for {issue} arrived where {expected} was due")
        self.prefetched_fits = fits
        return frame
