"""When plans are made and what they cover: the one definition of the planning clock, used
by the running controller (``controller.service.pipeline``) and the replay
(``sim.policies``) alike.

- The time step is the sites' (:mod:`sites.time_step`): a plan's intervals start on the
  quarter hour of the park's clock (:func:`issue_time`).
- A **day-ahead** plan is made at the park's gate time (``Site.gate_time``, park's clock;
  :func:`at_gate`) and runs to the end of its target day, tomorrow (:func:`day_end`); its
  part for that day is the schedule the utility receives.
- The **day-ahead window** runs from today to the end of the last day, counted on from
  today without a gap, that has a day-ahead plan (:func:`day_ahead_window_end`); an
  **intraday** plan covers it from its issue time.
- The **committed schedule** of a day is the connection-point flow of the latest day-ahead
  plan for it, that day's intervals only (:func:`committed_schedule`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TypeVar

import pandas as pd

from controller import columns as pc
from controller.kinds import PlanKind
from sites import Site
from sites.time_step import HOURS_PER_STEP, STEP, STEP_MINUTES, STEPS_PER_DAY

ONE_DAY = timedelta(days=1)
Day = TypeVar("Day", bound=date)
"""A day on the park's clock: a date, or its midnight as a timestamp."""

SCHEDULE_COLUMNS = (pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW)
"""The connection-point flows a committed schedule holds."""


def issue_time(site: Site, now: datetime) -> pd.Timestamp:
    """The start of the interval ``now`` falls in, on the park's clock: a plan made at
    ``now`` starts there."""
    return pd.Timestamp(now).tz_convert(site.location.timezone).floor(f"{STEP_MINUTES}min")


def day_start(site: Site, day: date) -> pd.Timestamp:
    """Midnight that starts ``day`` on the park's clock."""
    return pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=site.location.timezone)


def day_end(site: Site, day: date) -> pd.Timestamp:
    """The end (exclusive) of ``day`` on the park's clock: where a plan for it ends."""
    return day_start(site, day + ONE_DAY)


def gate_time(site: Site, day: date) -> pd.Timestamp:
    """The park's day-ahead gate time on ``day``: tomorrow's schedule is sent then."""
    return day_start(site, day) + pd.Timedelta(
        hours=site.gate_time.hour, minutes=site.gate_time.minute
    )


def at_gate(site: Site, now: pd.Timestamp) -> bool:
    """Whether ``now`` (park's clock) is the day-ahead gate time of its day."""
    return bool(now == gate_time(site, now.date()))


def past_gate(site: Site, now: pd.Timestamp) -> bool:
    """Whether ``now`` (park's clock) is at or after the gate time of its day: tomorrow's
    day-ahead plan is due."""
    return bool(now.time() >= site.gate_time)


def day_ahead_window_end(
    site: Site, today: date, has_day_ahead: Callable[[date], bool]
) -> pd.Timestamp:
    """End (exclusive) of the day-ahead window seen from ``today``: the end of the last day
    after today, counted on without a gap, for which ``has_day_ahead``, else of today."""
    last = today
    while has_day_ahead(last + ONE_DAY):
        last += ONE_DAY
    return day_end(site, last)


def plan_end(
    site: Site, now: pd.Timestamp, kind: PlanKind, has_day_ahead: Callable[[date], bool]
) -> pd.Timestamp:
    """End (exclusive) of the plan of ``kind`` made at ``now`` (park's clock): a day-ahead
    plan runs to the end of tomorrow, an intraday plan to the end of the day-ahead window."""
    today = now.date()
    if kind is PlanKind.DAY_AHEAD:
        return day_end(site, today + ONE_DAY)
    return day_ahead_window_end(site, today, has_day_ahead)


def committed_schedule(frames: Mapping[Day, pd.DataFrame]) -> pd.DataFrame:
    """The committed connection-point schedule, day after day (``frames``: by the day on the
    park's clock, a date or its midnight, the frame of the latest day-ahead plan for it; of
    each, that day's intervals). Empty where nothing is committed."""
    parts = []
    for key, frame in sorted(frames.items()):
        day = key.date() if isinstance(key, datetime) else key
        schedule = frame[list(SCHEDULE_COLUMNS)]
        parts.append(schedule[pd.DatetimeIndex(schedule.index).date == day])
    if not parts:
        return pd.DataFrame(columns=list(SCHEDULE_COLUMNS), dtype=float)
    return pd.concat(parts).astype(float)


__all__ = [
    "HOURS_PER_STEP",
    "ONE_DAY",
    "SCHEDULE_COLUMNS",
    "STEP",
    "STEPS_PER_DAY",
    "at_gate",
    "committed_schedule",
    "day_ahead_window_end",
    "day_end",
    "day_start",
    "gate_time",
    "issue_time",
    "past_gate",
    "plan_end",
]
