"""A gas CHP unit on a tiny park, where when it runs is known by hand.

Park: 1 MW load (or less), a 1500 kW_th heat demand served by a gas boiler (efficiency
0.9, gas 0.30 CNY/kWh: heat at 0.30 / 0.9 = 1/3 CNY/kWh_th) and a 1 MWe CHP (electric
efficiency 0.40, heat efficiency 0.45, same gas). Per kWh of electricity the CHP burns
2.5 kWh of gas (0.75 CNY) and makes 1.125 kWh_th of heat, which the boiler would have made
for 0.375 CNY: electricity from the CHP costs 0.375 CNY/kWh net of its heat. The tariff is
0.8 CNY/kWh except the deep valley (10:00-15:00 in spring) at 0.1: the CHP pays outside the
valley and not in it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from dispatch_cases import (
    DEEP_VALLEY,
    day_index,
    flat_prices,
    forecast,
    heat_mapping,
    history_forecast,
    site_from,
)

from controller import columns as pc
from controller.cli.plan_cmd import kpi_table
from controller.config import DEFAULT_CONFIG, Objective
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.kpi import compute_kpis
from controller.plans.plan import PlanKind, PlanStatus
from controller.plans.serialise import plan_from_json, plan_to_json
from network_models.build import build_network
from network_models.verify import NetworkVerifier
from sim.policies import PerfectForesightPolicy
from sim.replay import replay
from sites import bundled_site_paths, columns

POWER_TOL_KW = 0.5  # solver tolerances scaled to kW rows, far below anything metered
COST_RTOL = 1e-6  # a sum of the plan's own columns: float rounding only
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
RATED_KW = 1000.0
HEAT_PER_ELECTRIC = 0.45 / 0.40


def _chp_site(load_kw: float = 1000.0, export_price: float = 0.4, **chp: Any) -> tuple:
    raw = heat_mapping()
    raw["assets"]["heat_pumps"] = []
    raw["assets"]["waste_heat"] = []
    raw["assets"]["boilers"][0].update(efficiency=0.9, fuel_price_cny_per_kwh=0.30)
    raw["assets"]["chp"] = [
        {
            "name": "engine",
            "bus": "pcc",
            "supplies": "hot_water",
            "rated_electric_kw": RATED_KW,
            "electric_efficiency": 0.40,
            "heat_efficiency": 0.45,
            "fuel_price_cny_per_kwh": 0.30,
            "emission_factor_kg_per_kwh_fuel": 0.2,
            **chp,
        }
    ]
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(deep_valley=DEEP_VALLEY)
    raw["tariff"]["export_price_cny_per_kwh"] = export_price
    site = site_from(raw)
    index = day_index()
    fc = forecast(site, index, load_plant_kw=load_kw, heat_demand_hot_water_kw_th=1500.0)
    return site, fc, index


def _valley(index: Any) -> np.ndarray:
    hours = index.hour + index.minute / 60
    return np.asarray((hours >= 10) & (hours < 15))


def _planned(site: Any, fc: Any) -> Any:
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert result.status is PlanStatus.OPTIMAL, result.status
    report = check_plan(site, result)
    assert report.ok, report
    return result


@pytest.mark.parametrize(("min_stable", "start_cost"), [(0.0, 0.0), (0.5, 300.0)])
def test_the_chp_runs_where_spark_spread_and_heat_pay_and_stops_in_the_valley(
    min_stable: float, start_cost: float
) -> None:
    # outside the valley: 0.8 > 0.375, full output; in it: 0.1 < 0.375, off. Without a
    # minimum load this is the LP; with one (500 kW), staying on through the valley would
    # cost 5 h x 500 kW x (0.375 - 0.1) = 687.5 CNY, more than a 300 CNY start at 15:00.
    site, fc, index = _chp_site(min_stable_fraction=min_stable, start_cost_cny=start_cost)
    frame = _planned(site, fc).frame
    valley = _valley(index)
    out = frame[columns.chp_kw("engine")].to_numpy()
    assert out[~valley] == pytest.approx(RATED_KW, abs=POWER_TOL_KW)
    assert out[valley] == pytest.approx(0.0, abs=POWER_TOL_KW)
    on = frame[pc.chp_on("engine")].to_numpy()
    assert (on == np.where(valley, 0.0, 1.0)).all()
    heat = frame[pc.chp_heat_kw_th("engine")].to_numpy()
    assert heat == pytest.approx(out * HEAT_PER_ELECTRIC, abs=POWER_TOL_KW)
    boiler = frame[pc.boiler_heat_kw_th("gas")].to_numpy()
    assert boiler == pytest.approx(1500.0 - heat, abs=POWER_TOL_KW)
    starts = frame[pc.chp_start_cny("engine")].to_numpy()
    assert starts.sum() == pytest.approx(2 * start_cost)  # at 00:00 and at 15:00
    assert compute_kpis(site, frame).chp_starts == pytest.approx(2.0)
    assert compute_kpis(site, frame).chp_run_hours == pytest.approx(19.0)
    kpis = compute_kpis(site, frame)
    fuel = (frame[pc.chp_fuel_kw("engine")] + frame[pc.boiler_fuel_kw("gas")]).sum() * 0.25
    assert kpis.fuel_cost_cny == pytest.approx(0.30 * fuel + 2 * start_cost, rel=COST_RTOL)
    assert frame[pc.COST_CNY].sum() == pytest.approx(
        ((frame[pc.GRID_IMPORT_KW] * frame[pc.PRICE_CNY_PER_KWH]).sum() * 0.25)
        + 0.30 * fuel
        + 2 * start_cost,
        rel=COST_RTOL,
    )


def test_a_dear_start_keeps_the_chp_at_its_minimum_load_through_the_valley() -> None:
    # minimum load 500 kW: through the valley at 500 kW costs 5 h x 500 kW x (0.375 - 0.1)
    # = 687.5 CNY, less than a 2000 CNY start (at 300 CNY a start is cheaper: off, above).
    site, fc, index = _chp_site(min_stable_fraction=0.5, start_cost_cny=2000.0)
    out = _planned(site, fc).frame[columns.chp_kw("engine")].to_numpy()
    valley = _valley(index)
    assert out[valley] == pytest.approx(500.0, abs=POWER_TOL_KW)
    assert out[~valley] == pytest.approx(RATED_KW, abs=POWER_TOL_KW)


def test_minimum_stable_load_keeps_the_chp_off_where_part_load_would_pay() -> None:
    # 150 kW load, export at 0.1. Without a minimum load the CHP covers the load outside the
    # valley (0.375 < 0.8). With 500 kW minimum it would export 350 kW at 0.1:
    # 500 x 0.375 - 350 x 0.1 = 152.5 CNY/h against 150 x 0.8 = 120 CNY/h importing: off.
    site, fc, index = _chp_site(load_kw=150.0, export_price=0.1)
    out = _planned(site, fc).frame[columns.chp_kw("engine")].to_numpy()
    valley = _valley(index)
    assert out[~valley] == pytest.approx(150.0, abs=POWER_TOL_KW)
    assert out[valley] == pytest.approx(0.0, abs=POWER_TOL_KW)

    site, fc, index = _chp_site(load_kw=150.0, export_price=0.1, min_stable_fraction=0.5)
    frame = _planned(site, fc).frame
    assert frame[columns.chp_kw("engine")].to_numpy() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert (frame[pc.chp_on("engine")] == 0).all()


def _raising(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


@pytest.mark.parametrize("how", ["raises", "zero_time_limit"])
def test_a_failed_milp_gives_the_fallback_plan_running_the_chp_where_it_pays(how: str) -> None:
    # a committed unit makes the problem a MILP; a solver error, or a time limit reached
    # before any incumbent, leaves the rule-based plan: the CHP at its rating where price
    # and heat pay for its fuel (0.8 + 1.125 x 1/3 > 0.75 CNY/kWh outside the valley, 0.1 +
    # 0.375 < 0.75 in it), its 1125 kW_th heat fits the 1500 kW_th demand and its 1000 kW
    # the 1000 kW load; the boiler carries the rest of the heat
    site, fc, _ = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0)
    if how == "raises":
        result = plan(site, fc, NO_DEMAND_CHARGE, run=_raising)
    else:
        config = dataclasses.replace(DEFAULT_CONFIG, time_limit_s=0.0)
        result = plan(site, fc, NO_DEMAND_CHARGE, config=config)
    assert result.status is PlanStatus.FALLBACK
    assert any("solver failed" in note for note in result.metadata.notes)
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    valley = _valley(frame.index)
    out = frame[columns.chp_kw("engine")].to_numpy()
    assert (out == np.where(valley, 0.0, RATED_KW)).all()
    assert (frame[pc.chp_on("engine")].to_numpy() == np.where(valley, 0.0, 1.0)).all()
    boiler = frame[pc.boiler_heat_kw_th("gas")].to_numpy()
    assert boiler == pytest.approx(1500.0 - out * HEAT_PER_ELECTRIC, abs=POWER_TOL_KW)


def test_a_chp_plan_made_with_perfect_conditions_is_followed_by_the_plant() -> None:
    # plan and plant agree: minimum load, ramp (1000 kW per interval: full output from
    # off in one step) and start cost as the planner sees them; every setpoint is followed,
    # the replay checks the plan, the CHP's energy is where the plan put it
    site, fc, index = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0, ramp_kw_per_h=4000)
    truth = fc.rename(columns=lambda c: c.removesuffix("_p50"))
    end = index[-1] + pd.Timedelta(minutes=15)
    result = replay(site, truth, PerfectForesightPolicy(site, truth, end), index[0], end)
    counters = result.counters
    assert counters.plans_made == 1 and counters.plans_failing_check == 0
    assert counters.setpoints_not_followed == 0, counters.not_followed_by_setpoint
    assert counters.heat_unmet_kwh_th == 0.0 and counters.heat_dumped_kwh_th == 0.0
    out = result.frame[columns.chp_kw("engine")].to_numpy()
    valley = _valley(index)
    assert out[~valley] == pytest.approx(RATED_KW, abs=POWER_TOL_KW)
    assert out[valley] == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert result.kpis.chp_run_hours == pytest.approx(19.0)
    assert result.kpis.chp_starts == pytest.approx(2.0)


def test_ramps_go_into_the_valley_late_and_out_of_it_early() -> None:
    # ramp 2000 kW/h: 500 kW per interval. Going down at 10:00, the last full interval is
    # 09:45 and 10:00 runs at 500 kW (running on in the valley costs 0.275 CNY/kWh, stopping
    # early would lose 0.425); coming up, 14:45 runs at 500 kW so that 15:00 is at full output
    site, fc, index = _chp_site(ramp_kw_per_h=2000)
    out = _planned(site, fc).frame[columns.chp_kw("engine")]
    expected = pd.Series(np.where(_valley(index), 0.0, RATED_KW), index=index)
    expected[index[40]] = 500.0  # 10:00
    expected[index[59]] = 500.0  # 14:45
    assert out.to_numpy() == pytest.approx(expected.to_numpy(), abs=POWER_TOL_KW)


@pytest.mark.parametrize(("running", "paid"), [(True, 0.0), (False, 300.0)])
def test_an_intraday_plan_pays_a_start_only_where_the_unit_was_off(
    running: bool, paid: float
) -> None:
    # re-planned at 02:00 (front padding in the compiled horizon): a unit measured running
    # keeps running without a start; one measured off pays its start in the first interval
    site, fc, _ = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0)
    day_ahead = _planned(site, fc)
    state = dataclasses.replace(NO_DEMAND_CHARGE, chp_on={"engine": running})
    result = plan(site, fc.iloc[8:], state, PlanKind.INTRADAY, day_ahead)
    assert result.status is PlanStatus.OPTIMAL
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    assert frame[columns.chp_kw("engine")].iloc[0] == pytest.approx(RATED_KW, abs=POWER_TOL_KW)
    assert frame[pc.chp_start_cny("engine")].iloc[0] == pytest.approx(paid)
    assert compute_kpis(site, frame).chp_starts == pytest.approx(2.0 if paid else 1.0)


def _broken(result: Any, changes: dict[str, tuple[int, float]]) -> Any:
    frame = result.frame.copy()
    for column, (row, value) in changes.items():
        frame.iloc[row, frame.columns.get_loc(column)] = value
    return dataclasses.replace(result, _frame=frame)


@pytest.mark.parametrize(
    ("row", "changes", "rule"),
    [
        # 11:00, off: running without being on
        (44, {"chp_engine_kw": 600.0}, "chp_rating[engine]"),
        # 20:00, on: above the rating
        (80, {"chp_engine_kw": 1200.0}, "chp_rating[engine]"),
        # 20:00, on: below the 500 kW minimum
        (80, {"chp_engine_kw": 200.0}, "chp_min_stable[engine]"),
        # 20:00: neither on nor off
        (80, {"chp_engine_on": 0.5}, "holds values other than 0 and 1"),
        # 15:00: a start without its cost
        (60, {"chp_engine_start_cny": 0.0}, "start cost where it starts"),
        # 20:00: heat beyond what the fuel gives
        (80, {"chp_engine_heat_kw_th": 1500.0}, "heat = output x heat/electric efficiency"),
    ],
)
def test_check_plan_refuses_a_chp_outside_its_limits(
    row: int, changes: dict[str, float], rule: str
) -> None:
    site, fc, _ = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0)
    result = _planned(site, fc)
    report = check_plan(site, _broken(result, {k: (row, v) for k, v in changes.items()}))
    assert any(rule in problem for problem in report.problems), report


@pytest.mark.parametrize(
    ("load_kw", "chp"),
    [
        (150.0, {}),  # 1000 kW would export: it does not fit the park's load
        (1000.0, {"ramp_kw_per_h": 2000}),  # 500 kW per interval cannot reach the rating
    ],
)
def test_the_fallback_keeps_a_chp_off_where_it_does_not_fit(
    load_kw: float, chp: dict[str, float]
) -> None:
    site, fc, _ = _chp_site(load_kw=load_kw, min_stable_fraction=0.5, **chp)
    result = plan(site, fc, NO_DEMAND_CHARGE, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(site, result)
    assert report.ok, report
    assert (result.frame[columns.chp_kw("engine")] == 0.0).all()


def test_a_chp_plan_survives_json() -> None:
    site, fc, _ = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0)
    result = _planned(site, fc)
    again = plan_from_json(plan_to_json(result))
    pd.testing.assert_frame_equal(again.frame, result.frame, check_freq=False)
    assert again.kpis.chp_starts == result.kpis.chp_starts == pytest.approx(2.0)
    assert again.kpis.chp_fuel_kwh == pytest.approx(result.kpis.chp_fuel_kwh)
    assert check_plan(site, again).ok


def test_the_plan_command_lists_the_chp_kpis() -> None:
    site, fc, _ = _chp_site(min_stable_fraction=0.5, start_cost_cny=300.0)
    table = kpi_table(_planned(site, fc).kpis)
    rows = dict(zip(table.columns[0]._cells, table.columns[1]._cells, strict=True))
    assert rows["CHP hours run, starts"] == "19.0 h, 2"
    assert rows["CHP electricity MWh"] == "19.00"


def _first_incumbent(highs: Any) -> None:
    """Branch and bound stopped at its first feasible point, as a time limit stops it with
    an incumbent."""
    highs.setOptionValue("mip_max_improving_sols", 1)
    highs.run()


def test_a_milp_stopped_with_an_incumbent_plans_with_it() -> None:
    # the largest park with a 6 MWe CHP (50 % minimum, 2000 CNY start) on a March day: its
    # last stage's first incumbent is about 4 % from the bound, so stopping there leaves a
    # feasible plan that is not proven optimal; it is used, and says so
    raw = yaml.safe_load(bundled_site_paths()["chiping-aluminium"].read_text(encoding="utf-8"))
    raw["assets"]["chp"] = [
        {
            "name": "gas_chp",
            "bus": raw["assets"]["electric_loads"][0]["bus"],
            "supplies": raw["assets"]["heat_demands"][0]["name"],
            "rated_electric_kw": 6000,
            "electric_efficiency": 0.40,
            "heat_efficiency": 0.45,
            "min_stable_fraction": 0.5,
            "ramp_kw_per_h": 24000,
            "start_cost_cny": 2000,
            "fuel_price_cny_per_kwh": 0.37,
            "emission_factor_kg_per_kwh_fuel": 0.202,
        }
    ]
    site = site_from(raw)
    result = plan(site, history_forecast(site, "2016-03-15"), run=_first_incumbent)
    assert result.status is PlanStatus.OPTIMAL  # nothing relaxed
    assert "solver outcome: solved_inaccurate" in result.metadata.notes
    report = check_plan(site, result)
    assert report.ok, report


FEEDER_LINE_KA = 0.11
"""The feeder's rating in the network test: 0.11 kA x 10 kV x sqrt(3) = 1905 kVA."""


