"""The replay's bill against a hand computation from its per-interval actuals.

The demand charge is billed per calendar month on that month's highest 15-minute import (the
AC power flow's, losses included); a replay across a month's turn must bill two peaks.
"""

from __future__ import annotations

import pandas as pd
import pytest

from controller import columns as pc
from sim.policies import RuleBasedPolicy
from sim.replay import ReplayResult, replay
from sites import load_bundled_site
from sites.history.derive import load_history

SITE = load_bundled_site("gaotang-textile")
TRUTH = load_history(SITE).frame
START = pd.Timestamp("2016-03-17", tz="Asia/Shanghai")
END = pd.Timestamp("2016-04-17", tz="Asia/Shanghai")  # a month across the turn of March
RATE_CNY_PER_KW_MONTH = 38.4  # shandong-2025 calendar, 35 kV class (the park's connection)
MONEY_TOL_CNY = 1e-6  # the same sums in another order: only float round-off differs


@pytest.fixture(scope="module")
def month() -> ReplayResult:
    return replay(SITE, TRUTH, RuleBasedPolicy(SITE), START, END)


def test_the_demand_charge_is_billed_per_month(month: ReplayResult) -> None:
    peaks: dict[tuple[int, int], float] = {}
    for stamp, value in month.frame[pc.GRID_IMPORT_KW].items():
        key = (stamp.year, stamp.month)  # the site's local clock
        peaks[key] = max(peaks.get(key, 0.0), float(value))
    assert sorted(peaks) == [(2016, 3), (2016, 4)]
    by_hand = RATE_CNY_PER_KW_MONTH * sum(peaks.values())
    assert month.kpis.demand_charge_cny == pytest.approx(by_hand, abs=MONEY_TOL_CNY)
    # billed once on the period's peak it would be less: the test tells the two apart
    once = RATE_CNY_PER_KW_MONTH * max(peaks.values())
    assert by_hand > once + RATE_CNY_PER_KW_MONTH * min(peaks.values()) / 2
