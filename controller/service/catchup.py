"""What the service makes at start: the plans missed while it was down.

Per park, in order, at start (after the demo feeder's backfill, if any):

1. no day-ahead plan for today -> a day-ahead plan for today, from now to midnight;
2. past today's gate time and no day-ahead plan for tomorrow (the gate run was missed) -> the
   day-ahead plan for tomorrow, from now to the end of tomorrow;
3. if neither was needed but no plan is in force now -> an intraday plan.

Each is a normal recorded run with trigger ``startup``. So a fresh service has a plan in
force within a minute, and a service restarted after a missed gate time commits tomorrow's
schedule at once instead of waiting a day. A failure is recorded like any run (the park is
degraded) and the scheduled jobs try again at their next time.

The parks are independent: the service catches them up at the same time, one thread per
park (:func:`catch_up_site`), their forecast fits in parallel worker processes
(:mod:`controller.service.fitpool`); a park's own plans are made one after another.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from controller.horizons import past_gate
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.runner import Runner
from controller.service.store import plans as plan_store
from controller.service.store.runs import Job, JobRun, Trigger
from sites import Site


@dataclass(frozen=True)
class Missing:
    job: Job
    target: date | None


def missing(runner: Runner, site: Site, now: datetime) -> list[Missing]:
    local = pd.Timestamp(now).tz_convert(site.location.timezone)
    today = local.date()
    tomorrow = today + timedelta(days=1)
    with db.read(runner.engine) as connection:
        has_today = plan_store.for_date(connection, site.id, PlanKind.DAY_AHEAD, today)
        has_tomorrow = plan_store.for_date(connection, site.id, PlanKind.DAY_AHEAD, tomorrow)
        in_force = plan_store.in_force(connection, site.id, now)
    needed = []
    if has_today is None:
        needed.append(Missing(Job.DAY_AHEAD, today))
    if past_gate(site, local) and has_tomorrow is None:
        needed.append(Missing(Job.DAY_AHEAD, tomorrow))
    if not needed and in_force is None:
        needed.append(Missing(Job.INTRADAY, None))
    return needed


def catch_up_site(runner: Runner, site: Site) -> list[JobRun]:
    """Make every missing plan of one park, in the order above."""
    return [
        runner.run(site.id, item.job, Trigger.STARTUP, target=item.target)
        for item in missing(runner, site, runner.clock())
    ]


def catch_up(runner: Runner, parallel: int = 1) -> list[JobRun]:
    """Make every missing plan of every park, ``parallel`` parks at a time; returns the runs
    (failed ones included), park by park in the parks' order."""
    sites = list(runner.parks.by_id.values())
    if parallel <= 1 or len(sites) <= 1:
        return [run for site in sites for run in catch_up_site(runner, site)]
    with ThreadPoolExecutor(min(parallel, len(sites)), thread_name_prefix="catch-up") as pool:
        per_site = list(pool.map(lambda site: catch_up_site(runner, site), sites))
    return [run for runs in per_site for run in runs]
