"""A park with everything at the connection point: one bus, no branch.

The network is then trivial: the grid takes the bus balance, with no losses, no branch
loading and the slack voltage at the one bus. Planning, AC verification and replay must
treat it so, rather than fail in the power flow for want of a bus with unknown voltage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import DEEP_VALLEY, base_mapping, day_index, flat_prices, forecast, site_from
from numpy.testing import assert_allclose

from controller import columns as pc
from controller.inputs.state import MeasuredState
from controller.network.linear import network_for
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import Plan, PlanStatus
from network_models.verify import NetworkVerifier
from sim.policies import PerfectForesightPolicy
from sim.replay import replay
from sites import Site, columns
from sites.history.series import expected_series

POWER_TOL_KW = 0.5
ENERGY_TOL_KWH = 0.5


def _one_bus_site() -> Site:
    raw = base_mapping()
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(deep_valley=DEEP_VALLEY)
    raw["assets"]["pv"][0]["bus"] = "pcc"
    raw["network"] = {"buses": [{"name": "pcc", "vn_kv": 10}], "lines": []}
    return site_from(raw)


def _pv_kw(index: pd.DatetimeIndex) -> np.ndarray:
    hours = index.hour + index.minute / 60
    return np.where((hours >= 10) & (hours < 14), 600.0, 0.0)


@pytest.fixture(scope="module")
def planned() -> tuple[Site, pd.DataFrame, Plan]:
    site = _one_bus_site()
    index = day_index()
    fc = forecast(site, index, pv_roof_kw=_pv_kw(index), load_plant_kw=1000.0)
    return site, fc, plan(site, fc, MeasuredState(month_peak_import_kw=1e6))


def test_a_one_bus_park_plans_and_passes_every_check(
    planned: tuple[Site, pd.DataFrame, Plan],
) -> None:
    site, fc, result = planned
    assert result.status is PlanStatus.OPTIMAL
    assert check_plan(site, result).ok, check_plan(site, result)
    # No branch, and the one bus is held at the slack voltage: no network row to plan with.
    linear, _ = network_for(site)
    assert linear.n_rows == 0
    frame = result.frame
    assert_allclose(frame[pc.NETWORK_LOSSES_KW], 0.0, atol=1e-9)
    # The battery still moves energy into the deep valley (10:00-15:00) and out of the peak.
    valley = (frame.index.hour >= 10) & (frame.index.hour < 15)
    assert frame.loc[valley, "battery_bess_charge_kw"].sum() > 0.0
    assert frame.loc[~valley, "battery_bess_charge_kw"].max() <= POWER_TOL_KW


def test_ac_verification_of_a_one_bus_park_is_the_bus_balance(
    planned: tuple[Site, pd.DataFrame, Plan],
) -> None:
    site, _, result = planned
    verification = NetworkVerifier(site).verify(result.frame)
    assert verification.ok
    assert verification.line_loading_percent.shape[1] == 0
    assert verification.trafo_loading_percent.shape[1] == 0
    assert verification.violations.empty
    # One voltage column, the connection point at its set point.
    assert verification.vm_pu.shape[1] == 1
    assert_allclose(verification.vm_pu.to_numpy(), 1.0)
    intervals = verification.intervals
    assert_allclose(intervals["losses_kw"], 0.0, atol=1e-9)
    frame = result.frame
    assert_allclose(intervals["grid_import_kw"], frame[pc.GRID_IMPORT_KW], atol=POWER_TOL_KW)
    assert_allclose(intervals["grid_export_kw"], frame[pc.GRID_EXPORT_KW], atol=POWER_TOL_KW)


def test_a_one_bus_park_replays(planned: tuple[Site, pd.DataFrame, Plan]) -> None:
    site, fc, _ = planned
    truth = fc.rename(columns={columns.quantile(c, 50): c for c in expected_series(site)})
    start, end = truth.index[0], truth.index[-1] + pd.Timedelta(minutes=15)
    day = replay(site, truth, PerfectForesightPolicy(site, truth, end), start, end)
    counters = day.counters
    assert counters.setpoints_not_followed == 0, counters.not_followed_by_setpoint
    assert counters.network_violations == 0
    assert day.verification.ok
    assert_allclose(day.verification.intervals["losses_kw"], 0.0, atol=1e-9)
