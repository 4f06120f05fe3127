"""Flexible process loads outside the LP: plan columns, batch windows on a horizon, the
arrays a planning step feeds the LP, the dispatch's part of the plan frame, and the
fallback rule.

- A batch's window opens each day at ``window_start_hour`` (the index's own clock) and
  closes at ``window_end_hour``; on a horizon each day's window is a row of 0/1 over the
  intervals. A window the horizon starts inside of has had ``MeasuredState.
  batch_delivered_kwh`` of its energy already; one the horizon ends inside of may leave the
  rest to the intervals after it (as much as ``max_kw`` can deliver there).
- A shiftable load's backlog is the energy deferred and not yet made up (negative: taken
  early and not yet taken off); it starts at ``MeasuredState.shift_backlog_kwh``. Served
  first in, first out, energy moves by at most ``max_shift_h`` hours exactly where the
  backlog never exceeds the share's baseline energy of the last ``max_shift_h`` hours
  (deferred) nor of the next ones (advanced): the baseline before the horizon comes from
  ``MeasuredState.shift_recent_kwh``.

The draws are network injections (:func:`network_models.build.build_network`): a batch is a
load of its own at its bus; a curtailment or a shift sets its electric load's element (down
and shed with a minus sign).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from controller.columns import batch_delivered_kwh, batch_on, shift_advanced_kwh, shift_deferred_kwh
from sites import Site
from sites.columns import batch_kw, curtailed_kw, shift_down_kw, shift_up_kw
from sites.schema import BatchLoad
from sites.time_step import HOURS_PER_STEP as DT
from sites.time_step import STEPS_PER_DAY

if TYPE_CHECKING:
    from controller.inputs.state import MeasuredState

__all__ = [
    "batch_kw",
    "curtailed_kw",
    "shift_down_kw",
    "shift_up_kw",
]

"""Interval length [h]."""
ON_KW = 1e-3
"""Draw above which a batch counts as running [kW] (solver noise is below)."""


def backlog_kwh(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A shiftable load's backlog from a plan frame: deferred - advanced [kWh]."""
    deferred = frame[shift_deferred_kwh(name)].to_numpy(dtype=float)
    return deferred - frame[shift_advanced_kwh(name)].to_numpy(dtype=float)


def delivered_by_interval(
    batch: BatchLoad, index: pd.DatetimeIndex, power_kw: np.ndarray, delivered_kwh: float
) -> np.ndarray:
    """(T,) energy the batch has had in its window at the end of each interval of ``index``
    running at ``power_kw``, 0 outside its windows: a window open at the horizon's start
    counts from ``delivered_kwh`` (:func:`batch_windows`), every other one from 0. What the
    service takes as the state of the next plan (:data:`controller.columns.batch_delivered_kwh`)."""
    out = np.zeros(len(index))
    for found in batch_windows(batch, index, delivered_kwh):
        energy = np.cumsum(np.asarray(power_kw, dtype=float)[found.positions]) * DT
        out[found.positions] = found.delivered_kwh + energy
    return out


def windows_per_horizon(horizon: int) -> int:
    """Most daily windows a horizon of ``horizon`` intervals can touch."""
    return int(math.ceil(horizon / STEPS_PER_DAY)) + 1


def hour_of_day(index: pd.DatetimeIndex) -> np.ndarray:
    """Local hour of each interval's start (0 <= h < 24)."""
    return np.asarray(index.hour + index.minute / 60.0, dtype=float)


def in_window(batch: BatchLoad, index: pd.DatetimeIndex) -> np.ndarray:
    """(T,) True where an interval lies within the batch's daily window."""
    hours = hour_of_day(index)
    return (hours >= batch.window_start_hour - 1e-9) & (hours < batch.window_end_hour - 1e-9)


def delivered_in_open_windows(
    site: Site, now: pd.Timestamp, delivered: dict[str, float]
) -> dict[str, float]:
    """What each batch has had in a window open at ``now`` and opened before it (what the
    state of a plan starting at ``now`` says); 0 where a window opens at ``now`` or none is
    open."""
    index = pd.DatetimeIndex([now])
    hour = float(hour_of_day(index)[0])
    out = {}
    for batch in site.assets.batch_loads:
        started = bool(in_window(batch, index)[0]) and hour > batch.window_start_hour + 1e-9
        out[batch.name] = float(delivered.get(batch.name, 0.0)) if started else 0.0
    return out


@dataclass(frozen=True)
class BatchWindow:
    """One day's window of one batch on a horizon."""

    positions: np.ndarray
    """Positions (in the real intervals) of the window's intervals on the horizon."""
    delivered_kwh: float
    """Delivered before the horizon (its first window only)."""
    after_kwh: float
    """What ``max_kw`` could still deliver after the horizon's end (its last window)."""
    complete: bool
    """True where the whole window lies within the horizon."""


