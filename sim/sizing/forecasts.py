"""The forecasts of a sweep's period, made once and shared by every candidate.

A forecast depends on the history before its issue time and on the park's series (loads,
renewables, heat), never on the storage: every candidate of the same renewable build-out asks
for the very same forecasts. :func:`make_forecasts` makes them once, with the production
forecaster refitted on the past as a replay refits it (:class:`sim.forecaster.
RefittingForecaster`: the same fits at the same times), at the issue times the policies will
ask for (read from the policies themselves), each to the furthest end asked, and writes them
to a folder: a Parquet file per local issue day and fit. The fits run in sequence; the
forecasts of each fit can be made in parallel (Dask tasks of the sweep).
:class:`StoredForecasts` hands them to the policies of any candidate, on any worker, cut to
the end asked for (a forecast's values do not depend on its horizon,
``tests/sim/test_forecaster.py`` holds that); a call off the schedule is answered by a
forecaster fitted in the worker.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from forecasting import ForecastModels, fit
from sim.forecaster import (
    DEFAULT_REFIT_EVERY,
    FALLBACK_REFIT_EVERY,
    Call,
    PrefetchingForecaster,
    RefittingForecaster,
)
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sites import Site
from sites.time_step import STEP

DONE = "done.json"
ISSUE = "issue_time"


class _Schedule(PrefetchingForecaster):
    """Records the calls a policy announces (it starts no process)."""

    def expect(self, calls: Sequence[Call]) -> None:
        self.calls = list(calls)


def forecast_calls(
    site: Site, truth: pd.DataFrame, steps: pd.DatetimeIndex, intraday_every: pd.Timedelta
) -> list[Call]:
    """Every forecast the production and rule-based policies will ask for over ``steps``,
    each to the furthest end asked (time order)."""
    ends: dict[pd.Timestamp, pd.Timestamp] = {}
    for make in (
        lambda f: OptimiserPolicy(site, f, intraday_every),
        lambda f: RuleBasedPolicy(site, f),
    ):
        schedule = _Schedule(site, truth)
        make(schedule).begin(steps)
        for call in schedule.calls:
            ends[call.issue] = max(ends.get(call.issue, call.end), call.end)
    return [Call(issue, end) for issue, end in sorted(ends.items())]


@dataclass(frozen=True)
class Epoch:
    """The calls one fit of the models answers: ``calls[first:last]``."""

    number: int
    first: int
    last: int
    models: ForecastModels


def _refit_due(models: ForecastModels, fitted_at: pd.Timestamp, now: pd.Timestamp) -> bool:
    """When :class:`sim.forecaster.RefittingForecaster` fits again (its rule, with its
    default period; ``tests/sim/test_sizing_forecasts.py`` holds the two equal)."""
    on_fallback = any(s.fallback_reason is not None for s in models.series)
    every = min(DEFAULT_REFIT_EVERY, FALLBACK_REFIT_EVERY) if on_fallback else DEFAULT_REFIT_EVERY
    return bool(now - fitted_at >= every)


def fit_epochs(
    site: Site, truth: pd.DataFrame, calls: Sequence[Call], done: Callable[[Epoch], None]
) -> int:
    """Fit the models at every call where the refitting forecaster would, on the history
    before it; hand each epoch to ``done`` as soon as the next fit closes it. The number of
    epochs."""
    current: Epoch | None = None
    fitted_at = pd.Timestamp(0)
    for k, call in enumerate(calls):
        if current is None or _refit_due(current.models, fitted_at, call.issue):
            if current is not None:
                done(dataclasses.replace(current, last=k))
            history = truth.iloc[: int(truth.index.searchsorted(call.issue))]
            number = 0 if current is None else current.number + 1
            current = Epoch(number, k, k, fit(site, history, until=call.issue))
            fitted_at = call.issue
    if current is not None:
        done(dataclasses.replace(current, last=len(calls)))
        return current.number + 1
    return 0


def predict_epoch(
    site: Site, truth: pd.DataFrame, calls: Sequence[Call], epoch: Epoch, folder: Path
) -> int:
    """Make the epoch's forecasts with its fitted models; one file per local issue day
    (``<day>-<epoch>.parquet``). The number of forecasts."""
    day: list[pd.DataFrame] = []
    mine = calls[epoch.first : epoch.last]
    for k, call in enumerate(mine):
        history = truth.iloc[: int(truth.index.searchsorted(call.issue))]
        frame = epoch.models.predict(call.issue, call.end - call.issue, history).frame
        day.append(frame.assign(**{ISSUE: call.issue}))
        if k + 1 == len(mine) or mine[k + 1].issue.date() != call.issue.date():
            name = f"{call.issue:%Y-%m-%d}-{epoch.number:04d}.parquet"
            _write_atomic(pd.concat(day), folder / name)
            day = []
    return len(mine)


def make_forecasts(
    site: Site,
    truth: pd.DataFrame,
    steps: pd.DatetimeIndex,
    intraday_every: pd.Timedelta,
    folder: Path,
    submit: Callable[..., Any] | None = None,
) -> Path:
    """Make the period's forecasts into ``folder`` (unless a finished copy is there).

    The fits run in sequence here (each refit depends on the models before it); each fit's
    forecasts are made by ``predict_epoch``, here in turn, or handed to ``submit(function,
    *args)`` (returning a future with ``result()``: a Dask client's ``submit``) as soon as the
    next fit closes the epoch, so that other workers make them meanwhile."""
    if (folder / DONE).is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    calls = forecast_calls(site, truth, steps, intraday_every)
    futures: list[Any] = []
    made = [0]

    def done(epoch: Epoch) -> None:
        if submit is None:
            made[0] += predict_epoch(site, truth, calls, epoch, folder)
        else:
            futures.append(submit(predict_epoch, site, truth, calls, epoch, folder))

    fits = fit_epochs(site, truth, calls, done)
    made[0] += sum(int(f.result()) for f in futures)
    _write_text_atomic(
        json.dumps({"calls": len(calls), "made": made[0], "fits": fits}), folder / DONE
    )
    return folder


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    partial = path.with_suffix(f".{os.getpid()}.partial")
    frame.to_parquet(partial)
    partial.replace(path)


def _write_text_atomic(text: str, path: Path) -> None:
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


class StoredForecasts:
    """A policy's forecaster reading the forecasts :func:`make_forecasts` wrote (one day's
    file in memory at a time)."""

    def __init__(self, site: Site, folder: Path) -> None:
        self.folder = folder
        self.local = RefittingForecaster(site)
        self.served = 0
        self.off_schedule = 0
        self._day: str | None = None
        self._frames: dict[pd.Timestamp, pd.DataFrame] = {}

    def _load(self, now: pd.Timestamp) -> None:
        day = f"{now:%Y-%m-%d}"
        if day == self._day:
            return
        self._day, self._frames = day, {}
        for path in sorted(self.folder.glob(f"{day}-*.parquet")):
            stored = pd.read_parquet(path)
            for issue, frame in stored.groupby(ISSUE, sort=False):
                self._frames[pd.Timestamp(cast(Any, issue))] = frame.drop(columns=ISSUE)

    def __call__(self, now: pd.Timestamp, end: pd.Timestamp, history: pd.DataFrame) -> pd.DataFrame:
        self._load(now)
        frame = self._frames.get(now)
        steps = int(np.ceil((end - now) / STEP))
        if frame is None or len(frame) < steps:
            self.off_schedule += 1
            return self.local(now, end, history)
        self.served += 1
        return frame.iloc[:steps]
