"""A plan made with perfect conditions, applied to the plant under those very conditions,
is followed in every interval: the planner's physics and the plant's agree."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.policies import PerfectForesightPolicy
from sim.replay import ReplayResult, replay
from sites import load_bundled_site
from sites.history.derive import load_history

ZONE = "Asia/Shanghai"
PARKS = ["gaotang-textile", "liaocheng-chemical", "chiping-aluminium", "liaocheng-chemical-chp"]
"""The last: a gas turbine CHP (binaries, a week's MILP in one plan) and a waste-heat turbine."""


@pytest.fixture(scope="module", params=PARKS)
def week(request: pytest.FixtureRequest) -> ReplayResult:
    site = load_bundled_site(request.param)
    truth = load_history(site).frame
    start = pd.Timestamp("2016-01-11", tz=ZONE)  # winter: heat pumps, shared streams, tanks
    end = start + pd.Timedelta(days=7)
    return replay(site, truth, PerfectForesightPolicy(site, truth, end), start, end)


def test_every_setpoint_is_followed(week: ReplayResult) -> None:
    counters = week.counters
    assert counters.plans_made == 1
    assert counters.setpoints_not_followed == 0, counters.not_followed_by_setpoint
    assert counters.heat_unmet_kwh_th == 0.0
    assert counters.network_violations == 0
