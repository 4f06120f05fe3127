"""Hydrogen as storage on a tiny park, where the best plan is known by hand.

Park: a 1 MW load at the grid bus and 2 MWp of PV on the feeder (2 MW at noon, a triangle
from 06:00 to 18:00), no battery; import at 0.8 CNY/kWh all day, export at 0.4. A 1 MW
electrolyser (50 kWh per kg) fills a 1000 kg tank (half full) whose offtake (up to 100 kg/h)
is sold at ``value`` CNY/kg: hydrogen is worth value / 50 per kWh of electricity. Cost
first: the electrolyser takes surplus PV rather than export where value / 50 > 0.4, and
never imports for hydrogen while value / 50 < 0.8.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from
from rich.console import Console

from controller import columns as pc
from controller.cli.plan_cmd import kpi_table
from controller.config import DEFAULT_CONFIG, Objective
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.kpi import compute_kpis
from controller.plans.plan import PlanStatus
from sites import columns

POWER_TOL_KW = 0.5  # solver tolerances on kW rows, far below anything metered
KG_TOL = 0.05
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
COST_FIRST = dataclasses.replace(
    DEFAULT_CONFIG, priority=(Objective.COST, Objective.CO2), enforce_policy_targets=False
)
LOAD_KW = 1000.0


def _pv(index: Any) -> np.ndarray:
    hours = np.asarray(index.hour + index.minute / 60.0)
    return np.clip(2000.0 * (1.0 - np.abs(hours - 12.0) / 6.0), 0.0, None)


def _surplus(frame: Any, cap_kw: float | None = 1000.0) -> np.ndarray:
    """PV beyond the load and the network losses the plan expects (the feeder's line)."""
    surplus = _pv(frame.index) - LOAD_KW - frame["network_losses_kw"].to_numpy()
    return np.clip(surplus, 0.0, cap_kw)


def _site(value: float, **electrolyser: Any) -> Any:
    raw = base_mapping()
    raw["assets"]["batteries"] = []
    raw["assets"]["electrolysers"] = [
        {"name": "pem", "bus": "pcc", "tank": "h2", "rated_kw": 1000.0, **electrolyser}
    ]
    if "efficiency_curve" not in electrolyser:
        raw["assets"]["electrolysers"][0]["kwh_per_kg"] = 50.0
    raw["assets"]["hydrogen_tanks"] = [
        {
            "name": "h2",
            "capacity_kg": 1000.0,
            "standing_loss_fraction_per_hour": 0.001,
            "value_cny_per_kg": value,
            "max_offtake_kg_per_h": 100.0,
        }
    ]
    return site_from(raw)


def _plan(site: Any, config: Any = COST_FIRST) -> Any:
    index = day_index()
    fc = forecast(site, index, load_plant_kw=LOAD_KW, pv_roof_kw=_pv(index))
    result = plan(site, fc, NO_DEMAND_CHARGE, config=config)
    assert result.status is PlanStatus.OPTIMAL, (result.status, result.relaxations)
    report = check_plan(site, result)
    assert report.ok, report
    return result.frame


def test_the_electrolyser_runs_on_surplus_pv_rather_than_export_when_hydrogen_pays() -> None:
    # 30 CNY/kg = 0.6 CNY/kWh: above export (0.4), below import (0.8)
    site = _site(30.0)
    frame = _plan(site)
    surplus = _surplus(frame)
    power = frame[columns.electrolyser_kw("pem")].to_numpy()
    np.testing.assert_allclose(power, surplus, atol=POWER_TOL_KW)
    assert frame["grid_export_kw"].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    made = frame[pc.electrolyser_hydrogen_kg_per_h("pem")].to_numpy()
    np.testing.assert_allclose(made, power / 50.0, atol=KG_TOL)
    kpis = compute_kpis(site, frame)
    assert kpis.hydrogen_made_kg == pytest.approx(surplus.sum() * 0.25 / 50.0, abs=KG_TOL)
    assert kpis.electrolyser_kwh == pytest.approx(surplus.sum() * 0.25, abs=1.0)
    assert kpis.hydrogen_vented_kg == pytest.approx(0.0, abs=KG_TOL)
    # the hydrogen made is sold (the tank ends where it started, less its standing loss)
    assert kpis.hydrogen_offtake_kg == pytest.approx(kpis.hydrogen_made_kg, rel=0.05)
    assert kpis.hydrogen_value_cny == pytest.approx(30.0 * kpis.hydrogen_offtake_kg)
    console = Console(width=200, record=True)
    console.print(kpi_table(kpis))
    assert "hydrogen made, vented, taken off kg" in console.export_text()


def test_the_electrolyser_stays_off_when_export_pays_more() -> None:
    # 10 CNY/kg = 0.2 CNY/kWh < 0.4 export: the surplus is exported
    frame = _plan(_site(10.0))
    assert frame[columns.electrolyser_kw("pem")].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    surplus = _surplus(frame, cap_kw=None)
    np.testing.assert_allclose(frame["grid_export_kw"], surplus, atol=POWER_TOL_KW)


def test_a_minimum_load_and_a_curve_make_it_run_where_its_hydrogen_pays_for_it() -> None:
    # 25 % minimum load (binaries, the MILP path), 45 kWh/kg at 25 %, 50 at full load. Where
    # the surplus s reaches 250 kW it follows it; below, running at 250 kW makes 250 / 45 kg/h
    # worth 166.7 CNY/h against s forgone at 0.4 and 250 - s imported at 0.8 (200 - 0.4 s
    # CNY/h): it runs at its minimum where s > 83.3 kW and stays off below
    curve = [
        {"load_fraction": 0.25, "kwh_per_kg": 45.0},
        {"load_fraction": 1.0, "kwh_per_kg": 50.0},
    ]
    site = _site(30.0, efficiency_curve=curve, min_load_fraction=0.25)
    frame = _plan(site)
    surplus = _surplus(frame)
    power = frame[columns.electrolyser_kw("pem")].to_numpy()
    follows = surplus >= 250.0
    at_minimum = (surplus > 100.0) & ~follows  # clear of the 83.3 kW threshold
    off = surplus < 60.0
    assert follows.any() and at_minimum.any() and off.any()
    np.testing.assert_allclose(power[follows], surplus[follows], atol=POWER_TOL_KW)
    np.testing.assert_allclose(power[at_minimum], 250.0, atol=POWER_TOL_KW)
    assert power[off].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    on = frame[pc.electrolyser_on("pem")].to_numpy()
    assert (on[follows | at_minimum] == 1.0).all() and (on[off] == 0.0).all()
    made = frame[pc.electrolyser_hydrogen_kg_per_h("pem")].to_numpy()
    np.testing.assert_allclose(made[at_minimum], 250.0 / 45.0, atol=KG_TOL)
    np.testing.assert_allclose(made[follows].max(), 1000.0 / 50.0, atol=KG_TOL)


def test_under_the_default_priority_surplus_goes_to_hydrogen_whatever_it_is_worth() -> None:
    # renewable energy used on site first: the electrolyser takes the surplus at 10 CNY/kg
    # (to within the renewables tier's tolerance of 1 kWh over the horizon)
    site = _site(10.0)
    frame = _plan(site, DEFAULT_CONFIG)
    used_kwh = frame[columns.electrolyser_kw("pem")].sum() * 0.25
    assert used_kwh == pytest.approx(_surplus(frame).sum() * 0.25, abs=1.0 + POWER_TOL_KW)


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


@pytest.mark.parametrize("value", [30.0, 10.0])
def test_a_failed_solve_gives_the_rule_based_plan_running_it_on_surplus_only(value: float) -> None:
    # the rules: the electrolyser takes the renewable surplus (no battery here) up to its
    # rating from its 250 kW minimum where its hydrogen beats the export price (30 CNY/kg:
    # 0.6 > 0.4), else it is off (10 CNY/kg: 0.2)
    site = _site(value, min_load_fraction=0.25)
    index = day_index()
    fc = forecast(site, index, load_plant_kw=LOAD_KW, pv_roof_kw=_pv(index))
    result = plan(site, fc, NO_DEMAND_CHARGE, config=COST_FIRST, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    power = frame[columns.electrolyser_kw("pem")].to_numpy()
    surplus = _surplus(frame, cap_kw=None)
    if value < 20.0:
        assert power.max() == 0.0
        return
    runs = surplus >= 250.0
    np.testing.assert_allclose(power[runs], np.minimum(surplus[runs], 1000.0), atol=POWER_TOL_KW)
    assert power[~runs].max() == 0.0
    assert frame["grid_import_kw"].to_numpy()[runs].max() == pytest.approx(0.0, abs=POWER_TOL_KW)
