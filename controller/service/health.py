"""Is each park being planned? Degraded, and why, for ``/health``, metrics and the dashboard.

A run interrupted by a stop of the service (killed mid-way; marked failed at the next
start, :func:`~controller.service.store.runs.close_interrupted`) is shown but does not
degrade the park: nothing is wrong with the park, and the last good plan stays in force
(a park left without any plan in force is degraded for that). A measurement series whose
newest values have not moved for hours (a frozen sensor,
:func:`~controller.service.validation.frozen_series`) degrades the park with a warning, and so
do a spike among them, a battery's newest level outside its window, a clock jump the running
service saw between the park's runs, and a plan in force whose making went wrong in a way it
records (:func:`plan_alarms`: forecast data repaired, a solution not proven optimal, a
measured level brought back into its window).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from controller import columns as pc
from controller.plans.plan import PlanStatus
from controller.service import db
from controller.service.parks import Parks
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import JobRun, RunStatus
from controller.service.validation import (
    FROZEN_INTERVALS,
    Bound,
    bounds_of,
    frozen_series,
    spiked_series,
)
from sites import Site
from sites.history.series import SeriesKind, expected_series
from sites.time_step import STEP

STALE_MEASUREMENTS = timedelta(hours=1)
INACCURATE_NOTE = "solver outcome: solved_inaccurate"
NORMAL_DATA_NOTES = ("intraday plan without a committed schedule",)
"""Data notes of a plan that are no fault (no day-ahead plan to hold an intraday one to)."""
LEVEL_OUTSIDE_WINDOW = ("battery_soc_min", "battery_soc_max", "storage_capacity")


@dataclass(frozen=True)
class SiteHealth:
    site_id: str
    reasons: tuple[str, ...]
    plan_in_force: plan_store.PlanHeader | None
    last_runs: tuple[JobRun, ...] = field(default=())
    newest_measurement: datetime | None = None
    forecast_fallbacks: dict[str, str] = field(default_factory=dict)
    """Series the plan in force was planned on with a fallback forecast (a park with little
    or no history): shown, not a degradation."""

    @property
    def degraded(self) -> bool:
        return bool(self.reasons)


def site_health(
    engine: Engine,
    site_id: str,
    now: datetime,
    watched: Sequence[str] = (),
    bounds: Mapping[str, Bound] | None = None,
    alarms: Sequence[str] = (),
    windows: Mapping[str, tuple[float, float]] | None = None,
) -> SiteHealth:
    """``watched``: the series checked for a frozen sensor and, with their ``bounds``, for
    spikes; ``alarms``: what the running service itself saw of the park (a clock jump);
    ``windows``: the storage levels' series and the window each must stay in."""
    reasons = list(alarms)
    with db.read(engine) as connection:
        last = run_store.last_per_job(connection, site_id)
        header = plan_store.in_force(connection, site_id, now)
        newest = measurement_store.newest_time(connection, site_id)
        fallbacks = (
            plan_store.forecast_fallbacks(connection, header.id) if header is not None else {}
        )
        notes, relaxations = (
            plan_store.notes_and_relaxations(connection, header.id)
            if header is not None
            else ([], [])
        )
        tails = {
            series: measurement_store.newest_values(
                connection, site_id, series, now + timedelta(hours=1), FROZEN_INTERVALS
            )
            for series in watched
        }
        levels = {
            series: measurement_store.latest(connection, site_id, series, now + STEP)
            for series in (windows or {})
        }
    for run in sorted(last.values(), key=lambda r: r.job.value):
        if run.status is RunStatus.FAILED and run.error == run_store.INTERRUPTED:
            continue  # the stop is over; "no plan in force" says it if nothing is left
        if run.status is RunStatus.FAILED:
            reasons.append(
                f"last {run.job.value} run (started {run.started_at:%Y-%m-%d %H:%M} UTC) failed: "
                f"{run.error}; the last good plan stays in force"
            )
    if header is None:
        reasons.append("no plan in force now")
    elif header.status == PlanStatus.FALLBACK.value:
        reasons.append(f"plan in force ({header.id}) is a rule-based fallback: the solver failed")
    if header is not None:
        reasons += plan_alarms(header.id, notes, relaxations)
    if newest is None:
        reasons.append("no measurements received yet")
    elif now - newest > STALE_MEASUREMENTS + STEP:
        reasons.append(f"no measurement since {newest:%Y-%m-%d %H:%M} UTC")
    for series in frozen_series(tails):
        reasons.append(
            f"measurements of {series} frozen: the same value {tails[series][-1]:g} for the "
            f"last {FROZEN_INTERVALS} quarter hours (a stuck sensor?)"
        )
    for series, value in spiked_series(tails, dict(bounds or {})).items():
        reasons.append(
            f"measurements of {series}: a spike to {value:g} among the last "
            f"{FROZEN_INTERVALS} quarter hours, left out of forecasts and plans (correct or "
            "delete it)"
        )
    for series, point in levels.items():
        low, high = (windows or {})[series]
        recent = point is not None and now - point.ts <= STALE_MEASUREMENTS
        if point is not None and recent and not low <= point.value <= high:
            reasons.append(
                f"{series} reported {point.value:g} at {point.ts:%Y-%m-%d %H:%M} UTC, outside "
                f"its window {low:g}..{high:g}: planned from it, brought back into the window"
            )
    runs = tuple(sorted(last.values(), key=lambda r: r.started_at, reverse=True))
    return SiteHealth(site_id, tuple(reasons), header, runs, newest, fallbacks)


