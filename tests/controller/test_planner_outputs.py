"""KPIs, serialisation, the priority settings and the command line."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import base_mapping, day_index, flat_prices, forecast, heat_mapping, site_from
from typer.testing import CliRunner

from controller import columns as pc
from controller.cli.main import app
from controller.config import DEFAULT_CONFIG, Objective
from controller.inputs.state import NO_PEAK_NOTE, MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.kpi import compute_kpis
from controller.plans.serialise import plan_from_json, plan_to_csv, plan_to_json
from sites import columns

COST_TOL_CNY = DEFAULT_CONFIG.tolerances[Objective.COST].absolute


def test_kpis_of_a_hand_made_frame() -> None:
    site = site_from(base_mapping())
    index = day_index(periods=4)
    frame = pd.DataFrame(
        {
            pc.pv_available_kw("roof"): [1000.0, 1000.0, 0.0, 0.0],
            pc.pv_curtailed_kw("roof"): [100.0, 0.0, 0.0, 0.0],
            pc.GRID_EXPORT_KW: [200.0, 0.0, 0.0, 0.0],
            pc.GRID_IMPORT_KW: [0.0, 0.0, 800.0, 400.0],
            pc.PRICE_CNY_PER_KWH: [0.5, 0.5, 1.0, 1.0],
            pc.EXPORT_PRICE_CNY_PER_KWH: [0.4] * 4,
            columns.battery_charge_kw("bess"): [400.0, 0.0, 0.0, 0.0],
            columns.battery_discharge_kw("bess"): [0.0, 0.0, 200.0, 0.0],
        },
        index=index,
    )
    k = compute_kpis(site, frame, month_peak_import_kw=600.0)
    assert k.renewable_available_kwh == pytest.approx(500.0)
    assert k.renewable_used_on_site_kwh == pytest.approx(500.0 - 25.0 - 50.0)
    assert k.self_consumption_ratio == pytest.approx(425.0 / 500.0)
    assert k.export_ratio == pytest.approx(0.1)
    assert k.renewable_share_of_consumption == pytest.approx(425.0 / (425.0 + 300.0))
    assert k.energy_cost_cny == pytest.approx(300.0)
    assert k.export_revenue_cny == pytest.approx(20.0)
    assert k.demand_charge_cny == pytest.approx(0.0)  # demand charge 0 in this site
    assert k.degradation_cost_cny == pytest.approx(0.02 * 0.5 * 150.0)
    assert k.total_cost_cny == pytest.approx(300.0 - 20.0 + 1.5)
    assert k.co2_kg == pytest.approx(300.0 * 0.6191)
    assert k.co2_avoided_kg == pytest.approx(425.0 * 0.6191)
    capacity = site.assets.batteries[0].capacity_kwh
    assert k.battery_equivalent_full_cycles == pytest.approx(0.5 * 150.0 / capacity)
    assert k.meets_self_consumption_target and k.meets_export_target


def _tie_site(price: float) -> tuple:
    """Gas and electric boiler at the same cost per kWh of heat; gas emits less CO2."""
    raw = heat_mapping()
    raw["assets"]["heat_pumps"] = []
    raw["assets"]["waste_heat"] = []
    raw["assets"]["boilers"].append(
        {
            "name": "electric",
            "fuel": "electric",
            "bus": "pcc",
            "supplies": "hot_water",
            "capacity_kw_th": 3000,
            "efficiency": 0.99,
            "fuel_price_cny_per_kwh": 0,
            "emission_factor_kg_per_kwh_fuel": 0,
        }
    )
    prices = {b: price for b in flat_prices()}
    raw["tariff"]["band_prices_cny_per_kwh"] = prices
    site = site_from(raw)
    fc = forecast(site, day_index(), load_plant_kw=500.0, heat_demand_hot_water_kw_th=1000.0)
    return site, fc


def test_co2_breaks_a_cost_tie_and_moves_cost_by_at_most_its_tolerance() -> None:
    gas_cost = 0.37 / 0.92
    site, fc = _tie_site(gas_cost * 0.99)  # electric heat costs exactly what gas heat costs
    state = MeasuredState(month_peak_import_kw=1e6)
    with_co2 = plan(site, fc, state)
    cost_only = plan(
        site,
        fc,
        state,
        config=dataclasses.replace(DEFAULT_CONFIG, priority=(Objective.RENEWABLES, Objective.COST)),
    )
    assert check_plan(site, with_co2).ok and check_plan(site, cost_only).ok
    assert with_co2.kpis.total_cost_cny <= cost_only.kpis.total_cost_cny + COST_TOL_CNY
    # gas emits 0.202 / 0.92 kg per kWh of heat, grid electricity 0.6191 / 0.99: all gas
    assert with_co2.frame[pc.boiler_heat_kw_th("gas")].to_numpy() == pytest.approx(1000.0, abs=0.5)
    assert with_co2.kpis.co2_kg <= cost_only.kpis.co2_kg + 1e-6


def test_priority_is_configurable_cost_first_exports_at_a_high_price() -> None:
    raw = base_mapping()
    raw["tariff"]["export_price_cny_per_kwh"] = 5.0
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 10) & (hours < 14), 1800.0, 0.0)
    fc = forecast(site, index, pv_roof_kw=pv, load_plant_kw=1000.0)
    state = MeasuredState({"bess": 200.0}, month_peak_import_kw=1e6)
    cost_first = dataclasses.replace(
        DEFAULT_CONFIG,
        priority=(Objective.COST, Objective.RENEWABLES, Objective.CO2),
        enforce_policy_targets=False,  # else the 20 % export target caps the export
    )
    renewables_first = plan(site, fc, state)
    money_first = plan(site, fc, state, config=cost_first)
    assert check_plan(site, money_first).ok
    assert money_first.kpis.export_kwh > renewables_first.kpis.export_kwh + 1000.0
    assert money_first.kpis.total_cost_cny < renewables_first.kpis.total_cost_cny


def test_json_round_trip_and_csv_with_units() -> None:
    site = site_from(base_mapping())
    result = plan(site, forecast(site, day_index(), pv_roof_kw=500.0, load_plant_kw=1000.0))
    again = plan_from_json(plan_to_json(result))
    pd.testing.assert_frame_equal(result.frame, again.frame, check_freq=False)
    assert again.metadata == result.metadata and again.kpis == result.kpis
    assert again.relaxations == result.relaxations and again.binding == result.binding
    data = json.loads(plan_to_json(result))
    assert data["metadata"]["code_version"] and data["metadata"]["input_hash"]
    header = plan_to_csv(result).splitlines()[0].split(",")
    assert header[0] == "interval_start"
    units = ("_kw", "_kwh", "_kw_th", "_kwh_th", "_degc", "_cny", "_kg", "_cny_per_kwh")
    assert all(c.endswith(units) or c in ("price_band", "heat_pump_cop") for c in header[1:])


def test_a_plan_stored_before_a_kpi_existed_reads_back_with_it_unknown() -> None:
    site = site_from(base_mapping())
    result = plan(site, forecast(site, day_index(), pv_roof_kw=500.0, load_plant_kw=1000.0))
    data = json.loads(plan_to_json(result))
    del data["kpis"]["battery_equivalent_full_cycles"]
    again = plan_from_json(json.dumps(data))
    assert math.isnan(again.kpis.battery_equivalent_full_cycles)
    assert again.kpis.total_cost_cny == result.kpis.total_cost_cny


def test_cli_plan_prints_kpis_against_targets_and_binding_constraints(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["plan", "--site", "gaotang-textile", "--date", "2016-07-12"])
    assert result.exit_code == 0, result.output
    assert "renewable self-consumption" in result.output and ">= 60%" in result.output
    assert "constraints that bound" in result.output
    out = tmp_path / "plan.json"
    result = runner.invoke(
        app,
        [
            "plan",
            "--site",
            "gaotang-textile",
            "--date",
            "2016-07-12",
            "--kind",
            "intraday",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["metadata"]["kind"] == "intraday"
    assert data["intervals"]["interval_start"][0].startswith("2016-07-12T12:00")
    bad = runner.invoke(app, ["plan", "--site", "gaotang-textile", "--date", "2019-01-01"])
    assert bad.exit_code == 2


def test_a_plan_without_a_metered_peak_says_so_and_keeps_it_stored() -> None:
    site = site_from(base_mapping())
    fc = forecast(site, day_index(periods=8), load_plant_kw=1000.0)
    metered = plan(site, fc, MeasuredState(month_peak_import_kw=400.0))
    unknown = plan(site, fc, MeasuredState(month_peak_metered=False))
    assert NO_PEAK_NOTE not in metered.metadata.notes
    assert NO_PEAK_NOTE in unknown.metadata.notes
    assert NO_PEAK_NOTE in plan_from_json(plan_to_json(unknown)).metadata.notes
    # with no peak so far, the plan bills its whole peak; with 400 kW, only the rest
    rate = unknown.kpis.demand_charge_cny / unknown.kpis.peak_import_kw
    np.testing.assert_allclose(
        metered.kpis.demand_charge_cny, rate * (metered.kpis.peak_import_kw - 400.0), rtol=1e-9
    )
