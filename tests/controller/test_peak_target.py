"""The month's target peak: chosen once a month from the latest month of history, or every
day from the days of this month where the history holds no previous month."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from controller import columns as pc
from controller.inputs.forecast_data import as_forecast
from controller.inputs.state import default_state
from controller.peak_target import MonthPeakTarget
from controller.planner import plan
from controller.plans.plan import PlanKind
from sites import load_bundled_site
from sites.history.derive import load_history

SITE = load_bundled_site("gaotang-textile")
TRUTH = load_history(SITE).frame
ZONE = "Asia/Shanghai"
POWER_TOL_KW = 1e-6  # the same solve twice: only round-off may differ


def _at(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz=ZONE)


def test_the_target_is_the_peak_of_the_best_dispatch_of_the_previous_month() -> None:
    target = MonthPeakTarget(SITE)
    now = _at("2016-03-10")
    history = TRUTH.loc[: now - pd.Timedelta(minutes=15)]
    chosen = target(now, default_state(SITE), history)
    february = TRUTH.loc["2016-02-01":"2016-02-29"]
    best = plan(
        SITE, as_forecast(february), default_state(SITE), PlanKind.DAY_AHEAD, config=target.config
    )
    assert chosen == pytest.approx(float(best.frame[pc.GRID_IMPORT_KW].max()), abs=POWER_TOL_KW)
    assert 0 < chosen <= SITE.grid_connection.import_limit_kw
    # kept for the rest of the month, whatever the history then holds
    assert target(_at("2016-03-20"), default_state(SITE), history.iloc[:10]) == chosen


def _best_peak(window: pd.DataFrame, share: float, target: MonthPeakTarget) -> float:
    config = dataclasses.replace(target.config, demand_charge_share=share)
    best = plan(SITE, as_forecast(window), default_state(SITE), PlanKind.DAY_AHEAD, config=config)
    return float(best.frame[pc.GRID_IMPORT_KW].max())


def test_without_a_previous_month_the_days_of_this_one_choose_again_every_day() -> None:
    """From 1-7 January alone, with a week's share of the month's charge; the next day from
    1-8 January; no history, no target."""
    target = MonthPeakTarget(SITE)
    history = TRUTH.loc[: _at("2016-01-08") - pd.Timedelta(minutes=15)]
    first = target(_at("2016-01-08"), default_state(SITE), history)
    assert first == pytest.approx(_best_peak(history, 7 / 31, target), abs=POWER_TOL_KW)
    # the full charge on a week's arbitrage holds the peak lower: the share matters
    assert _best_peak(history, 1.0, target) < first
    assert target(_at("2016-01-08 12:00"), default_state(SITE), history) == first
    history = TRUTH.loc[: _at("2016-01-09") - pd.Timedelta(minutes=15)]
    second = target(_at("2016-01-09"), default_state(SITE), history)
    assert second == pytest.approx(_best_peak(history, 8 / 31, target), abs=POWER_TOL_KW)
    empty = MonthPeakTarget(SITE)
    assert empty(_at("2016-01-01"), default_state(SITE), TRUTH.iloc[:0]) == 0.0
