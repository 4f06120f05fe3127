"""Flexible loads and hydrogen in the plant: each follows its setpoint within what the
plant can do, and the grid takes exactly the difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from controller import columns as pc
from controller.inputs import flexible as fx
from sim.plant import Plant, PlantState
from sites import columns, load_site
from sites.history.derive import load_history

SITE = load_site(Path(__file__).parent / "data" / "flex_textile.yaml")
_FRAME = load_history(SITE).frame
ROW = _FRAME.iloc[
    int(_FRAME.index.searchsorted(pd.Timestamp("2016-03-08 11:00", tz="Asia/Shanghai")))
]
TRUTH = {str(k): float(v) for k, v in ROW.items()}
POWER_TOL_KW = 1e-6  # the plant's own arithmetic: only float round-off
BATCH = SITE.assets.batch_loads[0]
SHIFT = SITE.assets.shiftable_loads[0]
CURTAIL = SITE.assets.curtailable_loads[0]
TANK = SITE.assets.hydrogen_tanks[0]
UNIT = SITE.assets.electrolysers[0]
CELL = SITE.assets.hydrogen_fuel_cells[0]


def _step(setpoint: dict[str, float], state: PlantState | None = None) -> tuple[Any, PlantState]:
    state = state or PlantState.initial(SITE)
    return Plant(SITE).step(state, setpoint, TRUTH), state


def test_flexible_loads_change_the_import_by_exactly_their_draw() -> None:
    base, _ = _step({})
    share = SHIFT.max_fraction * TRUTH[columns.load_kw(SHIFT.load)]
    set_ = {fx.batch_kw(BATCH.name): 900.0, fx.curtailed_kw(CURTAIL.name): 100.0}
    set_[fx.shift_down_kw(SHIFT.name)] = share + 500.0  # more than the share: capped
    result, state = _step(set_)
    actual = result.actual
    assert actual[fx.batch_kw(BATCH.name)] == 900.0
    assert actual[fx.shift_down_kw(SHIFT.name)] == pytest.approx(share)
    assert fx.shift_down_kw(SHIFT.name) in result.not_followed
    net = 900.0 - 100.0 - share
    grid = actual[pc.GRID_IMPORT_KW] - actual[pc.GRID_EXPORT_KW]
    before = base.actual[pc.GRID_IMPORT_KW] - base.actual[pc.GRID_EXPORT_KW]
    assert grid - before == pytest.approx(net, abs=POWER_TOL_KW)
    assert state.batch_delivered_kwh[BATCH.name] == pytest.approx(900.0 * 0.25)
    assert state.shift_backlog_kwh[SHIFT.name] == pytest.approx(share * 0.25)
    assert actual[pc.shift_deferred_kwh(SHIFT.name)] == pytest.approx(share * 0.25)
    assert state.shift_recent_kwh[SHIFT.name] == [pytest.approx(share * 0.25)]


def test_a_full_tank_vents_what_the_electrolyser_makes_and_an_empty_one_gives_nothing() -> None:
    state = PlantState.initial(SITE)
    state.hydrogen_level_kg[TANK.name] = TANK.capacity_kg
    set_ = {columns.electrolyser_kw(UNIT.name): 1000.0}
    result, state = _step(set_, state)
    made = UNIT.hydrogen_kg_per_h(1000.0)
    assert result.actual[pc.electrolyser_hydrogen_kg_per_h(UNIT.name)] == pytest.approx(made)
    kept = TANK.capacity_kg * TANK.kept_over(0.25)
    vented = (kept + made * 0.25 - TANK.capacity_kg) / 0.25
    assert result.actual[pc.electrolyser_vented_kg_per_h(UNIT.name)] == pytest.approx(vented)
    assert state.hydrogen_level_kg[TANK.name] == pytest.approx(TANK.capacity_kg)

    state.hydrogen_level_kg[TANK.name] = 2.0  # kg: 32 kWh in the fuel cell
    set_ = {
        columns.hydrogen_fuel_cell_kw(CELL.name): 300.0,
        pc.tank_offtake_kg_per_h(TANK.name): 10.0,
    }
    result, state = _step(set_, state)
    got = result.actual[columns.hydrogen_fuel_cell_kw(CELL.name)]
    assert got == pytest.approx(2.0 * TANK.kept_over(0.25) / 0.25 * CELL.kwh_per_kg)
    assert result.actual[pc.tank_offtake_kg_per_h(TANK.name)] == 0.0
    assert state.hydrogen_level_kg[TANK.name] == pytest.approx(0.0, abs=1e-9)
    assert set(result.not_followed) >= {
        columns.hydrogen_fuel_cell_kw(CELL.name),
        pc.tank_offtake_kg_per_h(TANK.name),
    }
