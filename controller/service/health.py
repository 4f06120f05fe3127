"""Is each park being planned? Degraded, and why, for ``/health``, metrics and the dashboard.

A run interrupted by a stop of the service (killed mid-way; marked failed at the next
start, :func:`~controller.service.store.runs.close_interrupted`) is shown but does not
degrade the park: nothing is wrong with the park, and the last good plan stays in force
(a park left without any plan in force is degraded for that). A measurement series whose
newest values have not moved for hours (a frozen sensor,
:func:`~controller.service.validation.frozen_series`) degrades the park with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from controller.plans.plan import PlanStatus
from controller.service import db
from controller.service.parks import Parks
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import JobRun, RunStatus
from controller.service.validation import FROZEN_INTERVALS, frozen_series
from sites import Site
from sites.history.series import SeriesKind, expected_series

STALE_MEASUREMENTS = timedelta(hours=1)


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
    engine: Engine, site_id: str, now: datetime, watched: Sequence[str] = ()
) -> SiteHealth:
    """``watched``: the series checked for a frozen sensor."""
    reasons = []
    with db.read(engine) as connection:
        last = run_store.last_per_job(connection, site_id)
        header = plan_store.in_force(connection, site_id, now)
        newest = measurement_store.newest_time(connection, site_id)
        fallbacks = (
            plan_store.forecast_fallbacks(connection, header.id) if header is not None else {}
        )
        tails = {
            series: measurement_store.newest_values(
                connection, site_id, series, now + timedelta(hours=1), FROZEN_INTERVALS
            )
            for series in watched
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
    if newest is None:
        reasons.append("no measurements received yet")
    elif now - newest > STALE_MEASUREMENTS + timedelta(minutes=15):
        reasons.append(f"no measurement since {newest:%Y-%m-%d %H:%M} UTC")
    for series in frozen_series(tails):
        reasons.append(
            f"measurements of {series} frozen: the same value {tails[series][-1]:g} for the "
            f"last {FROZEN_INTERVALS} quarter hours (a stuck sensor?)"
        )
    runs = tuple(sorted(last.values(), key=lambda r: r.started_at, reverse=True))
    return SiteHealth(site_id, tuple(reasons), header, runs, newest, fallbacks)


def all_health(engine: Engine, parks: Parks, now: datetime) -> dict[str, SiteHealth]:
    return {
        site_id: site_health(engine, site_id, now, watched_series(parks.by_id[site_id]))
        for site_id in parks.ids
    }


def watched_series(site: Site) -> list[str]:
    """The series a frozen sensor shows in: PV, wind, loads and heat demands (not waste heat,
    which a steady process holds at one value for days, nor the weather)."""
    watched = (SeriesKind.PV, SeriesKind.WIND, SeriesKind.LOAD, SeriesKind.HEAT_DEMAND)
    return [column for column, spec in expected_series(site).items() if spec.kind in watched]
