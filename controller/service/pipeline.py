"""One planning step against the store: measurements -> history -> forecast -> plan -> version.

The only module of the service that calls the forecaster and the planner, so the rest of
the service (API, scheduler, store) knows neither. Every plan is made the same way whether
the scheduler, the start-up catch-up or an operator asked for it:

1. the issue time is the start of the current quarter hour (park's clock); the history is
   the last ``history_days`` of measurements strictly before it, spikes left out
   (:func:`~controller.service.validation.without_spikes`);
2. the horizon runs from the issue time to the end of the target day: tomorrow for a
   day-ahead plan at the gate time (today when catching up a missing plan for today); for an
   intraday plan, the end of the day-ahead window (the last day with a day-ahead plan, at
   least today);
3. the forecast is stored, then planned from with the measured state: the newest measured
   battery SoC and tank level of the last hour, else what the plan in force expected at the
   issue time, else each store's configured initial level; whether each CHP unit runs (its
   metered output in the last hour above zero; unmetered: the site's ``initially_on``); the
   month's measured peak import
   and the month's target peak (:class:`controller.peak_target.MonthPeakTarget`, chosen at
   the park's first run of each month from its history);
4. an intraday plan is held to the committed connection schedule: for each day, the latest
   day-ahead version for that day;
5. the plan is stored as the next version of its (park, kind, date) in one transaction with
   the job run's outcome.

A park with little or no history is planned all the same: the forecaster falls back to
baselines per series (daily persistence, or the site's declaration when there is not a day
of history) and the plan's metadata names them. Where a run fails and no plan is in force,
:meth:`Pipeline.fallback` stores the rule-based ``FALLBACK`` plan on the declared baselines
(they need neither history nor a fitted model), so a park is never left without a plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine

from controller import columns as pc
from controller import horizons
from controller.horizons import (
    ONE_DAY,
    STEP,
    day_ahead_window_end,
    day_end,
    day_start,
    issue_time,
)
from controller.inputs.flexible import delivered_in_open_windows
from controller.inputs.state import MeasuredState, RenewableTally, default_state, year_fraction_left
from controller.planner import plan as make_plan
from controller.planner import rule_based_plan
from controller.plans.dispatch import ON_KW
from controller.plans.plan import Plan, PlanKind
from controller.service import db
from controller.service.jsonable import to_jsonable
from controller.service.planpool import Planner
from controller.service.store import forecasts as forecast_store
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.tracking import measured_period
from controller.service.validation import bounds_of, without_spikes
from forecasting import ForecastModels, fit
from sites import Site, columns
from sites.history.series import expected_series
from sites.time_step import HOURS_PER_STEP

Fitter = Callable[[Site, pd.DataFrame, pd.Timestamp], ForecastModels]
"""Fits a park's forecast models on the history complete by the issue time (``fit``, or
:class:`controller.service.fitpool.ForecastFitter` in worker processes)."""
STATE_MAX_AGE = pd.Timedelta(hours=1)
Limits = Callable[[Site, "Horizon"], tuple[Site, "Horizon"]]
"""The site and horizon a plan is made for, given the park's grid events
(:func:`controller.service.gridevents.rule.plan_limits`) and posted prices
(:func:`controller.service.prices.rule.plan_prices`), chained with :func:`chained`; none:
the site as it is."""


def chained(*hooks: Limits) -> Limits:
    """One hook that applies ``hooks`` in turn, each to what the one before returned."""

    def apply(site: Site, horizon: Horizon) -> tuple[Site, Horizon]:
        for hook in hooks:
            site, horizon = hook(site, horizon)
        return site, horizon

    return apply


@dataclass(frozen=True)
class Horizon:
    kind: PlanKind
    plan_date: date
    issue_time: pd.Timestamp
    """Start of the first planned interval (park's clock); history ends strictly before it."""
    end: pd.Timestamp
    """End of the last planned interval (exclusive)."""
    grid_limits_kw: tuple[tuple[pd.Timestamp, float, float], ...] = ()
    """Per-interval connection limits tighter than the site's (the utility's grid events,
    :func:`controller.service.gridevents.rule.plan_limits`), handed to the planner as
    :attr:`controller.inputs.state.MeasuredState.grid_limits_kw`."""

    @property
    def steps(self) -> int:
        return int((self.end - self.issue_time) / STEP)


def day_ahead_horizon(site: Site, now: datetime, target: date) -> Horizon:
    start = issue_time(site, now)
    return Horizon(PlanKind.DAY_AHEAD, target, start, day_end(site, target))


def intraday_horizon(connection: Connection, site: Site, now: datetime) -> Horizon:
    start = issue_time(site, now)
    today = start.date()

    def has_day_ahead(day: date) -> bool:
        return plan_store.for_date(connection, site.id, PlanKind.DAY_AHEAD, day) is not None

    return Horizon(
        PlanKind.INTRADAY, today, start, day_ahead_window_end(site, today, has_day_ahead)
    )


def history_frame(
    connection: Connection, site: Site, issue: pd.Timestamp, days: int
) -> pd.DataFrame:
    columns = list(expected_series(site))
    start = (issue - pd.Timedelta(days=days)).to_pydatetime()
    return measurement_store.frame(connection, site, columns, start, issue.to_pydatetime())


def measured_state(connection: Connection, site: Site, issue: pd.Timestamp) -> MeasuredState:
    """Storage levels and the month's peak import at ``issue`` (see the module docstring)."""
    base = default_state(site)
    at = issue.to_pydatetime()
    expected = _expected_levels(connection, site, issue)
    soc: dict[str, float] = {}
    for battery in site.assets.batteries:
        column = pc.battery_soc_kwh(battery.name)
        soc[battery.name] = _level(
            connection, site, column, at, expected, base.battery_soc_kwh[battery.name]
        )
    levels: dict[str, float] = {}
    for tank in site.assets.thermal_storage:
        column = pc.thermal_storage_level_kwh_th(tank.name)
        levels[tank.name] = _level(
            connection, site, column, at, expected, base.thermal_storage_level_kwh_th[tank.name]
        )
    hydrogen = {
        tank.name: _level(
            connection,
            site,
            pc.tank_level_kg(tank.name),
            at,
            expected,
            base.hydrogen_level_kg[tank.name],
        )
        for tank in site.assets.hydrogen_tanks
    }
    month_start = issue.normalize().replace(day=1).to_pydatetime()
    peak = measurement_store.maximum(connection, site.id, pc.GRID_IMPORT_KW, month_start, at)
    return MeasuredState(
        soc,
        levels,
        peak or 0.0,
        month_peak_metered=peak is not None,
        renewables_year_to_date=_year_to_date(connection, site, issue),
        chp_on=_chp_on(connection, site, at),
        batch_delivered_kwh=_batch_delivered(connection, site, issue, expected),
        shift_backlog_kwh={
            shift.name: expected.get(pc.shift_deferred_kwh(shift.name), 0.0)
            - expected.get(pc.shift_advanced_kwh(shift.name), 0.0)
            for shift in site.assets.shiftable_loads
        },
        shift_recent_kwh=_shift_recent(connection, site, issue),
        hydrogen_level_kg=hydrogen,
    )


def _batch_delivered(
    connection: Connection, site: Site, issue: pd.Timestamp, expected: Mapping[str, float]
) -> dict[str, float]:
    """What each batch has had in its window open at ``issue``: the sum of its metered draw
    where it is metered in that window, else what the plan in force expected (0 where no
    window is open, or one opens at ``issue``)."""
    local = issue.tz_convert(site.location.timezone)
    delivered: dict[str, float] = {}
    for batch in site.assets.batch_loads:
        opened = local.normalize() + pd.Timedelta(hours=batch.window_start_hour)
        draw = measurement_store.frame(
            connection,
            site,
            [columns.batch_kw(batch.name)],
            opened.to_pydatetime(),
            issue.to_pydatetime(),
        ).iloc[:, 0]
        if draw.notna().any():
            delivered[batch.name] = float(draw.fillna(0.0).clip(lower=0.0).sum()) * HOURS_PER_STEP
        else:
            delivered[batch.name] = expected.get(pc.batch_delivered_kwh(batch.name), 0.0)
    return delivered_in_open_windows(site, local, delivered)


def _shift_recent(
    connection: Connection, site: Site, issue: pd.Timestamp
) -> dict[str, tuple[float, ...]]:
    """Each shiftable share's baseline energy in the intervals before ``issue`` that its
    shift window reaches back to, from its load's metered draw (a load not metered in every
    one of them is left out: the plan then takes its starting backlog as deferred just
    now)."""
    recent: dict[str, tuple[float, ...]] = {}
    for shift in site.assets.shiftable_loads:
        steps = shift.shift_steps - 1
        if steps <= 0:
            continue
        start = (issue - steps * STEP).to_pydatetime()
        draw = measurement_store.frame(
            connection, site, [columns.load_kw(shift.load)], start, issue.to_pydatetime()
        ).iloc[:, 0]
        if len(draw) == steps and draw.notna().all():
            share = shift.max_fraction * draw.clip(lower=0.0) * HOURS_PER_STEP
            recent[shift.name] = tuple(float(x) for x in share)
    return recent


def _chp_on(connection: Connection, site: Site, at: datetime) -> dict[str, bool]:
    """Each CHP unit whose output was metered in the last hour: running where that output
    is above :data:`controller.dispatch.ON_KW` (a unit not metered is left to its site
    file's ``initially_on``)."""
    running: dict[str, bool] = {}
    for chp in site.assets.chp:
        point = measurement_store.latest(connection, site.id, columns.chp_kw(chp.name), at)
        if point is not None and pd.Timestamp(at) - pd.Timestamp(point.ts) <= STATE_MAX_AGE:
            running[chp.name] = point.value > ON_KW
    return running


def _year_to_date(connection: Connection, site: Site, issue: pd.Timestamp) -> RenewableTally:
    """The year so far as metered (:func:`controller.service.tracking.measured_period`, the
    policy ratios the utility reads): each plan holds the annual targets' budget that leaves.
    Where no export was metered this year the tally is empty: each plan then holds the
    targets over its own horizon."""
    local = issue.tz_convert(site.location.timezone)
    year = measured_period(connection, site, local.normalize().replace(month=1, day=1), local)
    if year.renewable_used_on_site_kwh is None or year.export_kwh is None:
        return RenewableTally(year_fraction_left=year_fraction_left(local))
    return RenewableTally(
        year.renewable_available_export_metered_kwh,
        year.renewable_used_on_site_kwh,
        year.export_kwh,
        year_fraction_left(local),
    )


def _level(
    connection: Connection,
    site: Site,
    column: str,
    at: datetime,
    expected: Mapping[str, float],
    default: float,
) -> float:
    point = measurement_store.latest(connection, site.id, column, at)
    if point is not None and pd.Timestamp(at) - pd.Timestamp(point.ts) <= STATE_MAX_AGE:
        return point.value
    return expected.get(column, default)


def _expected_levels(connection: Connection, site: Site, issue: pd.Timestamp) -> dict[str, float]:
    """Storage levels the plan in force expected at the end of the interval before ``issue``."""
    before = (issue - STEP).to_pydatetime()
    header = plan_store.in_force(connection, site.id, before)
    if header is None:
        return {}
    stored = plan_store.load(connection, header.id, site.location.timezone)
    if stored is None or (issue - STEP) not in stored.frame.index:
        return {}
    row = stored.frame.loc[issue - STEP]
    a = site.assets
    names = [pc.battery_soc_kwh(b.name) for b in a.batteries]
    names += [pc.thermal_storage_level_kwh_th(t.name) for t in a.thermal_storage]
    names += [pc.tank_level_kg(t.name) for t in a.hydrogen_tanks]
    names += [pc.batch_delivered_kwh(b.name) for b in a.batch_loads]
    for shift in a.shiftable_loads:
        names += [pc.shift_deferred_kwh(shift.name), pc.shift_advanced_kwh(shift.name)]
    return {n: float(row[n]) for n in names if n in row.index and pd.notna(row[n])}


def committed_schedule(connection: Connection, site: Site, horizon: Horizon) -> pd.DataFrame | None:
    """Grid import and export of the latest day-ahead version of each day in the horizon."""
    frames: dict[date, pd.DataFrame] = {}
    day = horizon.issue_time.date()
    while day_start(site, day) < horizon.end:
        header = plan_store.for_date(connection, site.id, PlanKind.DAY_AHEAD, day)
        if header is not None:
            stored = plan_store.load(connection, header.id, site.location.timezone)
            if stored is not None:
                frames[day] = stored.frame
        day += ONE_DAY
    return horizons.committed_schedule(frames) if frames else None


class Pipeline:
    """Makes and stores plans for the parks; one call is one planning step of one park.

    The forecaster's fitted models are kept per park and refitted on the newest history
    once they are ``refit_hours`` old (fitting is the slow part; predicting is fast), by
    ``fitter``. The month's peak target is chosen and the plan made by ``planner`` (in a
    worker process: :mod:`controller.service.planpool`). Runs of different parks may run at
    once (one at a time per park: the runner's lock).
    """

    def __init__(
        self,
        engine: Engine,
        history_days: int,
        refit_hours: float = 24.0,
        fitter: Fitter = fit,
        limits: Limits | None = None,
        planner: Planner | None = None,
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._history_days = history_days
        self._refit = pd.Timedelta(hours=refit_hours)
        self._fit = fitter
        self._models: dict[str, ForecastModels] = {}
        self._planner = planner or Planner(0)

    def models(self, site: Site, history: pd.DataFrame, issue: pd.Timestamp) -> ForecastModels:
        models = self._models.get(site.id)
        if models is None or issue - models.trained_until >= self._refit:
            models = self._fit(site, history, issue)
            self._models[site.id] = models
        return models

    def horizon(self, site: Site, kind: PlanKind, now: datetime, target: date | None) -> Horizon:
        if kind is PlanKind.DAY_AHEAD:
            day = target or (issue_time(site, now).date() + timedelta(days=1))
            return day_ahead_horizon(site, now, day)
        with db.read(self._engine) as connection:
            return intraday_horizon(connection, site, now)

    def run(
        self,
        site: Site,
        kind: PlanKind,
        now: datetime,
        run_id: int,
        target: date | None = None,
    ) -> plan_store.PlanHeader:
        """Forecast, plan and store; the plan and the run's success are one transaction."""
        horizon = self.horizon(site, kind, now, target)
        if self._limits is not None:
            site, horizon = self._limits(site, horizon)
        if horizon.steps <= 0:
            raise ValueError(f"{site.id}: nothing to plan for {horizon.plan_date} at {now}")
        with db.read(self._engine) as connection:
            history = history_frame(connection, site, horizon.issue_time, self._history_days)
        history = without_spikes(history, bounds_of(site))
        models = self.models(site, history, horizon.issue_time)
        made = models.predict(horizon.issue_time, horizon.end - horizon.issue_time, history)
        forecast = made.frame
        info = to_jsonable(made.metadata)
        window = pd.DatetimeIndex(forecast.index)
        forecast = forecast[(window >= horizon.issue_time) & (window < horizon.end)]
        with db.write(self._engine) as connection:
            forecast_id = forecast_store.insert(
                connection, site.id, forecast, horizon.issue_time.to_pydatetime(), info
            )
        with db.read(self._engine) as connection:
            state = measured_state(connection, site, horizon.issue_time)
            committed = (
                committed_schedule(connection, site, horizon) if kind is PlanKind.INTRADAY else None
            )
            version = plan_store.next_version(connection, site.id, kind, horizon.plan_date)
        chosen = self._planner.peak_target(site, horizon.issue_time, state, history)
        state = dataclasses.replace(
            state, month_peak_target_kw=chosen, grid_limits_kw=horizon.grid_limits_kw
        )
        plan = self._planner.plan(
            make_plan,
            site,
            forecast,
            state,
            kind,
            committed,
            forecast_issued_at=horizon.issue_time.to_pydatetime(),
            created_at=datetime.now(UTC),
            version_number=version,
            forecast_fallbacks=made.metadata.fallback_methods,
        )
        return store_plan(self._engine, plan, horizon.plan_date, forecast_id, run_id)

    def fallback(
        self,
        site: Site,
        kind: PlanKind,
        now: datetime,
        reason: str,
        target: date | None = None,
    ) -> plan_store.PlanHeader | None:
        """After a failed run, where no plan is in force now: the rule-based ``FALLBACK``
        plan on the declared baselines, stored as the next version (None: a plan is in
        force, or nothing to plan)."""
        with db.read(self._engine) as connection:
            if plan_store.in_force(connection, site.id, now) is not None:
                return None
        horizon = self.horizon(site, kind, now, target)
        if self._limits is not None:
            site, horizon = self._limits(site, horizon)
        if horizon.steps <= 0:
            return None
        zone = site.location.timezone
        nothing = pd.DataFrame(
            {c: pd.Series(dtype=float) for c in expected_series(site)},
            index=pd.DatetimeIndex([], tz=zone),
        )
        length = horizon.end - horizon.issue_time
        made = fit(site, nothing, horizon.issue_time).predict(horizon.issue_time, length, nothing)
        window = pd.DatetimeIndex(made.frame.index)
        forecast = made.frame[(window >= horizon.issue_time) & (window < horizon.end)]
        with db.read(self._engine) as connection:
            state = measured_state(connection, site, horizon.issue_time)
            version = plan_store.next_version(connection, site.id, kind, horizon.plan_date)
        state = dataclasses.replace(state, grid_limits_kw=horizon.grid_limits_kw)
        plan = rule_based_plan(
            site,
            forecast,
            state,
            kind,
            reason,
            forecast_issued_at=horizon.issue_time.to_pydatetime(),
            created_at=datetime.now(UTC),
            version_number=version,
            forecast_fallbacks=made.metadata.fallback_methods,
        )
        return store_plan(self._engine, plan, horizon.plan_date, None, None)


def store_plan(
    engine: Engine,
    plan: Plan,
    plan_date: date,
    forecast_id: int | None,
    run_id: int | None,
) -> plan_store.PlanHeader:
    """Plan header, rows and the run's success in one transaction."""
    with db.write(engine) as connection:
        header = plan_store.insert(connection, plan, plan_date, forecast_id, run_id)
        if run_id is not None:
            run_store.finish(connection, run_id, run_store.RunStatus.SUCCEEDED, plan_id=header.id)
    return header
