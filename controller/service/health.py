"""Is each park being planned? Degraded, and why, for ``/health``, metrics and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from controller.plan import PlanStatus
from controller.service import db
from controller.service.parks import Parks
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store import runs as run_store
from controller.service.store.runs import JobRun, RunStatus

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


def site_health(engine: Engine, site_id: str, now: datetime) -> SiteHealth:
    reasons = []
    with db.read(engine) as connection:
        last = run_store.last_per_job(connection, site_id)
        header = plan_store.in_force(connection, site_id, now)
        newest = measurement_store.newest_time(connection, site_id)
        fallbacks = (
            plan_store.forecast_fallbacks(connection, header.id) if header is not None else {}
        )
    for run in sorted(last.values(), key=lambda r: r.job.value):
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
    runs = tuple(sorted(last.values(), key=lambda r: r.started_at, reverse=True))
    return SiteHealth(site_id, tuple(reasons), header, runs, newest, fallbacks)


def all_health(engine: Engine, parks: Parks, now: datetime) -> dict[str, SiteHealth]:
    return {site_id: site_health(engine, site_id, now) for site_id in parks.ids}
