"""How a plan and the connection point honour the grid events: as per-interval connection
limits.

Every event overlapping a plan's horizon gives limits for the intervals of its window
(:attr:`controller.service.pipeline.Horizon.grid_limits_kw`, handed to the planner as
:attr:`controller.inputs.state.MeasuredState.grid_limits_kw`), so a plan made before a window
already prepares for it (a battery charged ahead of a demand-response hour) and the
intervals after it keep the connection's own limits:

- an import cap: import at most ``limit_kw``;
- an export cap: export at most ``limit_kw``;
- a target exchange profile (net exchange ``T`` per interval, import +, tolerance ``b`` =
  ``limit_kw``): import at most ``max(T + b, 0)`` and export at most ``max(b - T, 0)``, i.e.
  the exchange in the target's direction at most the target plus the tolerance and no flow
  against it beyond the tolerance. The plan does not force the park to import or export
  more than it would (a park below a demand-response target has followed it).

Where several apply, the tightest holds. Import limits are hard where feasible and relaxed
through the planner's named slack ``grid_import_limit`` (reported among the plan's
relaxations) where not; export limits are always feasible (the renewables can be
curtailed). At the connection point the field loop sends the same limits, interval by
interval, as the ``import_limit_kw`` and ``export_limit_kw`` setpoints
(:func:`connection_caps_at`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from controller.horizons import STEP
from controller.service import db
from controller.service.gridevents import store
from controller.service.gridevents.store import GridEvent, GridEventKind
from controller.service.pipeline import Horizon
from sites import Site

INSTANT = timedelta(microseconds=1)
Caps = tuple[float | None, float | None]
"""Import and export limit at the connection point (``None``: no event's)."""


def in_force(events: Sequence[GridEvent], moment: datetime) -> list[GridEvent]:
    return [e for e in events if e.covers(moment)]


@functools.lru_cache(maxsize=64)
def _targets_of(event: GridEvent) -> dict[pd.Timestamp, float]:
    return {pd.Timestamp(at).tz_convert("UTC"): value for at, value in event.targets}


def _target_at(event: GridEvent, moment: datetime) -> float | None:
    return _targets_of(event).get(pd.Timestamp(moment).tz_convert("UTC").floor("15min"))


def event_limits(event: GridEvent, moment: datetime) -> Caps:
    """What one event asks of the connection point at ``moment`` (inside its window)."""
    if event.kind is GridEventKind.IMPORT_CAP:
        return event.limit_kw, None
    if event.kind is GridEventKind.EXPORT_CAP:
        return None, event.limit_kw
    target = _target_at(event, moment)
    if target is None:
        return None, None
    return max(target + event.limit_kw, 0.0), max(event.limit_kw - target, 0.0)


def caps_at(events: Sequence[GridEvent], moment: datetime) -> Caps:
    """The tightest import and export limits of the events in force at ``moment``."""
    imports, exports = [], []
    for e in in_force(events, moment):
        i, x = event_limits(e, moment)
        if i is not None:
            imports.append(i)
        if x is not None:
            exports.append(x)
    return (min(imports) if imports else None), (min(exports) if exports else None)


def limited(site: Site, horizon: Horizon, events: Sequence[GridEvent]) -> Horizon:
    """``horizon`` with the per-interval limits of ``events`` below the site's."""
    grid = site.grid_connection
    out = []
    for at in pd.date_range(horizon.issue_time, periods=max(horizon.steps, 0), freq=STEP):
        imports, exports = caps_at(events, at.to_pydatetime())
        if imports is None and exports is None:
            continue
        i = grid.import_limit_kw if imports is None else min(imports, grid.import_limit_kw)
        x = grid.export_limit_kw if exports is None else min(exports, grid.export_limit_kw)
        out.append((at, i, x))
    return dataclasses.replace(horizon, grid_limits_kw=tuple(out)) if out else horizon


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
        return site, limited(site, horizon, events)

    return limits


def connection_caps_at(engine: Engine, site_id: str) -> Callable[[datetime], Caps]:
    """The field loop's hook: the import and export limits of the events in force at an
    interval start (sent as the ``import_limit_kw`` and ``export_limit_kw`` setpoints)."""

    def caps(moment: datetime) -> Caps:
        with db.read(engine) as connection:
            events = store.overlapping(connection, site_id, moment, moment + INSTANT)
        return caps_at(events, moment)

    return caps
