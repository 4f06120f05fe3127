"""The perfect-foresight sizing LP against optima known by hand, and against the planner.

A one-bus park (no losses, no network row) over one spring day of the shandong-2025
calendar: every band at one price but the deep valley (10:00-15:00). A lossless battery
starting half full and ending at least as full can move its whole capacity from the valley
to the rest of the day once: it earns the spread per kWh of capacity each day, 365 days a
year, and the LP buys it exactly where that beats its annualised cost.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest

from controller import DispatchInputs
from controller.inputs.cop import heat_pump_cop
from controller.inputs.state import default_state
from controller.planner import plan
from sim.sizing.candidates import Candidate, CandidateGrid, variant_site
from sim.sizing.coarse import coarsenable, hourly
from sim.sizing.economics import Annualisation, SizingEconomics, TechnologyCosts
from sim.sizing.lp import SizeLimits, SizingSolution, period_inputs, solve_sizing_lp, unit_costs
from sim.sizing.search import around_optimum, lp_limits, lp_promises, solve_optimum
from sites import Site, columns, load_site_mapping
from sites.history.series import expected_series
from sites.loader import load_bundled_site

ZONE = "Asia/Shanghai"
DAY = "2025-04-15"  # spring calendar: deep valley 10:00-15:00
FLAT, VALLEY = 0.8, 0.1
VALLEY_HOURS = 5.0
LOAD_KW = 1000.0
MAX_KWH, MAX_KW = 4000.0, 1000.0
SIZE_TOL_KWH = 1.0  # a solver's vertex, far below any size a park buys
COST_RTOL = 1e-4
"""Two LPs with the same optimum, solved by HiGHS to its default tolerances (1e-7 relative
on the objective) on costs of about 10^4 CNY: agree far closer than this."""
RATE, YEARS = 0.06, 15


def _mapping(valley_price: float) -> dict[str, Any]:
    prices = {b: FLAT for b in ("critical_peak", "peak", "flat", "valley")}
    prices["deep_valley"] = valley_price
    return {
        "id": "sizing-park",
        "name": "Sizing park",
        "location": {"latitude": 36.5, "longitude": 116.0, "altitude_m": 30},
        "grid_connection": {
            "pcc_bus": "pcc",
            "voltage_kv": 10,
            "import_limit_kw": 10000,
            "export_limit_kw": 5000,
            "contracted_demand_kw": 5000,
        },
        "tariff": {
            "calendar": "shandong-2025",
            "band_prices_cny_per_kwh": prices,
            "demand_charge_cny_per_kw_month": 0.0,
            "export_price_cny_per_kwh": 0.0,
        },
        "assets": {
            "batteries": [
                {
                    "name": "bess",
                    "bus": "pcc",
                    "capacity_kwh": 2000,
                    "charge_kw": 500,
                    "discharge_kw": 500,
                    "charge_efficiency": 1.0,
                    "discharge_efficiency": 1.0,
                    "soc_min_fraction": 0.0,
                    "soc_max_fraction": 1.0,
                    "initial_soc_fraction": 0.5,
                    "degradation_cost_cny_per_kwh": 0.0,
                }
            ],
            "electric_loads": [
                {"name": "plant", "bus": "pcc", "peak_kw": 2000, "annual_energy_mwh": 8000}
            ],
        },
        "network": {"buses": [{"name": "pcc", "vn_kv": 10}], "lines": []},
    }


def _with_heat(raw: dict[str, Any]) -> dict[str, Any]:
    """A hot-water demand met by an air-source heat pump or a gas boiler, with a tank."""
    raw = copy.deepcopy(raw)
    raw["assets"]["heat_demands"] = [
        {
            "name": "hot_water",
            "temperature_degc": 60,
            "peak_kw_th": 2000,
            "annual_energy_mwh_th": 5000,
            "process_share": 1.0,
            "space_heating_share": 0.0,
            "process_load": "plant",
        }
    ]
    raw["assets"]["heat_pumps"] = [
        {
            "name": "hp_air",
            "bus": "pcc",
            "electric_kw": 600,
            "sink_temperature_degc": 65,
            "source": "ambient",
            "supplies": "hot_water",
            "carnot_quality": 0.5,
        }
    ]
    raw["assets"]["boilers"] = [
        {
            "name": "gas",
            "fuel": "gas",
            "supplies": "hot_water",
            "capacity_kw_th": 3000,
            "efficiency": 0.92,
            "fuel_price_cny_per_kwh": 0.37,
            "emission_factor_kg_per_kwh_fuel": 0.202,
        }
    ]
    raw["assets"]["thermal_storage"] = [
        {
            "name": "tank",
            "supplies": "hot_water",
            "capacity_kwh_th": 4000,
            "charge_kw_th": 1000,
            "discharge_kw_th": 1000,
            "standing_loss_fraction_per_hour": 0.005,
            "temperature_degc": 70,
        }
    ]
    return raw


def _site(raw: dict[str, Any]) -> Site:
    return load_site_mapping(copy.deepcopy(raw), source="test")


def _truth(site: Site, heat_kw_th: float = 0.0) -> pd.DataFrame:
    index = pd.date_range(DAY, periods=96, freq="15min", tz=ZONE)
    frame = pd.DataFrame(index=index)
    for column in expected_series(site):
        frame[column] = 10.0 if column == columns.AMBIENT_TEMPERATURE_DEGC else 0.0
    frame[columns.load_kw("plant")] = LOAD_KW
    if site.assets.heat_demands:
        frame[columns.heat_demand_kw_th("hot_water")] = heat_kw_th
    return frame


def _economics(per_kwh: float, per_kw: float, thermal_per_kwh: float = 30.0) -> SizingEconomics:
    """Capex only, one life as long as the analysis: annualised = capex x the annuity."""
    return SizingEconomics(
        discount_rate=RATE,
        analysis_years=YEARS,
        battery=TechnologyCosts(
            capex_cny_per_kwh=per_kwh, capex_cny_per_kw=per_kw, lifetime_years=YEARS
        ),
        thermal=TechnologyCosts(capex_cny_per_kwh=thermal_per_kwh, lifetime_years=YEARS),
    )


def _period(truth: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the intervals of ``truth``."""
    return truth.index[0], truth.index[-1] + pd.Timedelta(minutes=15)