def plan_alarms(
    plan_id: int, notes: Sequence[str], relaxations: Sequence[Mapping[str, Any]]
) -> list[str]:
    """What the plan in force says went wrong while it was made: the solver's solution not
    proven optimal, forecast data repaired, a measured storage level outside its window.
    (A RELAXED plan is not an alarm in itself: a policy target out of reach or an intraday
    plan without a day-ahead commitment is the park's situation, not a fault.)"""
    found = []
    if INACCURATE_NOTE in notes:
        found.append(
            f"plan in force ({plan_id}): the solver stopped before proving its solution optimal "
            "(solved_inaccurate); the plan is feasible and checked"
        )
    repaired = [
        str(r.get("detail", ""))
        for r in relaxations
        if r.get("constraint") == "data"
        and not str(r.get("detail", "")).startswith(NORMAL_DATA_NOTES)
    ]
    if repaired:
        found.append(f"plan in force ({plan_id}) made on repaired data: {'; '.join(repaired)}")
    for r in relaxations:
        constraint = str(r.get("constraint", ""))
        if constraint.startswith(LEVEL_OUTSIDE_WINDOW):
            found.append(
                f"plan in force ({plan_id}) relaxed {constraint} by {float(r.get('amount', 0)):g} "
                f"{r.get('unit', '')}: the measured level is outside its window, brought back in"
            )
    return found


def all_health(
    engine: Engine,
    parks: Parks,
    now: datetime,
    alarms: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, SiteHealth]:
    """``alarms``: per park, what the running service itself saw (see :func:`site_health`)."""
    return {
        site_id: site_health(
            engine,
            site_id,
            now,
            watched_series(parks.by_id[site_id]),
            bounds_of(parks.by_id[site_id]),
            (alarms or {}).get(site_id, ()),
            storage_windows(parks.by_id[site_id]),
        )
        for site_id in parks.ids
    }


def storage_windows(site: Site) -> dict[str, tuple[float, float]]:
    """Each battery's state-of-charge series and its window (a tank may run empty to full)."""
    return {
        pc.battery_soc_kwh(b.name): (b.soc_min_kwh, b.soc_max_kwh) for b in site.assets.batteries
    }


def watched_series(site: Site) -> list[str]:
    """The series a frozen sensor shows in: PV, wind, loads and heat demands (not waste heat,
    which a steady process holds at one value for days, nor the weather)."""
    watched = (SeriesKind.PV, SeriesKind.WIND, SeriesKind.LOAD, SeriesKind.HEAT_DEMAND)
    return [column for column, spec in expected_series(site).items() if spec.kind in watched]