def test_a_chp_on_a_feeder_is_a_network_element_that_relieves_the_line() -> None:
    # load (2500 kW, power factor 0.95: 822 kvar) and CHP on the feeder behind a 1905 kVA
    # line. In the valley the CHP does not pay for itself (above), but with it off the line
    # would carry sqrt(2500^2 + 822^2) = 2632 kVA: the network rows make it run there, at
    # least at 2500 - sqrt(1905^2 - 822^2) = 781 kW, and the AC check of the plan, which sees
    # its output at the feeder bus, finds the line within its rating
    site, _, index = _chp_site(load_kw=2500.0)
    raw = site.model_dump(mode="json")
    raw["network"]["lines"][0]["max_i_ka"] = FEEDER_LINE_KA
    raw["assets"]["electric_loads"][0].update(bus="feeder", peak_kw=3000)
    raw["assets"]["chp"][0]["bus"] = "feeder"
    site = site_from(raw)
    park = build_network(site)
    sgen = park.net.sgen.set_index("name").loc["engine"]
    assert park.bus_name(int(sgen["bus"])) == "feeder" and sgen["type"] == "CHP"
    assert float(sgen["sn_mva"]) == pytest.approx(RATED_KW / 1000)
    assert columns.chp_kw("engine") in park.columns()

    fc = forecast(site, index, load_plant_kw=2500.0, heat_demand_hot_water_kw_th=1500.0)
    result = _planned(site, fc)
    assert result.metadata.network.ok
    out = result.frame[columns.chp_kw("engine")].to_numpy()
    valley = _valley(index)
    assert out[~valley] == pytest.approx(RATED_KW, abs=POWER_TOL_KW)
    assert (out[valley] > 781.0 - POWER_TOL_KW).all() and (out[valley] < RATED_KW).all()
    loading = NetworkVerifier(site).verify(result.frame).line_loading_percent["l_feeder"]
    assert loading.max() <= 100.0 + 1e-6
    # the same frame with the CHP's output taken away overloads the line: the check sees it
    without = result.frame.assign(**{columns.chp_kw("engine"): 0.0})
    assert NetworkVerifier(site).verify(without).line_loading_percent["l_feeder"].max() > 130.0


