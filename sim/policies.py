"""Dispatch policies a replay compares, each deciding one interval's setpoints at a time.

Every policy sees only what a real controller would have seen at its decision time: the
history strictly before ``now`` and the measured state. The rule-based policy also reads the
current interval's conditions, as a real-time feedback controller does; the perfect-foresight
policy is the exception by design (it is the bound, and is labelled so).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from controller import (
    DEFAULT_CONFIG,
    Adherence,
    DispatchConfig,
    MeasuredState,
    ModelCache,
    MonthPeakTarget,
    Plan,
    PlanKind,
    adherence_of,
    as_forecast,
    check_plan,
    dispatch_frame,
    fallback_dispatch,
    outside_band_kw,
    plan,
    prepare,
)
from controller import columns as pc
from controller.horizons import STEP, at_gate, committed_schedule, plan_end
from sim.forecaster import Call, PrefetchingForecaster
from sites import Site
from sites.history.series import expected_series

KEPT_PROBLEMS = 20
BOUND_TIME_LIMIT_S = 600.0
"""A month-long problem solves in about 12 s on a quiet machine; the bound must not fall
back to rules because a loaded machine took longer."""
BOUND_CONFIG = dataclasses.replace(DEFAULT_CONFIG, time_limit_s=BOUND_TIME_LIMIT_S)

PeakTarget = Callable[[pd.Timestamp, MeasuredState, pd.DataFrame], float]
"""(now, measured state, history strictly before now) -> the month's target peak [kW]."""

Forecaster = Callable[[pd.Timestamp, pd.Timestamp, pd.DataFrame], pd.DataFrame]
"""(issue time, end of horizon (exclusive), history strictly before issue time) -> forecast
frame with P50 columns (``sites.columns.quantile(c, 50)``) on [issue time, end)."""


class Setpoints:
    """The numeric columns of a plan frame (setpoints and flows; not the price band), read
    out once per plan: a policy takes one row per interval, and a pandas row of a frame with
    a text column costs more than the whole table."""

    def __init__(self, frame: pd.DataFrame) -> None:
        numbers = frame.select_dtypes(include="number")
        self.index = pd.DatetimeIndex(frame.index)
        self.names = [str(c) for c in numbers.columns]
        self.values = numbers.to_numpy(dtype=float)

    def __contains__(self, now: pd.Timestamp) -> bool:
        return now in self.index

    def at(self, now: pd.Timestamp) -> dict[str, float]:
        """The row of the interval starting at ``now`` (else the next one after it)."""
        row = self.values[int(self.index.searchsorted(now))].tolist()
        return dict(zip(self.names, row, strict=True))


@dataclass
class Decisions:
    """What a policy asked of its planner, for the replay's audit trail."""

    plans: int = 0
    plans_failing_check: int = 0
    """Plans whose invariant check (:func:`controller.plans.check.check_plan`) found a problem."""
    check_problems: list[str] = field(default_factory=list)
    """The first problems found (at most ``KEPT_PROBLEMS``)."""
    latest_history_seen: pd.Timestamp | None = None
    decision_times: list[pd.Timestamp] = field(default_factory=list)

    def checked(self, site: Site, made: Plan) -> None:
        self.plans += 1
        report = check_plan(site, made)
        if not report.ok:
            self.plans_failing_check += 1
            room = KEPT_PROBLEMS - len(self.check_problems)
            self.check_problems += [f"{made.metadata.created_at}: {p}" for p in report.problems][
                :room
            ]

    def saw(self, now: pd.Timestamp, history: pd.DataFrame) -> None:
        self.decision_times.append(now)
        if len(history):
            last = pd.Timestamp(history.index[-1])
            if self.latest_history_seen is None or last > self.latest_history_seen:
                self.latest_history_seen = last