def _solve(site: Site, truth: pd.DataFrame, economics: SizingEconomics, **kw: Any) -> Any:
    limits = SizeLimits(MAX_KWH, MAX_KW, {t.name: 8000.0 for t in site.assets.thermal_storage})
    return solve_sizing_lp(site, truth, *_period(truth), economics, limits, **kw)


ANNUITY = RATE / (1 - (1 + RATE) ** -YEARS)
PER_KW = 20.0
THRESHOLD_PER_KWH = (365 * (FLAT - VALLEY) - ANNUITY * PER_KW / VALLEY_HOURS) / ANNUITY
"""The capex per kWh at which a kWh of battery (with the valley's charging power for it,
1 / VALLEY_HOURS kW) earns its annualised cost: 365 x spread = annuity x (per kWh + per kW /
VALLEY_HOURS)."""


def test_unit_costs_are_the_annuity_of_the_capex() -> None:
    units = unit_costs(_economics(1000.0, PER_KW))
    assert units.battery_per_kwh == pytest.approx(1000.0 * ANNUITY, rel=1e-12)
    assert units.battery_per_kw == pytest.approx(PER_KW * ANNUITY, rel=1e-12)
    assert units.battery_per_kwh == pytest.approx(-npf.pmt(RATE, YEARS, 1000.0), rel=1e-12)


@pytest.mark.parametrize(("share", "expected_kwh"), [(0.95, MAX_KWH), (1.05, 0.0)])
def test_a_battery_is_bought_exactly_where_the_spread_pays_its_capex(
    share: float, expected_kwh: float
) -> None:
    site = _site(_mapping(VALLEY))
    truth = _truth(site)
    found = _solve(site, truth, _economics(share * THRESHOLD_PER_KWH, PER_KW))
    assert found.battery_kwh == pytest.approx(expected_kwh, abs=SIZE_TOL_KWH)
    # just the power to fill it in the valley: more costs, less cannot charge it
    assert found.battery_kw == pytest.approx(expected_kwh / VALLEY_HOURS, abs=SIZE_TOL_KWH)
    # the year's energy bill: the load at the flat price, less the spread on each kWh moved
    energy = LOAD_KW * 24 * FLAT - LOAD_KW * VALLEY_HOURS * (FLAT - VALLEY)
    moved = found.battery_kwh * (FLAT - VALLEY)
    assert found.annual_operating_cost_cny == pytest.approx(365 * (energy - moved), rel=COST_RTOL)
    assert found.violations_cny == pytest.approx(0.0, abs=1e-6)


