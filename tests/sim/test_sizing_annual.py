"""A sweep's period scaled to a year: the demand charge by the billing months it touches.

The figures are a week of gaotang-solar-textile (2016-05-02 to 05-09, hourly re-planning):
the park's 60 MWh_th tank without a battery under the production controller, against the
park without storage under the rules. The controller's week costs 21,383 CNY more, 52,233
CNY of it a higher peak billed as May's demand charge. Scaled by 365 / 7 as a whole, the
week's peak counted 52 times a year, and the tank looked like a loss of 1.1 M CNY a year; a
year has 12 demand charges, and the tank saves about 1 M CNY a year.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from sim.sizing.candidates import Candidate
from sim.sizing.economics import Annualisation, Investment, SizingEconomics, appraise
from sim.sizing.evaluate import NO_STORAGE, PRODUCTION
from sim.sizing.lp import SizingSolution
from sim.sizing.report import candidate_table, recommend
from sim.sizing.sweep import REFERENCE, SweepResult
from sites import load_bundled_site

ZONE = "Asia/Shanghai"
WEEK = (pd.Timestamp("2016-05-02", tz=ZONE), pd.Timestamp("2016-05-09", tz=ZONE))
TANK = Candidate(0.0, 0.0, (("hot_water_tank", 60000.0),))
RTOL = 1e-12  # the same arithmetic in another order


def _run(total: float, demand: float, **kw: Any) -> dict[str, Any]:
    run = {
        "total_cost_cny": total,
        "demand_charge_cny": demand,
        "self_consumption_ratio": 0.88,
        "export_ratio": 0.12,
        "meets_targets": True,
        "co2_kg": 569150.0,
        "battery_equivalent_full_cycles": 0.0,
        "network_violations": 0,
        "setpoints_not_followed": 0,
        "battery_discharged_kwh": 0.0,
        "thermal_discharged_kwh_th": 236206.2,
    }
    return run | kw


def _result() -> SweepResult:
    reference = _run(869890.93, 373482.69, thermal_discharged_kwh_th=0.0, meets_targets=False)
    return SweepResult(
        candidates=[TANK],
        records={TANK: {"runs": {PRODUCTION: _run(891273.93, 425716.09)}, "code_version": ""}},
        baselines={REFERENCE: {"runs": {NO_STORAGE: reference}}},
        keys={TANK: "0" * 64},
    )


def test_a_weeks_demand_charge_counts_twelve_times_a_year() -> None:
    annual = Annualisation.between(*WEEK)
    assert annual.energy == pytest.approx(365 / 7, rel=RTOL)
    assert annual.demand == pytest.approx(12.0, rel=RTOL)
    site = load_bundled_site("gaotang-solar-textile")
    table = candidate_table(site, _result(), SizingEconomics(), annual)
    other = (869890.93 - 373482.69) - (891273.93 - 425716.09)
    demand = 373482.69 - 425716.09
    savings = table.loc[0, "annual_savings_cny"]
    assert savings == pytest.approx(other * 365 / 7 + demand * 12, rel=RTOL)
    assert savings > 0  # by 365 / 7 on the whole, -1.1 M CNY a year
    assert (869890.93 - 891273.93) * 365 / 7 < 0
    assert table.loc[0, "npv_cny"] > 0
    # a month's charge billed on each of a year's months, whatever the period's length
    across = Annualisation.between(
        pd.Timestamp("2016-05-28", tz=ZONE), pd.Timestamp("2016-06-04", tz=ZONE)
    )
    assert across.demand == pytest.approx(6.0, rel=RTOL)


def _solution(annual_operating_cost_cny: float, self_consumption: float) -> SizingSolution:
    return SizingSolution(
        status="optimal",
        battery_kwh=0.0,
        battery_kw=0.0,
        tank_kwh_th=TANK.tank_kwh_th,
        annual_cost_cny=0.0,
        annualised_storage_cost_cny=0.0,
        operating_cost_cny=0.0,
        demand_charge_cny=0.0,
        annual_operating_cost_cny=annual_operating_cost_cny,
        self_consumption_ratio=self_consumption,
        export_ratio=0.2,
        battery_discharged_kwh=0.0,
        thermal_discharged_kwh_th=250000.0,
        battery_equivalent_full_cycles=0.0,
        violations_cny=0.0,
        solve_time_s=0.0,
    )


def test_the_lp_promise_stands_beside_the_closed_loop() -> None:
    annual = Annualisation.between(*WEEK)
    site = load_bundled_site("gaotang-solar-textile")
    economics = SizingEconomics()
    reference = annual.cost(869890.93, 373482.69)
    promised = reference - 3.0e6  # the LP saves 3 M CNY a year at the tank's size
    table = candidate_table(site, _result(), economics, annual, {TANK: _solution(promised, 0.9)})
    row = table.loc[0]
    assert row["lp_annual_savings_cny"] == pytest.approx(3.0e6, rel=1e-9)
    assert row["lp_gap_npv_cny"] == pytest.approx(row["lp_npv_cny"] - row["npv_cny"], rel=RTOL)
    assert row["lp_npv_cny"] > row["npv_cny"]
    delivered = reference - annual.cost(891273.93, 425716.09)
    assert row["lp_value_captured"] == pytest.approx(delivered / 3.0e6, rel=1e-9)
    assert bool(row["lp_meets_targets"])
    tank = Investment("thermal", 60000.0, discharged_kwh_per_year=250000.0 * 365 / 7)
    assert row["lp_npv_cny"] == pytest.approx(appraise(economics, [tank], 3.0e6).npv_cny, rel=RTOL)
    rec = recommend(table, "the optimum")
    assert rec.lp_choice == TANK.label
    assert rec.lp_optimum == "the optimum"
    assert rec.candidate == TANK.label
    # an LP promise below the targets is not the LP's choice
    missing = candidate_table(site, _result(), economics, annual, {TANK: _solution(promised, 0.5)})
    assert recommend(missing).lp_choice is None
