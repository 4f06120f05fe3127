"""A gas CHP unit in the plant: it follows its setpoint within rating, minimum stable load
and ramp; its power lowers the import and its heat the boilers' by exactly what it makes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import yaml

from controller import columns as pc
from sim.plant import Plant, PlantState
from sites import bundled_site_paths, columns, load_bundled_site, load_site_mapping
from sites.history.derive import load_history

BASE = load_bundled_site("gaotang-textile")
_FRAME = load_history(BASE).frame
ROW = _FRAME.iloc[
    int(_FRAME.index.searchsorted(pd.Timestamp("2016-01-12 11:00", tz="Asia/Shanghai")))
]
POWER_TOL_KW = 1e-6  # the plant's own arithmetic: only float round-off
RATED_KW, MIN_KW, STEP_KW = 2000.0, 800.0, 1000.0  # ramp 4000 kW/h: 1000 kW per interval
HEAT_PER_KW = 0.45 / 0.40


def _site() -> Any:
    raw = yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))
    raw["assets"]["chp"] = [
        {
            "name": "engine",
            "bus": "f3_utilities",
            "supplies": "dyeing_hot_water",
            "rated_electric_kw": RATED_KW,
            "electric_efficiency": 0.40,
            "heat_efficiency": 0.45,
            "min_stable_fraction": MIN_KW / RATED_KW,
            "ramp_kw_per_h": 4 * STEP_KW,
            "start_cost_cny": 200,
            "fuel_price_cny_per_kwh": 0.3,
            "emission_factor_kg_per_kwh_fuel": 0.2,
        }
    ]
    return load_site_mapping(raw, source="test")


SITE = _site()
TRUTH = {str(k): float(v) for k, v in ROW.items()}


def _step(setpoint: dict[str, float], before_kw: float | None = None) -> tuple:
    state = PlantState.initial(SITE)
    if before_kw is not None:
        state.chp_kw["engine"] = before_kw
    return Plant(SITE).step(state, setpoint, TRUTH), state


def _heat_in(actual: dict[str, float]) -> float:
    """Every heat source's output to the dyeing demand (dumped heat included)."""
    a = SITE.assets
    demand = "dyeing_hot_water"
    total = sum(
        actual[pc.heat_pump_heat_kw_th(h.name)] for h in a.heat_pumps if h.supplies == demand
    )
    total += sum(actual[pc.boiler_heat_kw_th(b.name)] for b in a.boilers if b.supplies == demand)
    total += sum(
        actual[pc.thermal_storage_discharge_kw_th(t.name)]
        - actual[pc.thermal_storage_charge_kw_th(t.name)]
        for t in a.thermal_storage
        if t.supplies == demand
    )
    return total + actual.get(pc.chp_heat_kw_th("engine"), 0.0)


def test_the_chp_follows_its_setpoint_and_conserves_energy() -> None:
    off, _ = _step({})
    on, state = _step({columns.chp_kw("engine"): 1500.0, pc.chp_on("engine"): 1.0}, 1000.0)
    actual = on.actual
    assert actual[columns.chp_kw("engine")] == pytest.approx(1500.0, abs=POWER_TOL_KW)
    assert "chp_engine_kw" not in on.not_followed
    assert actual[pc.chp_fuel_kw("engine")] == pytest.approx(1500.0 / 0.40)
    assert actual[pc.chp_heat_kw_th("engine")] == pytest.approx(1500.0 * HEAT_PER_KW)
    assert state.chp_kw["engine"] == pytest.approx(1500.0)
    assert actual[pc.chp_start_cny("engine")] == 0.0  # running before: no start
    # electricity: the import falls (or the export rises) by exactly the CHP's output
    net_on = actual[pc.GRID_IMPORT_KW] - actual[pc.GRID_EXPORT_KW]
    net_off = off.actual[pc.GRID_IMPORT_KW] - off.actual[pc.GRID_EXPORT_KW]
    heat_pumps_on = sum(actual[columns.heat_pump_kw(h.name)] for h in SITE.assets.heat_pumps)
    heat_pumps_off = sum(off.actual[columns.heat_pump_kw(h.name)] for h in SITE.assets.heat_pumps)
    assert net_on == pytest.approx(
        net_off - 1500.0 + heat_pumps_on - heat_pumps_off, abs=POWER_TOL_KW
    )
    # heat: the demand gets the same heat; what the CHP makes, the others make less (or dump)
    dumped = on.heat_dumped_kwh_th / 0.25
    assert _heat_in(actual) - dumped == pytest.approx(_heat_in(off.actual), abs=POWER_TOL_KW)


def test_below_its_minimum_the_chp_runs_at_the_minimum() -> None:
    result, _ = _step({columns.chp_kw("engine"): 300.0, pc.chp_on("engine"): 1.0}, 800.0)
    assert result.actual[columns.chp_kw("engine")] == pytest.approx(MIN_KW)
    assert columns.chp_kw("engine") in result.not_followed


def test_the_chp_ramps_no_faster_than_its_limit() -> None:
    result, _ = _step({columns.chp_kw("engine"): RATED_KW, pc.chp_on("engine"): 1.0}, 0.0)
    assert result.actual[columns.chp_kw("engine")] == pytest.approx(STEP_KW)
    assert result.actual[pc.chp_on("engine")] == 1.0
    assert result.actual[pc.chp_start_cny("engine")] == 200.0  # off before: a start
    assert columns.chp_kw("engine") in result.not_followed


def test_off_means_no_output_whatever_the_power_setpoint() -> None:
    result, _ = _step({columns.chp_kw("engine"): 1500.0, pc.chp_on("engine"): 0.0})
    assert result.actual[columns.chp_kw("engine")] == 0.0
    assert result.actual[pc.chp_on("engine")] == 0.0
