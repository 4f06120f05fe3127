"""A week of closed-loop replay of a park with flexible process loads (the test fixture
``data/flex_textile.yaml``: a daily batch, a curtailable and a shiftable share of two
loads; the batch has no minimum draw, so the plans stay LPs and the week stays quick: the
MILP path of a batch is in ``tests/controller/test_flexible_analytic.py``), through the
production controller and the rule-based
policy: every plan passes ``check_plan``, the plant conserves electricity in every
interval, each day's batch gets its energy in its window, and no moved energy is held
longer than the shift allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from controller import flexible as fx
from controller.check import check_plan
from controller.forecast_data import as_forecast
from controller.plan import PlanStatus
from controller.planner import plan
from controller.state import MeasuredState
from sim.forecaster import PrefetchingForecaster
from sim.policies import OptimiserPolicy, RuleBasedPolicy
from sim.replay import ReplayResult, energy_balance_error_kw, replay
from sites import columns, load_site
from sites.history.derive import load_history
from sites.tariff import site_tariff

SITE = load_site(Path(__file__).parent / "data" / "flex_textile.yaml")
TRUTH = load_history(SITE).frame
START = pd.Timestamp("2016-03-07", tz="Asia/Shanghai")  # history before it trains forecasts
END = START + pd.Timedelta(days=7)
INTRADAY_EVERY = pd.Timedelta(hours=6)  # fewer re-plans keep the test quick; same code path
BALANCE_TOL_KW = 1e-3  # AC power flow converges to 1e-8 MVA; 1 W is far above round-off
ENERGY_TOL_KWH = 1.0  # a 6 MWh batch summed from solver setpoints (1e-7 relative) and plant
BATCH = SITE.assets.batch_loads[0]
SHIFT = SITE.assets.shiftable_loads[0]
CURTAIL = SITE.assets.curtailable_loads[0]


@pytest.fixture(scope="module", params=["production", "rule-based"])
def week(request: pytest.FixtureRequest) -> ReplayResult:
    if request.param == "production":
        policy: Any = OptimiserPolicy(SITE, PrefetchingForecaster(SITE, TRUTH), INTRADAY_EVERY)
    else:
        policy = RuleBasedPolicy(SITE)
    return replay(SITE, TRUTH, policy, START, END)


def test_every_plan_passes_its_check_and_electricity_is_conserved(week: ReplayResult) -> None:
    assert len(week.frame) == 7 * 96
    assert week.counters.plans_failing_check == 0
    error = energy_balance_error_kw(SITE, week.frame)
    assert np.abs(error).max() < BALANCE_TOL_KW


def test_each_days_batch_gets_its_energy_within_its_window(week: ReplayResult) -> None:
    frame = week.frame
    power = frame[fx.batch_kw(BATCH.name)].to_numpy()
    inside = fx.in_window(BATCH, pd.DatetimeIndex(frame.index))
    assert power[~inside].max() == 0.0
    running = power[power > 0.0]
    assert running.min() >= BATCH.min_kw - 1e-6 and running.max() <= BATCH.max_kw + 1e-6
    daily = pd.Series(power * 0.25, index=frame.index).groupby(frame.index.date).sum()
    np.testing.assert_allclose(daily.to_numpy(), BATCH.energy_kwh, atol=ENERGY_TOL_KWH)
    assert week.kpis.batch_energy_kwh == pytest.approx(7 * BATCH.energy_kwh, abs=7 * ENERGY_TOL_KWH)


def test_moved_energy_is_made_up_within_the_shift(week: ReplayResult) -> None:
    # first in, first out, energy moves by at most max_shift_h where the backlog is at most
    # the share's baseline energy (of the true load) over the last max_shift_h hours, and
    # the energy advanced at most that over the next ones
    frame = week.frame
    down = frame[fx.shift_down_kw(SHIFT.name)].to_numpy()
    up = frame[fx.shift_up_kw(SHIFT.name)].to_numpy()
    backlog = fx.backlog_kwh(frame, SHIFT.name)
    np.testing.assert_allclose(backlog, np.cumsum(down - up) * 0.25, atol=1e-6)
    share = SHIFT.max_fraction * frame[columns.load_kw(SHIFT.load)].to_numpy()
    steps = SHIFT.shift_steps
    behind = np.convolve(share, np.ones(steps))[: len(share)] * 0.25
    ahead = np.convolve(share[::-1], np.ones(steps + 1))[: len(share)][::-1] * 0.25
    ahead -= share * 0.25
    assert (backlog <= behind + ENERGY_TOL_KWH).all()
    late = len(share) - steps
    assert (-backlog[:late] <= ahead[:late] + ENERGY_TOL_KWH).all()
    assert abs(backlog[-1]) <= behind[-1] + ENERGY_TOL_KWH


def test_load_is_curtailed_only_where_its_price_is_above_the_curtailment_cost(
    week: ReplayResult,
) -> None:
    frame = week.frame
    shed = frame[fx.curtailed_kw(CURTAIL.name)].to_numpy()
    price = site_tariff(SITE).prices(pd.DatetimeIndex(frame.index)).to_numpy(dtype=float)
    assert shed[price < CURTAIL.cost_cny_per_kwh].max(initial=0.0) <= 1e-6
    kpis = week.kpis
    assert kpis.curtailment_cost_cny >= CURTAIL.cost_cny_per_kwh * kpis.load_curtailed_kwh - 1e-6


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


def test_the_rule_based_plan_of_the_park_passes_its_check() -> None:
    day = TRUTH.loc[START : START + pd.Timedelta(days=2) - pd.Timedelta(minutes=15)]
    state = MeasuredState(
        batch_delivered_kwh={BATCH.name: 0.0}, shift_backlog_kwh={SHIFT.name: 250.0}
    )
    result = plan(SITE, as_forecast(day), state, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(SITE, result)
    assert report.ok, report
    assert fx.backlog_kwh(result.frame, SHIFT.name)[-1] == pytest.approx(0.0, abs=1e-6)