def test_with_no_spread_nothing_is_bought() -> None:
    site = _site(_with_heat(_mapping(FLAT)))
    truth = _truth(site, heat_kw_th=800.0)
    found = _solve(site, truth, _economics(1.0, 0.01, thermal_per_kwh=1.0))
    assert found.battery_kwh == pytest.approx(0.0, abs=SIZE_TOL_KWH)
    assert dict(found.tank_kwh_th)["tank"] == pytest.approx(0.0, abs=SIZE_TOL_KWH)


def test_a_tank_as_large_as_the_valley_heat_the_pump_can_spare() -> None:
    # 800 kW_th of heat all day; the air-source pump (600 kW, COP 3.07 at 10 degC) makes it
    # at 0.8 / 3.07 = 0.26 CNY/kWh_th, in the valley at 0.03 (gas: 0.40). A tank at 1 CNY per
    # kWh_th is worth all the valley heat the pump can spare beyond the demand: it empties
    # before the valley, fills in it, and is at its start level again by midnight.
    site = _site(_with_heat(_mapping(VALLEY)))
    truth = _truth(site, heat_kw_th=800.0)
    found = _solve(site, truth, _economics(1e6, 1e6, thermal_per_kwh=1.0))
    assert found.battery_kwh == pytest.approx(0.0, abs=SIZE_TOL_KWH)
    pump = site.assets.heat_pumps[0]
    cop = float(heat_pump_cop(pump, np.array(10.0)))
    spare_kwh_th = VALLEY_HOURS * (pump.electric_kw * cop - 800.0)
    # the standing loss while it fills takes at most 5 h x its hourly share of that heat
    loss = VALLEY_HOURS * site.assets.thermal_storage[0].standing_loss_fraction_per_hour
    tank = dict(found.tank_kwh_th)["tank"]
    assert spare_kwh_th * (1 - loss) <= tank <= spare_kwh_th + SIZE_TOL_KWH


def test_at_fixed_sizes_it_costs_what_the_planner_plans() -> None:
    # the same physics: a day planned with the true values at the candidate's sizes costs
    # what the LP promises at those sizes (the planner spills nothing here: no renewables)
    raw = _with_heat(_mapping(VALLEY))
    raw["assets"]["batteries"][0].update(
        charge_efficiency=0.95, discharge_efficiency=0.95, degradation_cost_cny_per_kwh=0.02
    )
    site = _site(raw)
    truth = _truth(site, heat_kw_th=800.0)
    candidate = Candidate(3000.0, 700.0, (("tank", 2500.0),))
    found = _solve(site, truth, _economics(900.0, 300.0), fixed=candidate)
    assert found.battery_kwh == pytest.approx(3000.0)
    variant = variant_site(site, candidate)
    forecast = truth.rename(columns={c: columns.quantile(c, 50) for c in truth.columns})
    planned = plan(variant, forecast, default_state(variant))
    kpis = planned.kpis
    assert found.operating_cost_cny == pytest.approx(kpis.total_cost_cny, rel=COST_RTOL)
    assert found.battery_discharged_kwh == pytest.approx(
        planned.frame[columns.battery_discharge_kw("bess")].sum() * 0.25, rel=1e-3, abs=1.0
    )


def test_a_week_in_one_month_bills_its_peak_as_each_month_of_the_year() -> None:
    index = pd.date_range("2016-05-02", periods=7 * 96, freq="15min", tz=ZONE)
    weights = Annualisation.of(pd.DatetimeIndex(index))
    assert weights.energy == pytest.approx(365 / 7)
    assert weights.demand == pytest.approx(12.0)
    across = pd.date_range("2016-05-28", periods=7 * 96, freq="15min", tz=ZONE)
    assert Annualisation.of(pd.DatetimeIndex(across)).demand == pytest.approx(6.0)
    assert np.isfinite(weights.energy)


def _optimum(battery_kwh: float, battery_kw: float, tank_kwh_th: float) -> SizingSolution:
    return SizingSolution(
        status="optimal",
        battery_kwh=battery_kwh,
        battery_kw=battery_kw,
        tank_kwh_th=(("tank", tank_kwh_th),),
        annual_cost_cny=0.0,
        annualised_storage_cost_cny=0.0,
        operating_cost_cny=0.0,
        demand_charge_cny=0.0,
        annual_operating_cost_cny=0.0,
        self_consumption_ratio=1.0,
        export_ratio=0.0,
        battery_discharged_kwh=0.0,
        thermal_discharged_kwh_th=0.0,
        battery_equivalent_full_cycles=0.0,
        violations_cny=0.0,
        solve_time_s=0.0,
    )


