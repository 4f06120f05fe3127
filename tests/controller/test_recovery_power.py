"""Waste-heat and waste-pressure power on a tiny park, where what it gives is known by hand.

Park (``dispatch_cases.heat_mapping`` without heat pumps): a 1000 kW process load and a
top-gas pressure recovery turbine on it giving 1.5 kW per kW of the process (1500 kW,
rating 2000 kW): 500 kW more than the park uses. Export pays 0.4 CNY/kWh, except from
10:00 to 15:00, where the operator has posted -0.05 (a spot price below zero).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import day_index, forecast, heat_mapping, site_from

from controller import columns as pc
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.kpi import compute_kpis
from controller.plans.plan import PlanStatus
from network_models.build import build_network
from sim.plant import Plant, PlantState
from sites import SiteConfigError, columns, load_site_mapping

POWER_TOL_KW = 0.5  # solver tolerances scaled to kW rows, far below anything metered
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
LOAD_KW = 1000.0
AVAILABLE_KW = 1500.0
NEGATIVE_EXPORT = -0.05


def _raw(must_run: bool, **changes: Any) -> dict[str, Any]:
    raw = heat_mapping()
    raw["assets"]["heat_pumps"] = []
    raw["assets"]["waste_heat"] = []
    raw["assets"]["recovery_power"] = [
        {
            "name": "trt",
            "bus": "feeder",
            "kind": "pressure_turbine",
            "process_load": "plant",
            "kw_per_process_kw": 1.5,
            "rated_kw": 2000,
            "must_run": must_run,
            **changes,
        }
    ]
    index = day_index()
    negative = (index.hour >= 10) & (index.hour < 15)
    raw["tariff"]["posted_prices"] = [
        {
            "timestamp": t.isoformat(),
            "import_price_cny_per_kwh": 0.1,
            "export_price_cny_per_kwh": NEGATIVE_EXPORT,
        }
        for t in index[negative]
    ]
    return raw


def _planned(must_run: bool) -> tuple[Any, Any, np.ndarray]:
    site = site_from(_raw(must_run))
    index = day_index()
    fc = forecast(site, index, load_plant_kw=LOAD_KW, heat_demand_hot_water_kw_th=500.0)
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert result.status is PlanStatus.OPTIMAL, result.status
    report = check_plan(site, result)
    assert report.ok, report
    return site, result, np.asarray((index.hour >= 10) & (index.hour < 15))


def test_a_curtailable_turbine_runs_unless_export_price_is_negative() -> None:
    # zero fuel: all 1500 kW where export pays (the rest exported at 0.4); where export
    # costs 0.05 CNY/kWh, only what the park takes: its 1000 kW and the feeder's losses
    site, result, negative = _planned(must_run=False)
    frame = result.frame
    out = frame[columns.recovery_kw("trt")].to_numpy()
    losses = frame[pc.NETWORK_LOSSES_KW].to_numpy()
    assert out[~negative] == pytest.approx(AVAILABLE_KW, abs=POWER_TOL_KW)
    assert out[negative] == pytest.approx(LOAD_KW + losses[negative], abs=POWER_TOL_KW)
    export = frame[pc.GRID_EXPORT_KW].to_numpy()
    assert export[~negative] == pytest.approx(
        AVAILABLE_KW - LOAD_KW - losses[~negative], abs=POWER_TOL_KW
    )
    assert export[negative] == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert (frame[pc.recovery_available_kw("trt")] == AVAILABLE_KW).all()
    kpis = compute_kpis(site, frame)
    assert kpis.recovery_power_kwh == pytest.approx(out.sum() * 0.25)
    assert kpis.fuel_cost_cny == pytest.approx(
        frame[pc.boiler_fuel_kw("gas")].sum() * 0.25 * site.assets.boilers[0].fuel_price_cny_per_kwh
    )  # the turbine burns nothing


def test_a_must_run_turbine_gives_everything_and_pays_to_export() -> None:
    site, result, negative = _planned(must_run=True)
    frame = result.frame
    out = frame[columns.recovery_kw("trt")].to_numpy()
    assert out == pytest.approx(AVAILABLE_KW, abs=POWER_TOL_KW)
    export = frame[pc.GRID_EXPORT_KW].to_numpy()
    losses = frame[pc.NETWORK_LOSSES_KW].to_numpy()
    assert export[negative] == pytest.approx(
        AVAILABLE_KW - LOAD_KW - losses[negative], abs=POWER_TOL_KW
    )
    # check_plan holds the must-run: a plan that curtails it is refused
    broken = frame.copy()
    broken.iloc[44, broken.columns.get_loc(columns.recovery_kw("trt"))] = LOAD_KW
    broken.iloc[44, broken.columns.get_loc(pc.GRID_EXPORT_KW)] = 0.0
    report = check_plan(site, dataclasses.replace(result, _frame=broken))
    assert any("recovery_must_run[trt]" in p for p in report.problems), report


def test_the_turbine_is_a_static_generator_and_the_plant_gives_what_the_process_makes() -> None:
    site = site_from(_raw(must_run=False))
    sgen = build_network(site).net.sgen.set_index("name").loc["trt"]
    assert sgen["type"] == "pressure_turbine" and float(sgen["sn_mva"]) == pytest.approx(2.0)
    plant = Plant(site)
    truth = {
        columns.load_kw("plant"): 600.0,  # the process runs at 600 kW: 900 kW available
        columns.heat_demand_kw_th("hot_water"): 0.0,
        columns.AMBIENT_TEMPERATURE_DEGC: 10.0,
    }
    state = PlantState.initial(site)
    # planned uncurtailed at 1500 kW: the plant gives what the process truly makes
    step = plant.step(
        state,
        {columns.recovery_kw("trt"): 1500.0, pc.recovery_available_kw("trt"): 1500.0},
        truth,
    )
    assert step.actual[columns.recovery_kw("trt")] == pytest.approx(900.0)
    assert step.actual[pc.GRID_EXPORT_KW] == pytest.approx(300.0)
    # curtailed by the plan to 400 kW: the setpoint caps it
    step = plant.step(
        state,
        {columns.recovery_kw("trt"): 400.0, pc.recovery_available_kw("trt"): 1500.0},
        truth,
    )
    assert step.actual[columns.recovery_kw("trt")] == pytest.approx(400.0)
    assert step.actual[pc.GRID_IMPORT_KW] == pytest.approx(200.0)


def test_a_bad_recovery_generator_is_reported_with_field_value_and_rule() -> None:
    with pytest.raises(SiteConfigError) as caught:
        load_site_mapping(_raw(False, process_load="furnace", kw_per_process_kw=0), source="p")
    problems = {p.field: p for p in caught.value.problems}
    assert "greater than 0" in problems["assets.recovery_power[0].kw_per_process_kw"].rule
    process = problems["assets.recovery_power[0].process_load"]
    assert process.value == "furnace" and "plant" in process.rule


def test_posted_prices_cover_the_negative_hours() -> None:
    # the fixture's own premise: the posted export price is negative exactly 10:00-15:00
    site = site_from(_raw(must_run=False))
    posted = pd.Series(
        {p.timestamp: p.export_price_cny_per_kwh for p in site.tariff.posted_prices}
    ).sort_index()
    assert len(posted) == 20 and (posted == NEGATIVE_EXPORT).all()
    assert posted.index[-1] - posted.index[0] == timedelta(hours=4, minutes=45)


def test_the_plan_command_lists_the_recovered_energy() -> None:
    from controller.cli.plan_cmd import kpi_table

    _, result, _ = _planned(must_run=True)
    table = kpi_table(result.kpis)
    rows = dict(zip(table.columns[0]._cells, table.columns[1]._cells, strict=True))
    assert rows["waste-heat/pressure power MWh"] == "36.00"  # all day at 1500 kW


def test_a_plan_with_recovery_power_survives_json() -> None:
    from controller.plans.serialise import plan_from_json, plan_to_json

    site, result, _ = _planned(must_run=False)
    again = plan_from_json(plan_to_json(result))
    pd.testing.assert_frame_equal(again.frame, result.frame, check_freq=False)
    assert again.kpis.recovery_power_kwh == pytest.approx(result.kpis.recovery_power_kwh)
    assert check_plan(site, again).ok