class Policy(ABC):
    name: str
    sees_the_future: bool = False

    def __init__(self, site: Site) -> None:
        self.site = site
        self.decisions = Decisions()

    @abstractmethod
    def setpoints(
        self,
        now: pd.Timestamp,
        state: MeasuredState,
        history: pd.DataFrame,
        current: Mapping[str, float],
    ) -> Mapping[str, float]:
        """Setpoints for the interval starting at ``now``. ``history`` ends before ``now``;
        ``current`` is the interval's true conditions (only real-time policies may read it)."""

    def begin(self, steps: pd.DatetimeIndex) -> None:
        """Called once before the replay's first interval with all its intervals."""
        return None

    def finish(self) -> None:
        """Called once after the replay's last interval (also when it failed)."""
        return None

    def adherence(self, actual: pd.DataFrame) -> Adherence | None:
        """How the replay's connection-point flow (``actual``, plan columns) kept the schedule
        this policy committed; None for a policy that commits none."""
        outside = self.deviation_outside_band_kw(actual)
        return None if outside is None else adherence_of(outside)

    def deviation_outside_band_kw(self, actual: pd.DataFrame) -> np.ndarray | None:
        """Per interval of ``actual``, the flow beyond the committed schedule's tolerance
        band (what the market settles as deviation); None for a policy that commits none."""
        return None


class OptimiserPolicy(Policy):
    """The production setup: a day-ahead plan at each gate time, intraday re-plans."""

    def __init__(
        self,
        site: Site,
        forecaster: Forecaster,
        intraday_every: pd.Timedelta | None,
        config: DispatchConfig = DEFAULT_CONFIG,
        peak_guard: bool = True,
        month_target: bool = True,
    ) -> None:
        super().__init__(site)
        self.peak_target: PeakTarget | None = (
            MonthPeakTarget(site, config) if month_target else None
        )
        """Chooses the month's target peak (None: the peak so far only)."""
        self.peak_guard = peak_guard
        """Send the batteries an import ceiling with each interval's setpoints (see
        :data:`controller.columns.GRID_IMPORT_CEILING_KW`)."""
        self.name = "optimiser day-ahead + intraday" if intraday_every else "optimiser day-ahead"
        self.forecaster = forecaster
        self.intraday_every = intraday_every
        self.config = config
        self.cache = ModelCache()  # own compiled problems: warm starts never cross replays
        self.committed: dict[pd.Timestamp, Plan] = {}  # by the local date they cover
        self.current: Plan | None = None
        self._setpoints: Setpoints | None = None
        """The plan in force's setpoints (read out when it came into force)."""

    def _plan(
        self,
        now: pd.Timestamp,
        end: pd.Timestamp,
        state: MeasuredState,
        history: pd.DataFrame,
        kind: PlanKind,
        committed: Plan | None,
    ) -> Plan:
        forecast = self.forecaster(now, end, history)
        made = plan(
            self.site,
            forecast,
            state,
            kind,
            committed,
            config=self.config,
            forecast_issued_at=now.to_pydatetime(),
            created_at=now.to_pydatetime(),
            cache=self.cache,
        )
        self.decisions.checked(self.site, made)
        return made

    def kind_at(self, now: pd.Timestamp, first: bool) -> PlanKind | None:
        """What is planned at ``now``: a day-ahead plan at start-up and at the gate time, an
        intraday plan where ``now`` is on the intraday clock (aligned to the day's start, as
        the service's scheduler runs it), else nothing (the plan in force carries on)."""
        if first or at_gate(self.site, now):
            return PlanKind.DAY_AHEAD
        every = self.intraday_every
        if every is not None and (now - now.normalize()) % every == pd.Timedelta(0):
            return PlanKind.INTRADAY
        return None

    def begin(self, steps: pd.DatetimeIndex) -> None:
        if isinstance(self.forecaster, PrefetchingForecaster):
            # the days committed as the replay will commit them, so that each forecast runs
            # to the end of the plan it is made for
            committed: set[pd.Timestamp] = set()
            calls = []
            for k, now in enumerate(steps):
                kind = self.kind_at(now, k == 0)
                if kind is not None:
                    calls.append(Call(now, _plan_end(self.site, now, kind, committed)))
                if kind is PlanKind.DAY_AHEAD:  # commits today (at start-up) and tomorrow
                    committed |= {now.normalize(), now.normalize() + pd.Timedelta(days=1)}
            self.forecaster.expect(calls)

    def finish(self) -> None:
        if isinstance(self.forecaster, PrefetchingForecaster):
            self.forecaster.close()

    def setpoints(
        self,
        now: pd.Timestamp,
        state: MeasuredState,
        history: pd.DataFrame,
        current: Mapping[str, float],
    ) -> Mapping[str, float]:
        self.decisions.saw(now, history)
        if self.peak_target is not None:
            target = self.peak_target(now, state, history)
            state = dataclasses.replace(state, month_peak_target_kw=target)
        today = now.normalize()
        tomorrow = today + pd.Timedelta(days=1)
        end_of_tomorrow = _end_of_tomorrow(self.site, now)
        kind = self.kind_at(now, self.current is None)
        if kind is PlanKind.DAY_AHEAD:
            # At the gate (or at start-up) the day-ahead plan runs to the end of tomorrow;
            # its part for tomorrow is what the utility receives.
            made = self._plan(now, end_of_tomorrow, state, history, PlanKind.DAY_AHEAD, None)
            self.committed[tomorrow] = made
            self.committed.setdefault(today, made)
            self.current = made
        elif kind is PlanKind.INTRADAY:
            end = _plan_end(self.site, now, kind, self.committed.keys())
            committed = self.committed.get(today)
            self.current = self._plan(now, end, state, history, PlanKind.INTRADAY, committed)
        assert self.current is not None  # the first call always plans
        if kind is not None or self._setpoints is None:
            self._setpoints = Setpoints(self.current.frame)
        if now not in self._setpoints:  # a plan always covers now; guard against gaps
            self.current = self._plan(
                now, end_of_tomorrow, state, history, PlanKind.INTRADAY, self.committed.get(today)
            )
            self._setpoints = Setpoints(self.current.frame)
        row = self._setpoints.at(now)
        if self.peak_guard:
            allowance = max(state.month_peak_import_kw, state.month_peak_target_kw)
            row[pc.GRID_IMPORT_CEILING_KW] = max(row[pc.GRID_IMPORT_KW], allowance)
        return row

    def committed_schedule(self) -> pd.DataFrame:
        """Connection-point schedule the utility received, day by day."""
        return committed_schedule({day: p.frame for day, p in self.committed.items()})

    def deviation_outside_band_kw(self, actual: pd.DataFrame) -> np.ndarray:
        return settled_deviation_kw(self.committed_schedule(), actual, self.config)