def test_the_search_replays_each_size_around_the_optimum() -> None:
    found = around_optimum(_optimum(3012.0, 801.0, 5160.6))
    assert found == [
        Candidate(1500.0, 400.0, (("tank", 5200.0),)),
        Candidate(3000.0, 800.0, (("tank", 5200.0),)),
        Candidate(4500.0, 1200.0, (("tank", 5200.0),)),
        Candidate(3000.0, 800.0, (("tank", 2600.0),)),
        Candidate(3000.0, 800.0, (("tank", 7700.0),)),
    ]
    # no battery at the optimum: none around it either, only the tank varies
    bare = around_optimum(_optimum(0.0, 0.0, 4000.0))
    assert {c.battery_kwh for c in bare} == {0.0}
    assert [dict(c.tank_kwh_th)["tank"] for c in bare] == [4000.0, 2000.0, 6000.0]


def test_the_lp_may_buy_up_to_the_largest_swept_sizes() -> None:
    site = _site(_with_heat(_mapping(VALLEY)))
    swept = lp_limits(site, CandidateGrid(battery_kwh=[0, 6000], duration_h=[2, 4]))
    assert (swept.battery_kwh, swept.battery_kw) == (6000.0, 3000.0)
    assert swept.tank_kwh_th == {"tank": 4 * 4000.0}  # not swept: 4x the present
    present = lp_limits(site, CandidateGrid(tanks={"tank": [0, 9000]}))
    assert (present.battery_kwh, present.battery_kw) == (4 * 2000.0, 4 * 500.0)
    assert present.tank_kwh_th == {"tank": 9000.0}


def test_a_solved_lp_is_kept_by_its_inputs_and_reused(tmp_path: Path) -> None:
    # a year's LP takes tens of minutes: a rerun of the sweep reads what the last one solved
    site = _site(_mapping(VALLEY))
    truth = _truth(site)
    start, end = _period(truth)
    economics = _economics(0.95 * THRESHOLD_PER_KWH, PER_KW)
    limits = SizeLimits(MAX_KWH, MAX_KW)
    first = solve_optimum(site, truth, start, end, economics, limits, tmp_path)
    kept = list((tmp_path / "lp").glob("*.json"))
    assert len(kept) == 1
    again = solve_optimum(site, truth, start, end, economics, limits, tmp_path)
    assert again == first  # its solve time too: read, not solved again
    dearer = _economics(1.05 * THRESHOLD_PER_KWH, PER_KW)
    other = solve_optimum(site, truth, start, end, dearer, limits, tmp_path)
    assert other.battery_kwh == pytest.approx(0.0, abs=SIZE_TOL_KWH)
    assert len(list((tmp_path / "lp").glob("*.json"))) == 2  # other inputs: solved, kept
    candidate = Candidate(MAX_KWH, MAX_KWH / VALLEY_HOURS)
    promised = lp_promises(site, truth, start, end, economics, [candidate], tmp_path)
    assert lp_promises(site, truth, start, end, economics, [candidate], tmp_path) == promised
    assert promised[candidate].battery_kwh == pytest.approx(MAX_KWH)


# The LP on hourly means (sim.sizing.coarse) against the 15-minute LP: prices change on the
# hour, so where the truth is constant within each hour the hourly LP has the same optimum;
# where the load swings within the hour it is a relaxation, never dearer.

RATE_PER_KW_MONTH, SWING_KW = 30.0, 600.0
STANDING_LOSS_RTOL = 2e-3
"""The tank's standing loss (0.5 % an hour) acts on the hour's net flow once an hour rather
than compounding over its quarters: (1 + k + k^2 + k^3) / 4 against 1, a 0.2 % difference
on the heat the tank carries, less on the day's cost."""


def _hourly(site: Site, truth: pd.DataFrame) -> DispatchInputs:
    start, end = _period(truth)
    inputs = period_inputs(site, truth, start, end)
    assert coarsenable(site, inputs)
    return hourly(inputs)


