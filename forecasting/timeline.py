"""The regular 15-minute timeline the models work on, and (origin, target) pairs on it.

A :class:`Panel` holds cleaned values (NaN = missing or excluded) of every series on one
regular timeline, with its calendar, the clear-sky output of each PV array and an optional
weather forecast. Positions are integers: an *origin* ``o`` is the position of the first
interval that is not observed (the first forecast interval), a *target* ``p >= o`` a
forecast interval, and its lead is ``p - o`` steps. Every feature in this package reads only
positions ``< o`` (see :mod:`forecasting.lags`), so a panel holding the whole training year
can serve many origins at once without look-ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.calendar import CalendarArrays
from sites.time_step import STEP


@dataclass(frozen=True)
class Panel:
    index: pd.DatetimeIndex
    values: Mapping[str, np.ndarray]
    calendar: CalendarArrays
    clear_sky: Mapping[str, np.ndarray]
    """PV column -> clear-sky output [kW per kWp] of that array, per interval."""
    weather: Mapping[str, np.ndarray]
    """Weather forecast column -> values per interval (NaN where none was given)."""

    def __len__(self) -> int:
        return len(self.index)


@dataclass(frozen=True)
class Pairs:
    """(origin, target) positions: each origin with a run of leads."""

    origins: np.ndarray
    """Distinct origins, shape (m,)."""
    row: np.ndarray
    """For each pair, the row of its origin in ``origins``, shape (n,)."""
    target: np.ndarray
    """Target position of each pair, shape (n,)."""

    @property
    def origin(self) -> np.ndarray:
        return np.asarray(self.origins[self.row])

    @property
    def lead(self) -> np.ndarray:
        return np.asarray(self.target - self.origin)

    def subset(self, mask: np.ndarray) -> Pairs:
        return Pairs(self.origins, self.row[mask], self.target[mask])

    def __len__(self) -> int:
        return len(self.target)


def make_pairs(origins: np.ndarray, leads: int, end: int) -> Pairs:
    """Every origin with leads ``0 .. leads - 1``, keeping targets before position ``end``."""
    origins = np.asarray(origins, dtype=np.int64)
    row = np.repeat(np.arange(len(origins)), leads)
    target = origins[row] + np.tile(np.arange(leads, dtype=np.int64), len(origins))
    keep = target < end
    return Pairs(origins, row[keep], target[keep])


def origins_every(start: int, end: int, stride: int, phase: int = 0) -> np.ndarray:
    """Origins ``start <= o < end`` every ``stride`` steps (``phase`` shifts the first)."""
    first = start + (phase - start) % stride
    return np.arange(first, end, stride, dtype=np.int64)


def regular_grid(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Quarter hours from ``start`` up to and excluding ``end`` (both on the grid)."""
    return pd.date_range(start, end, freq=STEP, inclusive="left")
