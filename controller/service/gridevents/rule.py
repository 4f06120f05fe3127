"""How a plan honours the grid events in force: through the connection limits the planner
already takes.

The planner holds one import and one export limit per connection for a whole horizon
(``site.grid_connection``), so a plan made while events are in force at its first interval
is made for a site whose limits are the tighter of its own and the events' caps, over a
horizon cut at the earliest end of those events: the caps hold in every interval of that
plan, and the plan in force before the event covers the time after it until the next
scheduled re-plan makes a plan from the window's end on. An import cap is held as a hard
limit where feasible and relaxed with the planner's named slack ``grid_import_limit``
(reported among the plan's relaxations) where not; an export cap is always feasible (the
renewables can be curtailed). An event that begins after a plan's first interval is
honoured by the first plan made at or after its start (the scheduled intraday plans run
every quarter hour), and from its first second by the export-limit setpoint sent to the
connection point's controller (:func:`export_cap_at`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from controller.service import db
from controller.service.gridevents import store
from controller.service.gridevents.store import GridEvent, GridEventKind
from controller.service.pipeline import Horizon
from sites import Site

INSTANT = timedelta(microseconds=1)


def in_force(events: Sequence[GridEvent], moment: datetime) -> list[GridEvent]:
    return [e for e in events if e.covers(moment)]


def capped(site: Site, horizon: Horizon, events: Sequence[GridEvent]) -> tuple[Site, Horizon]:
    """The site and horizon a plan is made for while ``events`` may be in force."""
    issue = horizon.issue_time.to_pydatetime()
    active = in_force(events, issue)
    if not active:
        return site, horizon
    grid = site.grid_connection
    imports = [e.limit_kw for e in active if e.kind is GridEventKind.IMPORT_CAP]
    exports = [e.limit_kw for e in active if e.kind is GridEventKind.EXPORT_CAP]
    limits = {
        "import_limit_kw": min([grid.import_limit_kw, *imports]),
        "export_limit_kw": min([grid.export_limit_kw, *exports]),
    }
    limited = site.model_copy(update={"grid_connection": grid.model_copy(update=limits)})
    end = min(horizon.end, min(_local(e.end, horizon) for e in active))
    return limited, dataclasses.replace(horizon, end=end)


def _local(moment: datetime, horizon: Horizon) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_convert(horizon.issue_time.tz)


def plan_limits(engine: Engine) -> Callable[[Site, Horizon], tuple[Site, Horizon]]:
    """The pipeline's hook: the events of the park overlapping the horizon, applied."""

    def limits(site: Site, horizon: Horizon) -> tuple[Site, Horizon]:
        with db.read(engine) as connection:
            events = store.overlapping(
                connection,
                site.id,
                horizon.issue_time.to_pydatetime(),
                horizon.end.to_pydatetime(),
            )
        return capped(site, horizon, events)

    return limits


def export_cap_at(engine: Engine, site_id: str) -> Callable[[datetime], float | None]:
    """The field loop's hook: the tightest export cap in force at an interval start."""

    def cap(moment: datetime) -> float | None:
        with db.read(engine) as connection:
            events = store.overlapping(connection, site_id, moment, moment + INSTANT)
        caps = [e.limit_kw for e in in_force(events, moment) if e.kind is GridEventKind.EXPORT_CAP]
        return min(caps) if caps else None

    return cap