def test_where_nothing_changes_within_an_hour_the_optimum_is_the_same() -> None:
    site = _site(_with_heat(_mapping(VALLEY)))
    truth = _truth(site, heat_kw_th=800.0)
    economics = _economics(0.95 * THRESHOLD_PER_KWH, PER_KW, thermal_per_kwh=1.0)
    quarter = _solve(site, truth, economics)
    hour = _solve(site, truth, economics, inputs=_hourly(site, truth))
    assert (quarter.step_minutes, hour.step_minutes) == (15, 60)
    assert quarter.battery_kwh > 1000.0  # the spread pays for a battery, so both buy one
    assert hour.battery_kwh == pytest.approx(quarter.battery_kwh, abs=SIZE_TOL_KWH)
    assert hour.battery_kw == pytest.approx(quarter.battery_kw, abs=SIZE_TOL_KWH)
    assert dict(hour.tank_kwh_th)["tank"] == pytest.approx(
        dict(quarter.tank_kwh_th)["tank"], rel=STANDING_LOSS_RTOL
    )
    assert hour.annual_cost_cny == pytest.approx(quarter.annual_cost_cny, rel=STANDING_LOSS_RTOL)


def test_a_load_swinging_within_the_hour_is_relaxed_never_dearer() -> None:
    # 600 kW above and below the mean in alternate quarters, billed 30 CNY/kW a month: the
    # 15-minute LP pays the quarter-hour peak, the hourly one the hour's mean
    raw = _mapping(VALLEY)
    raw["tariff"]["demand_charge_cny_per_kw_month"] = RATE_PER_KW_MONTH
    site = _site(raw)
    truth = _truth(site)
    swing = pd.Series([SWING_KW, -SWING_KW] * (len(truth) // 2), index=truth.index)
    truth[columns.load_kw("plant")] = LOAD_KW + swing
    economics = _economics(0.95 * THRESHOLD_PER_KWH, PER_KW)
    # without storage, by hand: the same energy bill, one month's peak 600 kW apart
    bare = Candidate(0.0, 0.0)
    quarter = _solve(site, truth, economics, fixed=bare)
    hour = _solve(site, truth, economics, fixed=bare, inputs=_hourly(site, truth))
    assert quarter.demand_charge_cny == pytest.approx(RATE_PER_KW_MONTH * (LOAD_KW + SWING_KW))
    assert hour.demand_charge_cny == pytest.approx(RATE_PER_KW_MONTH * LOAD_KW)
    assert quarter.annual_cost_cny - hour.annual_cost_cny == pytest.approx(
        12 * RATE_PER_KW_MONTH * SWING_KW, rel=1e-6
    )
    # with a battery free to shave or to shift: the hourly promise is still the lower
    stored = Candidate(2000.0, 400.0)
    quarter = _solve(site, truth, economics, fixed=stored)
    hour = _solve(site, truth, economics, fixed=stored, inputs=_hourly(site, truth))
    assert hour.annual_cost_cny <= quarter.annual_cost_cny
    assert hour.demand_charge_cny < quarter.demand_charge_cny


def test_hourly_inputs_keep_the_period_and_its_totals() -> None:
    site = _site(_with_heat(_mapping(VALLEY)))
    truth = _truth(site, heat_kw_th=800.0)
    start, end = _period(truth)
    inputs = period_inputs(site, truth, start, end)
    coarse = hourly(inputs)
    assert (coarse.horizon, coarse.hours_per_step, inputs.hours_per_step) == (24, 1.0, 0.25)
    assert coarse.load_kw.sum() * 1.0 == pytest.approx(inputs.load_kw.sum() * 0.25)
    assert coarse.terminal_mask.tolist() == [0.0] * 23 + [1.0]
    assert coarse.storage_keep[0, 0] == pytest.approx(inputs.storage_keep[0, 0] ** 4)
    assert Annualisation.of(coarse.index, 1.0) == Annualisation.of(inputs.index)


def test_parks_whose_rows_count_quarter_hours_keep_the_15_minute_lp() -> None:
    site = _site(_mapping(VALLEY))
    truth = _truth(site)
    start, end = _period(truth)
    inputs = period_inputs(site, truth, start, end)
    flexible = load_bundled_site("liaocheng-chemical-chp")  # batch, shift and hydrogen families
    assert not coarsenable(flexible, inputs)
    late = dataclasses.replace(inputs, index=inputs.index + pd.Timedelta(minutes=15))
    assert not coarsenable(site, late)  # not on the hour