CO2_TIE_BREAK_KWH = DEFAULT_CONFIG.tolerances[Objective.COST].absolute / (0.60 - 0.10)
"""Fuel-cell energy the CO2 tier may buy in the valley within the cost tier's tolerance."""

VERTEX_SLOP_KWH = 1.0
"""Energy HiGHS may leave off the exact vertex in a day of this flat LP (seen: 3 kW for one
quarter hour, 0.75 kWh, about 2 CNY on a 32,000 CNY day)."""

FUEL_CELL = {
    "name": "fuel_cell",
    "bus": "pcc",
    "kind": "fuel_cell",
    "fuel": "hydrogen",
    "rated_electric_kw": 300,
    "electric_efficiency": 0.50,  # 0.30 CNY per kWh of hydrogen: 0.60 CNY/kWh electric
    "fuel_price_cny_per_kwh": 0.30,
    "emission_factor_kg_per_kwh_fuel": 0.0,
}
DIESEL = {
    "name": "diesel",
    "bus": "pcc",
    "kind": "diesel",
    "fuel": "diesel",
    "rated_electric_kw": 500,
    "electric_efficiency": 0.35,  # 0.90 CNY per kWh of diesel: 2.57 CNY/kWh electric
    "fuel_price_cny_per_kwh": 0.90,
    "emission_factor_kg_per_kwh_fuel": 0.27,
}


