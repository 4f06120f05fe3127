"""The working calendar of a Chinese park: working days, Saturdays, Sundays and holidays.

China moves working days around its public holidays: the days off of Spring Festival or
National Day are paid back on Saturdays or Sundays that become working days ("adjusted
working days", ``holidays.China().weekend_workdays``). Factory shift plans follow that
official calendar, so every day is classified as

- ``DayKind.WORKING``: Monday to Friday, or an adjusted working day on a weekend,
- ``DayKind.SATURDAY``: a Saturday that is neither a holiday nor an adjusted working day,
- ``DayKind.REST``: a Sunday or a public holiday.

:func:`calendar_arrays` turns a timeline into per-interval arrays (time of day, weekday, the
kinds of the day, the day before and the day after) for the models; shift patterns show up as
the time of day on a day of a given kind and what kind of day came before (a Monday start-up
after a rest day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from sites.time_step import STEP_NS as _STEP_NS

_DAY_NS = pd.Timedelta(days=1).value
_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class DayKind(IntEnum):
    WORKING = 0
    SATURDAY = 1
    REST = 2


@lru_cache(maxsize=64)
def _china_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Public holidays and adjusted (weekend) working days of one calendar year."""
    calendar = holidays.China(years=year)
    rest = frozenset(d for d in calendar if d.year == year)
    work = frozenset(d for d in calendar.weekend_workdays if d.year == year)
    return rest, work


def day_kind(day: date) -> DayKind:
    rest, work = _china_year(day.year)
    if day in rest:
        return DayKind.REST
    if day in work:
        return DayKind.WORKING
    weekday = day.weekday()
    if weekday < 5:
        return DayKind.WORKING
    return DayKind.SATURDAY if weekday == 5 else DayKind.REST


@dataclass(frozen=True)
class CalendarArrays:
    """Per interval of a timeline: local day number, time of day and the kinds of days."""

    day: np.ndarray
    """Local day number (0 = the timeline's first local day)."""
    day_start: np.ndarray
    """Position of the first interval of each local day (indexed by ``day``)."""
    step_of_day: np.ndarray
    """Quarter hour of the local day, 0 .. 95."""
    weekday: np.ndarray
    kind: np.ndarray
    previous_kind: np.ndarray
    next_kind: np.ndarray


def wall_clock_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """The local wall-clock time of each timestamp, as nanoseconds since 1970-01-01 00:00 on
    that clock (what ``index.hour``, ``index.date`` and ``index.normalize()`` are read from,
    without building them)."""
    local = index.tz_localize(None) if index.tz is not None else index
    return local.to_numpy(dtype="datetime64[ns]").view(np.int64)


def calendar_arrays(index: pd.DatetimeIndex) -> CalendarArrays:
    """Calendar of a timezone-aware timeline, on the timeline's own (local) clock."""
    wall = wall_clock_ns(index)
    local_days, day = np.unique(wall // _DAY_NS, return_inverse=True)  # days since 1970-01-01
    ordinals = local_days + _UNIX_EPOCH_ORDINAL
    first = int(ordinals[0])
    # every calendar day from the first to the last, plus one either side (day before/after)
    dates = [date.fromordinal(o) for o in range(first - 1, int(ordinals[-1]) + 2)]
    kinds = np.array([day_kind(d) for d in dates], dtype=np.int8)
    weekdays = np.array([d.weekday() for d in dates], dtype=np.int8)
    slot = ordinals[day] - first + 1
    return CalendarArrays(
        day=day.astype(np.int64),
        day_start=np.searchsorted(day, np.arange(len(local_days))).astype(np.int64),
        step_of_day=(wall % _DAY_NS) // _STEP_NS,
        weekday=weekdays[slot],
        kind=kinds[slot],
        previous_kind=kinds[slot - 1],
        next_kind=kinds[slot + 1],
    )
