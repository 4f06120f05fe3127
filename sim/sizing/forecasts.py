"""The forecasts of a sweep's period, made once and shared by every candidate.

A forecast depends on the history before its issue time and on the park's series (loads,
renewables, heat), never on the storage: every candidate of the same renewable build-out asks
for the very same forecasts. :func:`make_forecasts` makes them once, with the production
forecaster refitted on the past as a replay refits it (:class:`sim.forecaster.
RefittingForecaster`), at the issue times the policies will ask for (read from the policies
themselves), each to the furthest end asked, and writes them to a folder: one Parquet file per
local issue day. :class:`StoredForecasts` hands them to the policies of any candidate, on any
worker, cut to the end asked for (a forecast's values do not depend on its horizon,
``tests/sim/test_forecaster.py`` holds that); a call off the schedule is answered by a
forecaster fitted in the worker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from forecasting.timeline import STEP
from sim.forecaster import Call, PrefetchingForecaster, RefittingForecaster
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sites import Site

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


def make_forecasts(
    site: Site,
    truth: pd.DataFrame,
    steps: pd.DatetimeIndex,
    intraday_every: pd.Timedelta,
    folder: Path,
) -> Path:
    """Make the period's forecasts into ``folder`` (unless a finished copy is there)."""
    if (folder / DONE).is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    forecaster = RefittingForecaster(site)
    calls = forecast_calls(site, truth, steps, intraday_every)
    day: list[pd.DataFrame] = []
    for k, call in enumerate(calls):
        history = truth.iloc[: int(truth.index.searchsorted(call.issue))]
        frame = forecaster(call.issue, call.end, history)
        day.append(frame.assign(**{ISSUE: call.issue}))
        last_of_day = k + 1 == len(calls) or calls[k + 1].issue.date() != call.issue.date()
        if last_of_day:
            _write_atomic(pd.concat(day), folder / f"{call.issue:%Y-%m-%d}.parquet")
            day = []
    done = {"calls": len(calls), "fits": forecaster.fits}
    _write_text_atomic(json.dumps(done), folder / DONE)
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
        path = self.folder / f"{day}.parquet"
        if path.is_file():
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
