"""Real plans on small horizons for the service and field tests, each made once per run."""

from __future__ import annotations

import pandas as pd

from controller.planner import plan as make_plan
from controller.plans.plan import Plan, PlanKind
from controller.service.feeder import replay_values
from sites import columns, load_bundled_site

_PLANS: dict[tuple[str, str, int, PlanKind], Plan] = {}


def real_plan(site_id: str, start: pd.Timestamp, steps: int, kind: PlanKind) -> Plan:
    """A plan by the real planner with the park's replayed year as a perfect forecast (a
    simulated plant playing the same year can follow it exactly)."""
    key = (site_id, start.isoformat(), steps, kind)
    if key not in _PLANS:
        site = load_bundled_site(site_id)
        index = pd.date_range(start.tz_convert(site.location.timezone), periods=steps, freq="15min")
        values = replay_values(site, index)
        forecast = pd.DataFrame(
            {columns.quantile(c, p): values[c] for c in values.columns for p in (10, 50, 90)}
        )
        _PLANS[key] = make_plan(site, forecast, kind=kind, forecast_issued_at=start.to_pydatetime())
    return _PLANS[key]


def real_committed_plans(site_id: str, start: pd.Timestamp, steps: int) -> tuple[Plan, Plan]:
    """A day-ahead plan and an intraday plan held to it as the committed schedule, by the
    real planner on the park's replayed year (the intraday plan carries the schedule and
    its tolerance band)."""
    day_ahead = real_plan(site_id, start, steps, PlanKind.DAY_AHEAD)
    site = load_bundled_site(site_id)
    index = pd.date_range(start.tz_convert(site.location.timezone), periods=steps, freq="15min")
    values = replay_values(site, index)
    forecast = pd.DataFrame(
        {columns.quantile(c, p): values[c] for c in values.columns for p in (10, 50, 90)}
    )
    intraday = make_plan(
        site,
        forecast,
        kind=PlanKind.INTRADAY,
        committed=day_ahead,
        forecast_issued_at=start.to_pydatetime(),
    )
    return day_ahead, intraday