@pytest.mark.parametrize(
    ("import_limit_kw", "fuel_cell_kw", "fuel_cell_valley_kw", "diesel_kw"),
    [
        # 1000 kW load. Import up to 800 kW: the fuel cell (0.60 CNY/kWh) runs at its rating
        # where import costs 0.8, and in the valley (0.1) only for the 200 kW the grid
        # cannot give; the diesel (2.57 CNY/kWh) never runs
        (800.0, 300.0, 200.0, 0.0),
        # import up to 600 kW: the fuel cell at its rating everywhere and the diesel set,
        # dearest, only for the last 100 kW
        (600.0, 300.0, 300.0, 100.0),
    ],
)
def test_fuel_cell_and_diesel_run_in_merit_order_behind_the_grid_limit(
    import_limit_kw: float, fuel_cell_kw: float, fuel_cell_valley_kw: float, diesel_kw: float
) -> None:
    site, _, index = _chp_site()
    raw = site.model_dump(mode="json")
    raw["assets"]["chp"] = [FUEL_CELL, DIESEL]
    raw["grid_connection"]["import_limit_kw"] = import_limit_kw
    site = site_from(raw)
    fc = forecast(site, index, load_plant_kw=1000.0, heat_demand_hot_water_kw_th=1500.0)
    result = _planned(site, fc)
    frame, valley = result.frame, _valley(index)
    cell = frame[columns.chp_kw("fuel_cell")].to_numpy()
    assert cell[~valley] == pytest.approx(fuel_cell_kw, abs=POWER_TOL_KW)
    # in the valley, hydrogen (no CO2) above what the grid limit needs costs 0.5 CNY/kWh
    # more than import: the CO2 tie-break may buy up to the cost tier's tolerance of it
    assert (cell[valley] >= fuel_cell_valley_kw - POWER_TOL_KW).all()
    extra_kwh = (cell[valley] - fuel_cell_valley_kw).sum() * 0.25
    assert extra_kwh <= CO2_TIE_BREAK_KWH + POWER_TOL_KW
    diesel = frame[columns.chp_kw("diesel")].to_numpy()
    assert (diesel >= diesel_kw - POWER_TOL_KW).all()
    assert (diesel - diesel_kw).sum() * 0.25 <= VERTEX_SLOP_KWH
    assert (frame[pc.chp_heat_kw_th("fuel_cell")] == 0.0).all()  # no heat used: none counted
    kpis = compute_kpis(site, frame)
    cell_fuel = frame[pc.chp_fuel_kw("fuel_cell")].sum() * 0.25
    diesel_fuel = frame[pc.chp_fuel_kw("diesel")].sum() * 0.25
    boiler_fuel = frame[pc.boiler_fuel_kw("gas")].sum() * 0.25
    assert cell_fuel == pytest.approx(cell.sum() * 0.25 / 0.50, rel=COST_RTOL)
    assert kpis.fuel_cost_cny == pytest.approx(
        0.30 * cell_fuel + 0.90 * diesel_fuel + 0.30 * boiler_fuel, rel=COST_RTOL
    )
    grid_co2 = frame[pc.GRID_IMPORT_KW].sum() * 0.25 * site.grid_emission_factor.kg_co2_per_kwh
    boiler_co2 = site.assets.boilers[0].emission_factor_kg_per_kwh_fuel * boiler_fuel
    assert kpis.co2_kg == pytest.approx(grid_co2 + boiler_co2 + 0.27 * diesel_fuel, rel=COST_RTOL)
    assert kpis.chp_run_hours == pytest.approx(24.0 + (24.0 if diesel_kw else 0.0))
    types = set(build_network(site).net.sgen["type"])
    assert {"fuel cell", "diesel"} <= types