def batch_windows(
    batch: BatchLoad, index: pd.DatetimeIndex, delivered_kwh: float = 0.0
) -> list[BatchWindow]:
    """The batch's windows that the horizon ``index`` touches, in order."""
    if not len(index):
        return []
    inside = in_window(batch, index)
    days = index.normalize().tz_localize(None).to_numpy().astype(np.int64)  # local dates
    out = []
    end = index[-1] + pd.Timedelta(hours=DT)
    for day in np.unique(days[inside]):
        positions = np.flatnonzero(inside & (days == day))
        midnight = pd.Timestamp(int(day)).tz_localize(index.tz)
        opens = midnight + pd.Timedelta(hours=batch.window_start_hour)
        closes = midnight + pd.Timedelta(hours=batch.window_end_hour)
        started = index[0] > opens
        beyond_h = max((closes - end) / pd.Timedelta(hours=1), 0.0)
        out.append(
            BatchWindow(
                positions,
                min(max(delivered_kwh, 0.0), batch.energy_kwh) if started else 0.0,
                batch.max_kw * beyond_h,
                not started and beyond_h == 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class FlexibleInputs:
    """The flexible loads' data of one planning step, padded as the other inputs are
    (real intervals last)."""

    batch_window: np.ndarray
    """(n_batch, n_windows, horizon) 1 where a window holds the interval."""
    batch_need_kwh: np.ndarray
    """(n_batch, n_windows, 2) the least and most energy each window must still get."""
    shift_backlog0_kwh: np.ndarray
    """(n_shift,) backlog as the horizon starts."""
    shift_carry_kwh: np.ndarray
    """(n_shift, 2, horizon) row 0: the share's baseline energy before the horizon that the
    shift window of each of its first intervals still holds (``MeasuredState.
    shift_recent_kwh``; without that record, the starting backlog); rows 0 and 1 in padding:
    the starting backlog deferred and advanced, which padding holds unchanged."""
    batch_delivered_kwh: np.ndarray
    """(n_batch,) from the state (what a window open at the start has had)."""
    shift_base_kw: np.ndarray
    """(n_shift, horizon) each shiftable share of its load's low forecast (0 in padding)."""
    curtail_base_kw: np.ndarray
    """(n_curtail, horizon) each curtailable share of its load's low forecast."""

    @property
    def batch_in_window(self) -> np.ndarray:
        """(n_batch, horizon)"""
        return self.batch_window.sum(axis=1) if self.batch_window.size else self.batch_window[:, 0]


def prepare_flexible(
    site: Site,
    index: pd.DatetimeIndex,
    horizon: int,
    state: MeasuredState,
    load_low_kw: list[np.ndarray],
    issues: list[str],
) -> FlexibleInputs:
    """``load_low_kw``: each electric load's low forecast (P10) over the real intervals: the
    shares that may be shed or moved are planned on it, so that the plant can take off what
    the plan sets unless the load comes in below it."""
    a = site.assets
    n, start = len(index), horizon - len(index)
    w = windows_per_horizon(horizon)
    window = np.zeros((len(a.batch_loads), w, horizon))
    need = np.zeros((len(a.batch_loads), w, 2))
    delivered_all = []
    for k, batch in enumerate(a.batch_loads):
        delivered = float(state.batch_delivered_kwh.get(batch.name, 0.0))
        if not math.isfinite(delivered) or delivered < 0:
            issues.append(f"batch '{batch.name}' delivered {delivered} kWh is not an energy; 0")
            delivered = 0.0
        delivered_all.append(delivered)
        for j, found in enumerate(batch_windows(batch, index, delivered)[:w]):
            window[k, j, start + found.positions] = 1.0
            most = max(batch.energy_kwh - found.delivered_kwh, 0.0)
            need[k, j] = (max(most - found.after_kwh, 0.0), most)
    backlog0 = np.zeros(len(a.shiftable_loads))
    carry = np.zeros((len(a.shiftable_loads), 2, horizon))
    base = np.zeros((len(a.shiftable_loads), horizon))
    names = [x.name for x in a.electric_loads]
    for k, shift in enumerate(a.shiftable_loads):
        value = float(state.shift_backlog_kwh.get(shift.name, 0.0))
        if not math.isfinite(value):
            issues.append(f"shiftable load '{shift.name}' backlog {value} kWh is unknown; 0")
            value = 0.0
        backlog0[k] = value
        base[k, start:] = shift.max_fraction * load_low_kw[names.index(shift.load)]
        carry[k, 0, :start] = max(value, 0.0)  # padding holds the start's backlog unchanged
        carry[k, 1, :start] = max(-value, 0.0)
        recent = state.shift_recent_kwh.get(shift.name)
        steps = min(shift.shift_steps - 1, n)
        if recent is None:  # no record of the share before: the start's backlog counts as
            carry[k, 0, start : start + steps] = max(value, 0.0)  # deferred just now
            continue
        past = np.zeros(shift.shift_steps - 1)
        tail = np.asarray(recent, dtype=float)[-(shift.shift_steps - 1) :]
        if len(tail):
            past[-len(tail) :] = tail
        for t in range(steps):  # interval t still sees the share of the last K - 1 - t before
            carry[k, 0, start + t] = past[t:].sum()
    curtail = np.zeros((len(a.curtailable_loads), horizon))
    for k, part in enumerate(a.curtailable_loads):
        curtail[k, start:] = part.max_fraction * load_low_kw[names.index(part.load)]
    return FlexibleInputs(window, need, backlog0, carry, np.array(delivered_all), base, curtail)


@dataclass(frozen=True)
class FlexibleDispatch:
    """The flexible loads' setpoints over the real intervals (rows in site order)."""

    batch_kw: np.ndarray
    curtailed_kw: np.ndarray
    shift_down_kw: np.ndarray
    shift_up_kw: np.ndarray
    shift_backlog0_kwh: np.ndarray
    batch_delivered0_kwh: np.ndarray
    """(n_batch,) what a window open at the start had had (``FlexibleInputs``)."""

    @classmethod
    def idle(
        cls, site: Site, n_steps: int, backlog0: np.ndarray, delivered0: np.ndarray
    ) -> FlexibleDispatch:
        a = site.assets
        return cls(
            np.zeros((len(a.batch_loads), n_steps)),
            np.zeros((len(a.curtailable_loads), n_steps)),
            np.zeros((len(a.shiftable_loads), n_steps)),
            np.zeros((len(a.shiftable_loads), n_steps)),
            np.asarray(backlog0, dtype=float),
            np.asarray(delivered0, dtype=float),
        )


def has_flexible(site: Site) -> bool:
    a = site.assets
    return bool(a.batch_loads or a.curtailable_loads or a.shiftable_loads)


def load_position(site: Site, load: str) -> int:
    return [x.name for x in site.assets.electric_loads].index(load)


def flexible_frame(
    site: Site, d: FlexibleDispatch, index: pd.DatetimeIndex | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The plan columns of the flexible loads, their net draw on the park [kW] and their
    cost [CNY per h] (curtailment and shifting) per interval; with the plan's ``index``,
    each batch's energy in its window too."""
    a = site.assets
    data: dict[str, np.ndarray] = {}
    n = d.batch_kw.shape[-1]  # every array is (assets, intervals), with or without assets
    draw, cost = np.zeros(n), np.zeros(n)
    for k, batch in enumerate(a.batch_loads):
        power = np.clip(d.batch_kw[k], 0.0, None)
        power[power < 1e-6] = 0.0
        data[batch_kw(batch.name)] = power
        data[batch_on(batch.name)] = (power > ON_KW).astype(float)
        if index is not None:
            delivered = float(d.batch_delivered0_kwh[k]) if d.batch_delivered0_kwh.size else 0.0
            data[batch_delivered_kwh(batch.name)] = delivered_by_interval(
                batch, index, power, delivered
            )
        draw += power
    for k, curtail in enumerate(a.curtailable_loads):
        shed = np.clip(d.curtailed_kw[k], 0.0, None)
        shed[shed < 1e-6] = 0.0
        data[curtailed_kw(curtail.name)] = shed
        draw -= shed
        cost += curtail.cost_cny_per_kwh * shed
    for k, shift in enumerate(a.shiftable_loads):
        down = np.clip(d.shift_down_kw[k], 0.0, None)
        up = np.clip(d.shift_up_kw[k], 0.0, None)
        down[down < 1e-6] = 0.0
        up[up < 1e-6] = 0.0
        data[shift_down_kw(shift.name)] = down
        data[shift_up_kw(shift.name)] = up
        backlog = d.shift_backlog0_kwh[k] + np.cumsum(down - up) * DT
        backlog[np.abs(backlog) < 1e-6] = 0.0
        data[shift_deferred_kwh(shift.name)] = np.clip(backlog, 0.0, None)
        data[shift_advanced_kwh(shift.name)] = np.clip(-backlog, 0.0, None)
        draw += up - down
        cost += shift.cost_cny_per_kwh * down
    return data, draw, cost
