"""The measured state a plan starts from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.config import DispatchConfig
from sites import Site


def _frozen(values: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in values.items()})


@dataclass(frozen=True)
class RenewableTally:
    """Renewable energy of the year so far, as measured (the annual policy targets' budget)."""

    available_kwh: float = 0.0
    used_on_site_kwh: float = 0.0
    export_kwh: float = 0.0
    year_fraction_left: float = 1.0
    """Share of the year still ahead of the horizon's start (1 on 1 January)."""

    def spill_budget_kwh(self, min_self_consumption_ratio: float) -> float:
        """Spill (export and curtailment) the year so far could still afford at the target:
        negative where the year so far is behind it."""
        spill = self.available_kwh - self.used_on_site_kwh
        return (1.0 - min_self_consumption_ratio) * self.available_kwh - spill

    def export_budget_kwh(self, max_export_ratio: float) -> float:
        """Export the year so far could still afford at the target (negative: behind it)."""
        return max_export_ratio * self.available_kwh - self.export_kwh


NO_PEAK_NOTE = (
    "no peak import metered this month: the demand charge is billed on the plan's whole peak"
)
"""A plan's note where its state had no metered peak (``MeasuredState.month_peak_metered``)."""


def year_fraction_left(now: pd.Timestamp) -> float:
    """Share of ``now``'s calendar year (on its own clock) still ahead of it: 1 at the start
    of 1 January, 0 at the end of 31 December."""
    start = pd.Timestamp(year=now.year, month=1, day=1, tz=now.tz)
    end = pd.Timestamp(year=now.year + 1, month=1, day=1, tz=now.tz)
    return float((end - now) / (end - start))


@dataclass(frozen=True)
class MeasuredState:
    """Storage levels at the start of the horizon and the month's billing peak so far.

    Storage not named here starts at the site's initial fraction (see :func:`default_state`).
    """

    battery_soc_kwh: Mapping[str, float] = field(default_factory=dict)
    thermal_storage_level_kwh_th: Mapping[str, float] = field(default_factory=dict)
    month_peak_import_kw: float = 0.0
    """Highest 15-minute import of the month before this horizon: the demand charge applies
    to the horizon's peak only where it exceeds this. 0 at the start of a month."""
    month_peak_metered: bool = True
    """False where no import was metered in the month before this horizon (a new park, a
    meter that posts no import): ``month_peak_import_kw`` is then a default, not a reading,
    the plan bills its whole planned peak and says so (:data:`NO_PEAK_NOTE`)."""
    month_peak_target_kw: float = 0.0
    """The peak the month's plans may use without charge (a month-level decision; 0 for
    none): the plan holds its import below the larger of this and the peak so far, less
    the load forecast's margin, and pays the demand charge for any planned increase."""

    renewables_year_to_date: RenewableTally = RenewableTally()
    """The year so far: each plan holds the annual targets over the year so far plus its
    horizon, with what is ahead of or behind them spread over the rest of the year."""

    grid_limits_kw: tuple[tuple[pd.Timestamp, float, float], ...] = ()
    """Per-interval limits at the connection point tighter than the site's (a utility's
    target exchange profile): ``(interval start, import limit, export limit)`` each. The
    plan holds the lower of these and the connection's limits in those intervals (import
    soft, through the named slack ``grid_import_limit``, as the connection's own)."""

    chp_on: Mapping[str, bool] = field(default_factory=dict)
    """Whether each CHP unit runs as the horizon starts (a unit not named: its site file's
    ``initially_on``): a unit that runs pays no start to keep running."""

    batch_delivered_kwh: Mapping[str, float] = field(default_factory=dict)
    """Energy each batch load has had in a window open as the horizon starts (a batch not
    named: none yet)."""
    shift_backlog_kwh: Mapping[str, float] = field(default_factory=dict)
    """Energy each shiftable load has deferred and not yet made up as the horizon starts
    (negative: advanced and not yet taken off; a load not named: 0)."""

    shift_recent_kwh: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """For each shiftable load, its share's baseline energy (the share of its load's draw) in
    each of the intervals before the horizon, oldest first (the last ``max_shift_h`` hours
    matter): energy deferred at the start may be held as long as it is no more than that
    baseline since ``max_shift_h`` hours ago. A load not named: its starting backlog counts as
    deferred just before the start."""
    hydrogen_level_kg: Mapping[str, float] = field(default_factory=dict)
    """Hydrogen in each tank as the horizon starts (a tank not named: its initial fraction)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "chp_on", MappingProxyType(dict(self.chp_on)))
        object.__setattr__(self, "batch_delivered_kwh", _frozen(self.batch_delivered_kwh))
        object.__setattr__(self, "shift_backlog_kwh", _frozen(self.shift_backlog_kwh))
        object.__setattr__(self, "hydrogen_level_kg", _frozen(self.hydrogen_level_kg))
        object.__setattr__(self, "shift_recent_kwh", MappingProxyType(dict(self.shift_recent_kwh)))
        object.__setattr__(self, "battery_soc_kwh", _frozen(self.battery_soc_kwh))
        object.__setattr__(
            self, "thermal_storage_level_kwh_th", _frozen(self.thermal_storage_level_kwh_th)
        )


def default_state(site: Site, month_peak_import_kw: float = 0.0) -> MeasuredState:
    """Every battery and tank (heat and hydrogen) at its configured initial fraction."""
    return MeasuredState(
        battery_soc_kwh={b.name: b.initial_soc_kwh for b in site.assets.batteries},
        thermal_storage_level_kwh_th={
            t.name: t.initial_level_kwh_th for t in site.assets.thermal_storage
        },
        month_peak_import_kw=month_peak_import_kw,
        hydrogen_level_kg={t.name: t.initial_level_kg for t in site.assets.hydrogen_tanks},
    )


def committed_end_levels(
    site: Site,
    committed: pd.DataFrame | None,
    index: pd.DatetimeIndex,
    soc_target: np.ndarray,
    level_target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Intraday: end where the committed plan ends (at the horizon's last interval), or at
    the site's initial levels; the day-ahead plan already chose the day's end state."""
    a = site.assets
    soc = np.array([b.initial_soc_kwh for b in a.batteries])
    level = np.array([t.initial_level_kwh_th for t in a.thermal_storage])
    position = _last_at_or_before(committed, index[-1]) if len(index) else None
    if committed is not None and position is not None:
        names = committed.columns
        for k, b in enumerate(a.batteries):
            value = _number_at(committed, names, pc.battery_soc_kwh(b.name), position)
            if value is not None:
                soc[k] = min(max(value, b.soc_min_kwh), b.soc_max_kwh)
        for k, t in enumerate(a.thermal_storage):
            value = _number_at(committed, names, pc.thermal_storage_level_kwh_th(t.name), position)
            if value is not None:
                level[k] = min(max(value, 0.0), t.capacity_kwh_th)
    return soc.astype(float), level.astype(float)


def _last_at_or_before(frame: pd.DataFrame | None, end: pd.Timestamp) -> int | None:
    """Position of the last row of ``frame`` labelled ``end`` or earlier (by bisection on a
    sorted index, the usual case; else by a mask); None if there is none."""
    if frame is None:
        return None
    try:
        if frame.index.is_monotonic_increasing:
            position = int(frame.index.searchsorted(end, side="right")) - 1
            return position if position >= 0 else None
        found = np.flatnonzero(np.asarray(frame.index <= end))
    except TypeError:  # labels that are not comparable with a time stamp
        return None
    return int(found[-1]) if len(found) else None


def _number_at(frame: pd.DataFrame, names: pd.Index, column: str, position: int) -> float | None:
    """The finite number in ``column`` at row ``position``; None if there is none."""
    if column not in names:
        return None
    value = frame[column].iat[position]
    if not isinstance(value, int | float | np.number) or not np.isfinite(value):
        return None
    return float(value)


def _number(value: float, fallback: float) -> float:
    return float(value) if math.isfinite(value) else fallback


def _within(what: str, value: float, capacity: float, unit: str, issues: list[str]) -> float:
    """A storage's starting level within 0..``capacity``: clipped, and said so, where the
    state gives it outside."""
    if value < 0 or value > capacity:
        issues.append(f"{what} {value:g} {unit} is outside 0..{capacity:g}; clipped")
        return min(max(value, 0.0), capacity)
    return value


def battery_start(
    site: Site, state: MeasuredState, config: DispatchConfig, issues: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    known = {b.name for b in site.assets.batteries}
    for name in set(state.battery_soc_kwh) - known:
        issues.append(f"state names battery '{name}', which the site does not have; ignored")
    start, target = [], []
    for b in site.assets.batteries:
        default = b.initial_soc_kwh
        soc = _number(state.battery_soc_kwh.get(b.name, default), default)
        soc = _within(f"battery '{b.name}' SoC", soc, b.capacity_kwh, "kWh", issues)
        start.append(soc)
        inside = min(max(soc, b.soc_min_kwh), b.soc_max_kwh)
        target.append(inside if config.keep_storage_level else b.soc_min_kwh)
    return np.asarray(start, dtype=float), np.asarray(target, dtype=float)


def storage_start(
    site: Site, state: MeasuredState, config: DispatchConfig, issues: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    known = {t.name for t in site.assets.thermal_storage}
    for name in set(state.thermal_storage_level_kwh_th) - known:
        issues.append(f"state names thermal storage '{name}', which the site lacks; ignored")
    start, target = [], []
    for t in site.assets.thermal_storage:
        default = t.initial_level_kwh_th
        level = _number(state.thermal_storage_level_kwh_th.get(t.name, default), default)
        level = _within(
            f"thermal storage '{t.name}' level", level, t.capacity_kwh_th, "kWh_th", issues
        )
        start.append(level)
        target.append(level if config.keep_storage_level else 0.0)
    return np.asarray(start, dtype=float), np.asarray(target, dtype=float)