def test_the_fallback_covers_the_grid_limit_with_the_cheapest_generators_first() -> None:
    # the solver fails: by the price rule the fuel cell (0.60 CNY/kWh) runs at its rating
    # where import costs 0.8 and not in the valley (0.1); as backup, the units still off
    # cover what the 1000 kW load needs beyond the 600 kW import limit, cheapest first:
    # in the valley the fuel cell 300 kW and the diesel the last 100 kW, elsewhere the
    # diesel 100 kW; no import above the limit is left
    site, _, index = _chp_site()
    raw = site.model_dump(mode="json")
    raw["assets"]["chp"] = [FUEL_CELL, DIESEL]
    raw["grid_connection"]["import_limit_kw"] = 600.0
    site = site_from(raw)
    fc = forecast(site, index, load_plant_kw=1000.0, heat_demand_hot_water_kw_th=1500.0)
    result = plan(site, fc, NO_DEMAND_CHARGE, run=_raising)
    assert result.status is PlanStatus.FALLBACK
    report = check_plan(site, result)
    assert report.ok, report
    frame = result.frame
    assert (frame[columns.chp_kw("fuel_cell")] == 300.0).all()
    assert (frame[columns.chp_kw("diesel")] == 100.0).all()
    assert frame[pc.GRID_IMPORT_KW].to_numpy() == pytest.approx(600.0, abs=POWER_TOL_KW)
    assert not result.relaxations
