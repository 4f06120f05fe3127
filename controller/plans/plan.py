"""A dispatch plan: per-interval setpoints and flows, KPIs, metadata. Immutable once made."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.kinds import PlanKind, PlanStatus, Solver
from controller.plans.kpi import Kpis
from controller.plans.row_hash import frame_row_hashes


@dataclass(frozen=True)
class Relaxation:
    """A constraint that gave way: by how much, in which intervals."""

    constraint: str
    amount: float
    """Largest amount by which it gave way in one interval (or over the horizon)."""
    unit: str
    intervals: tuple[pd.Timestamp, ...] = ()
    detail: str = ""

    def __str__(self) -> str:
        if self.constraint == "data":
            return f"data: {self.detail}"
        where = ""
        if self.intervals:
            first, last = self.intervals[0], self.intervals[-1]
            where = f" in {len(self.intervals)} interval(s) {first:%Y-%m-%d %H:%M}..{last:%H:%M}"
        return f"{self.constraint}: {self.amount:,.3f} {self.unit}{where}. {self.detail}".strip()


@dataclass(frozen=True)
class Binding:
    """A constraint family that bound the optimum (non-zero dual), and where."""

    constraint: str
    intervals: int
    first: pd.Timestamp | None = None


@dataclass(frozen=True)
class NetworkSummary:
    """The AC verification of the final plan and the tightening that led to it."""

    ok: bool
    violations: int
    rounds: int
    """AC-tightening rounds: re-solves after the first solve."""
    vm_min_pu: float
    vm_max_pu: float
    max_line_loading_percent: float
    max_trafo_loading_percent: float
    losses_kwh: float
    max_import_error_kw: float
    """Largest |AC grid power - planned grid power| over the intervals."""
    tightened: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanMetadata:
    site_id: str
    kind: PlanKind
    version: int
    created_at: datetime
    forecast_issued_at: datetime | None
    input_hash: str
    code_version: str
    solver: Solver
    status: PlanStatus
    solve_time_s: float
    """Wall time of planning: preparation, every solve and AC check."""
    objective_terms: Mapping[str, float]
    network: NetworkSummary
    ac_rounds: int
    month_peak_import_kw: float = 0.0
    initial_battery_soc_kwh: Mapping[str, float] = field(default_factory=dict)
    initial_storage_level_kwh_th: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    forecast_fallbacks: Mapping[str, str] = field(default_factory=dict)
    connection_netted_kwh: float = 0.0
    """Energy the optimiser booked as imported and exported in the same intervals, cancelled
    in the plan (see :func:`controller.plans.dispatch.net_connection_flows`)."""
    connection_netted_cny: float = 0.0
    """What the optimiser's cost counted for that energy (import cost minus export revenue):
    its cost tier exceeds the plan's KPIs by this much."""
    """Series whose forecast came from a fallback baseline (history too short, or none),
    with the baseline and why: a plan on such forecasts says so."""

    def __post_init__(self) -> None:
        for name in (
            "objective_terms",
            "initial_battery_soc_kwh",
            "initial_storage_level_kwh_th",
            "forecast_fallbacks",
        ):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True)
class Plan:
    """Never edited: a re-plan is a new version. ``frame`` returns a copy."""

    metadata: PlanMetadata
    _frame: pd.DataFrame = field(repr=False)
    kpis: Kpis
    relaxations: tuple[Relaxation, ...] = ()
    binding: tuple[Binding, ...] = ()

    def __post_init__(self) -> None:
        # a private copy: the caller's frame may change, and ``frame`` hands out copies
        object.__setattr__(self, "_frame", self._frame.copy())

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame.copy()

    @property
    def columns(self) -> pd.Index:
        return self._frame.columns.copy()

    @functools.cached_property
    def row_hashes(self) -> np.ndarray:
        """pandas' row hashes of ``frame`` (index included), computed once: an intraday
        plan's input hash covers the committed plan on every step."""
        hashes = frame_row_hashes(self._frame)
        hashes.flags.writeable = False
        return hashes

    @property
    def status(self) -> PlanStatus:
        return self.metadata.status

    @property
    def kind(self) -> PlanKind:
        return self.metadata.kind

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self._frame.index)

    def connection_schedule(self, day: pd.Timestamp | None = None) -> pd.DataFrame:
        """Grid import and export per interval: what the utility receives.

        With ``day`` (a date in the site's zone), only that calendar day's intervals.
        """
        schedule = self._frame[[pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW]].copy()
        if day is not None:
            index = pd.DatetimeIndex(schedule.index)
            wanted = pd.Timestamp(day)
            wanted = wanted.tz_localize(index.tz) if wanted.tz is None else wanted
            schedule = schedule[index.normalize() == wanted.tz_convert(index.tz).normalize()]
        return schedule
