"""How a plan uses the prices the operator posted: the site it is made for carries them.

For each plan the newest posted price of every interval of its horizon goes into the site's
``tariff.posted_prices``; :func:`sites.tariff.site_tariff` lays them over the price series
file's and the calendar's, so the planner prices those intervals with them and the plan's
rows (and so the KPIs and the dashboard, which read the plans) carry them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from controller.service import db
from controller.service.pipeline import Horizon
from controller.service.prices import store
from sites import Site
from sites.tariff import with_posted_prices


def plan_prices(engine: Engine) -> Callable[[Site, Horizon], tuple[Site, Horizon]]:
    """The pipeline's hook: the park's posted prices over the horizon, on its site."""

    def prices(site: Site, horizon: Horizon) -> tuple[Site, Horizon]:
        with db.read(engine) as connection:
            posted = store.in_window(
                connection,
                site.id,
                horizon.issue_time.to_pydatetime(),
                horizon.end.to_pydatetime(),
            )
        if not posted:
            return site, horizon
        return with_posted_prices(site, posted), horizon

    return prices