def settled_deviation_kw(
    schedule: pd.DataFrame, actual: pd.DataFrame, config: DispatchConfig
) -> np.ndarray:
    """Per interval of ``actual``, its connection-point flow beyond ``schedule``'s tolerance
    band: what the market settles as deviation."""
    committed = _net(schedule.reindex(actual.index)).to_numpy()
    return outside_band_kw(_net(actual).to_numpy(), committed, config)


def _net(frame: pd.DataFrame) -> pd.Series:
    return frame[pc.GRID_IMPORT_KW] - frame[pc.GRID_EXPORT_KW]


def _end_of_tomorrow(site: Site, now: pd.Timestamp) -> pd.Timestamp:
    """The furthest end any plan made at ``now`` covers (the day-ahead plan's)."""
    return plan_end(site, now, PlanKind.DAY_AHEAD, lambda day: False)


def _plan_end(
    site: Site, now: pd.Timestamp, kind: PlanKind, committed: Collection[pd.Timestamp]
) -> pd.Timestamp:
    """End of the plan made at ``now`` (``committed``: the days with a day-ahead plan, by
    their midnight): :func:`controller.horizons.plan_end`."""
    days = {day.date() for day in committed}
    return plan_end(site, now, kind, days.__contains__)


class RuleBasedPolicy(Policy):
    """Self-consumption rules reacting to the interval's conditions (no optimiser): what a
    park without our controller runs. The same rules are the planner's fallback.

    With a ``forecaster``, the park also commits a schedule as every park in the market does:
    at start-up and at each gate time, the rules' dispatch of the day-ahead forecast for the
    rest of today and tomorrow, and the market settles the deviation from it. The decisions
    stay the real-time rules'; only the bill has the deviation."""

    name = "rule-based self-consumption"

    def __init__(self, site: Site, forecaster: Forecaster | None = None) -> None:
        super().__init__(site)
        self.forecaster = forecaster
        self.committed: dict[pd.Timestamp, pd.DataFrame] = {}  # by the local date they cover

    def begin(self, steps: pd.DatetimeIndex) -> None:
        if isinstance(self.forecaster, PrefetchingForecaster):
            self.forecaster.expect(
                [
                    Call(now, _end_of_tomorrow(self.site, now))
                    for k, now in enumerate(steps)
                    if k == 0 or at_gate(self.site, now)
                ]
            )

    def finish(self) -> None:
        if isinstance(self.forecaster, PrefetchingForecaster):
            self.forecaster.close()

    def setpoints(
        self,
        now: pd.Timestamp,
        state: MeasuredState,
        history: pd.DataFrame,
        current: Mapping[str, float],
    ) -> Mapping[str, float]:
        self.decisions.saw(now, history)
        if self.forecaster is not None and (not self.committed or at_gate(self.site, now)):
            forecast = self.forecaster(now, _end_of_tomorrow(self.site, now), history)
            inputs = prepare(self.site, forecast, state, PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
            frame = dispatch_frame(self.site, inputs, fallback_dispatch(self.site, inputs))
            self.committed[now.normalize() + pd.Timedelta(days=1)] = frame
            self.committed.setdefault(now.normalize(), frame)
        specs = expected_series(self.site)
        truth = pd.DataFrame({c: [current[c]] for c in specs}, index=pd.DatetimeIndex([now]))
        inputs = prepare(self.site, as_forecast(truth), state, PlanKind.INTRADAY, DEFAULT_CONFIG)
        frame = dispatch_frame(self.site, inputs, fallback_dispatch(self.site, inputs))
        return Setpoints(frame).at(now)

    def deviation_outside_band_kw(self, actual: pd.DataFrame) -> np.ndarray | None:
        if self.forecaster is None:
            return None
        return settled_deviation_kw(committed_schedule(self.committed), actual, DEFAULT_CONFIG)


class PerfectForesightPolicy(Policy):
    """The bound: the optimiser given the true future, one calendar month at a time.

    Each month is planned once with perfect information, storage carried over from the
    month before. Months are the windows because the demand charge is billed on each
    month's peak, so within a window every cost term is exact; a single problem over a
    whole year does not fit the compiled model (a quarter already needs over 3 GB), so the
    bound is optimal within each month, and only the storage levels at the turn of a month
    are not optimised across it.
    """

    name = "perfect foresight (bound)"
    sees_the_future = True

    def __init__(
        self,
        site: Site,
        truth: pd.DataFrame,
        end: pd.Timestamp,
        config: DispatchConfig = BOUND_CONFIG,
    ) -> None:
        super().__init__(site)
        self.truth = truth
        self.end = end
        self.config = config
        self.frame: pd.DataFrame | None = None
        self._setpoints: Setpoints | None = None

    def setpoints(
        self,
        now: pd.Timestamp,
        state: MeasuredState,
        history: pd.DataFrame,
        current: Mapping[str, float],
    ) -> Mapping[str, float]:
        self.decisions.saw(now, history)
        if self.frame is None or now > self.frame.index[-1]:
            next_month = now.normalize().replace(day=1) + pd.offsets.MonthBegin(1)
            until = min(next_month, self.end) - STEP
            made = plan(
                self.site,
                as_forecast(self.truth.loc[now:until]),
                state,
                PlanKind.DAY_AHEAD,
                config=self.config,
            )
            self.decisions.checked(self.site, made)
            self.frame = made.frame
            self._setpoints = Setpoints(self.frame)
        assert self._setpoints is not None
        return self._setpoints.at(now)
