"""The plant's real-time rules, one interval at a time: the batteries' import ceiling and
the heat pumps on a shared waste-heat stream."""

from __future__ import annotations

import pandas as pd
import pytest

from controller import columns as pc
from sim.plant import Plant, PlantState
from sites import columns, load_bundled_site
from sites.history.derive import load_history

SITE = load_bundled_site("gaotang-textile")  # battery bess (4 MW); two pumps share one stream
_FRAME = load_history(SITE).frame
ROW = _FRAME.iloc[
    int(_FRAME.index.searchsorted(pd.Timestamp("2016-01-12 11:00", tz="Asia/Shanghai")))
]
POWER_TOL_KW = 1e-6  # the plant's own arithmetic: only float round-off


def _truth(**changes: float) -> dict[str, float]:
    truth = {str(k): float(v) for k, v in ROW.items()}
    truth.update(changes)
    return truth


def _net_import_without_battery(truth: dict[str, float]) -> float:
    result = Plant(SITE).step(PlantState.initial(SITE), {}, truth)
    return result.actual[pc.GRID_IMPORT_KW]


def test_the_batteries_hold_the_import_ceiling_charging_less_then_discharging() -> None:
    truth = _truth()
    base = _net_import_without_battery(truth)
    ceiling = base - 1000.0  # 1 MW below what the park draws with the battery idle
    setpoint = {
        columns.battery_charge_kw("bess"): 500.0,  # the plan charges 0.5 MW
        pc.GRID_IMPORT_CEILING_KW: ceiling,
    }
    state = PlantState.initial(SITE)
    result = Plant(SITE).step(state, setpoint, truth)
    actual = result.actual
    assert actual[pc.GRID_IMPORT_KW] == pytest.approx(ceiling, abs=POWER_TOL_KW)
    assert actual[columns.battery_charge_kw("bess")] == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert actual[columns.battery_discharge_kw("bess")] == pytest.approx(1000.0, abs=1e-6)
    assert result.peak_guard_kwh == pytest.approx(1500.0 * 0.25)
    assert not result.not_followed  # the ceiling is a setpoint too
    b = SITE.assets.batteries[0]
    start = b.capacity_kwh * b.initial_soc_fraction
    expected_soc = start - 1000.0 / b.discharge_efficiency * 0.25
    assert state.battery_soc_kwh["bess"] == pytest.approx(expected_soc)


def test_the_ceiling_is_held_at_the_connection_point_network_losses_included() -> None:
    """The local controller meters the connection point, where the network losses flow too:
    with 300 kW of losses expected, the park's own balance is held 300 kW below the
    ceiling (else each guarded interval would set a new peak by the losses)."""
    truth = _truth()
    base = _net_import_without_battery(truth)
    setpoint = {
        columns.battery_charge_kw("bess"): 500.0,
        pc.GRID_IMPORT_CEILING_KW: base,
        pc.NETWORK_LOSSES_KW: 300.0,
    }
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    assert result.actual[pc.GRID_IMPORT_KW] == pytest.approx(base - 300.0, abs=POWER_TOL_KW)
    assert result.peak_guard_kwh == pytest.approx(800.0 * 0.25)


def test_without_a_ceiling_the_battery_follows_its_setpoint() -> None:
    truth = _truth()
    setpoint = {columns.battery_charge_kw("bess"): 500.0}
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    assert result.actual[columns.battery_charge_kw("bess")] == pytest.approx(500.0)
    assert result.peak_guard_kwh == 0.0


def test_a_short_shared_stream_serves_the_demand_with_the_least_backup_first() -> None:
    """Both pumps draw on the warm waste water; the washing water has only a 2 MW electric
    boiler behind it, the dyeing hot water a 15 MW gas boiler and the tank: when the stream
    gives less than the plan drew, the dyeing pump gives way and no heat goes unmet."""
    stream = columns.waste_heat_kw_th("warm_waste_water")
    truth = _truth(
        **{
            stream: 1500.0,
            columns.heat_demand_kw_th("washing_water"): 3500.0,
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): 1500.0,  # planned on a stream that is not there
        columns.heat_pump_kw("hp_washing"): 250.0,
        pc.boiler_heat_kw_th("electric_boiler"): 2000.0,
        pc.boiler_heat_kw_th("gas_boiler"): 2000.0,
    }
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    actual = result.actual
    assert result.heat_unmet_kwh_th == 0.0
    washing_heat = actual[pc.heat_pump_heat_kw_th("hp_washing")]
    assert washing_heat + actual[pc.boiler_heat_kw_th("electric_boiler")] == pytest.approx(3500.0)
    assert actual[pc.waste_heat_to_heat_pump_kw_th("warm_waste_water")] <= 1500.0 + POWER_TOL_KW
    assert columns.heat_pump_kw("hp_dyeing") in result.not_followed  # it gave way
    assert columns.heat_pump_kw("hp_washing") not in result.not_followed
