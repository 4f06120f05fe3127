"""The plant's real-time rules, one interval at a time: the batteries' import ceiling and
the heat pumps on a shared waste-heat stream."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from controller import columns as pc
from controller.inputs.cop import heat_pump_cop
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


def test_an_empty_battery_leaves_the_ceiling_to_the_heat_pumps_and_the_gas_boiler() -> None:
    """The battery is at its SoC floor, so the demand limiter holds the ceiling by handing
    the dyeing pump's heat to the gas boiler: 300 kW less import, 300 kW x COP more gas
    heat, the same heat delivered, the stream's use down by what the pump no longer lifts."""
    hp = next(p for p in SITE.assets.heat_pumps if p.name == "hp_dyeing")
    source = SITE.assets.waste_heat[0]
    k = float(heat_pump_cop(hp, np.array([source.supply_temperature_degc]))[0])
    dyeing_kw = 1000.0
    truth = _truth(
        **{
            columns.waste_heat_kw_th(source.name): 20000.0,
            columns.heat_demand_kw_th("washing_water"): 0.0,
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): dyeing_kw,
        pc.boiler_heat_kw_th("gas_boiler"): 8000.0 - dyeing_kw * k,
    }
    b = SITE.assets.batteries[0]
    empty = PlantState.initial(SITE)
    empty.battery_soc_kwh[b.name] = b.soc_min_kwh
    free = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth).actual
    assert free[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw)
    ceiling = free[pc.GRID_IMPORT_KW] - 300.0
    result = Plant(SITE).step(empty, {**setpoint, pc.GRID_IMPORT_CEILING_KW: ceiling}, truth)
    actual = result.actual
    assert actual[pc.GRID_IMPORT_KW] == pytest.approx(ceiling, abs=POWER_TOL_KW)
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw - 300.0)
    gas = next(x for x in SITE.assets.boilers if x.name == "gas_boiler")
    assert actual[pc.boiler_heat_kw_th(gas.name)] == pytest.approx(
        free[pc.boiler_heat_kw_th(gas.name)] + 300.0 * k
    )
    assert actual[pc.boiler_fuel_kw(gas.name)] == pytest.approx(
        actual[pc.boiler_heat_kw_th(gas.name)] / gas.efficiency
    )
    delivered = (
        actual[pc.heat_pump_heat_kw_th("hp_dyeing")] + actual[pc.boiler_heat_kw_th(gas.name)]
    )
    assert delivered == pytest.approx(8000.0)
    assert actual[pc.waste_heat_to_heat_pump_kw_th(source.name)] == pytest.approx(
        free[pc.waste_heat_to_heat_pump_kw_th(source.name)] - 300.0 * (k - 1.0)
    )
    assert result.peak_guard_kwh == 0.0
    assert result.heat_pump_shed_kwh == pytest.approx(300.0 * 0.25)
    assert result.not_followed == []  # the ceiling is a setpoint too


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


def test_a_pump_takes_more_than_planned_only_from_what_the_planned_shares_leave() -> None:
    """The stream gives what the plan expected and 100 kW_th more; the washing water needs
    500 kW_th more heat than planned. The washing pump takes the 100 kW_th left over, not the
    dyeing pump's share: the dyeing pump follows its setpoint and the washing water's electric
    boiler gives the rest."""
    hp = {p.name: p for p in SITE.assets.heat_pumps}
    source = SITE.assets.waste_heat[0]
    k = {
        name: float(heat_pump_cop(p, np.array([source.supply_temperature_degc]))[0])
        for name, p in hp.items()
    }
    dyeing_kw, washing_kw, leftover_kw_th, extra_kw_th = 1000.0, 300.0, 100.0, 500.0
    planned_source = dyeing_kw * (k["hp_dyeing"] - 1.0) + washing_kw * (k["hp_washing"] - 1.0)
    washing_boiler = 3500.0 - washing_kw * k["hp_washing"] - extra_kw_th
    truth = _truth(
        **{
            columns.waste_heat_kw_th(source.name): planned_source + leftover_kw_th,
            columns.heat_demand_kw_th("washing_water"): 3500.0,
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): dyeing_kw,
        columns.heat_pump_kw("hp_washing"): washing_kw,
        pc.boiler_heat_kw_th("electric_boiler"): washing_boiler,
        pc.boiler_heat_kw_th("gas_boiler"): 8000.0 - dyeing_kw * k["hp_dyeing"],
    }
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    actual = result.actual
    assert result.not_followed == []
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw)
    more_kw = leftover_kw_th / (k["hp_washing"] - 1.0)
    assert actual[columns.heat_pump_kw("hp_washing")] == pytest.approx(washing_kw + more_kw)
    backup = extra_kw_th - more_kw * k["hp_washing"]
    assert actual[pc.boiler_heat_kw_th("electric_boiler")] == pytest.approx(washing_boiler + backup)
    assert result.heat_unmet_kwh_th == 0.0


def test_heat_that_would_go_unmet_takes_stream_back_from_a_better_backed_up_demand() -> None:
    """The stream gives just what the plan drew; the washing water needs more than its pump's
    plan and its 2 MW electric boiler can give. Its pump takes source heat back from the
    dyeing pump (not followed), whose gas boiler makes up for it: no heat goes unmet."""
    hp = {p.name: p for p in SITE.assets.heat_pumps}
    source = SITE.assets.waste_heat[0]
    k = {
        name: float(heat_pump_cop(p, np.array([source.supply_temperature_degc]))[0])
        for name, p in hp.items()
    }
    dyeing_kw, washing_kw, boiler_kw_th = 1000.0, 200.0, 2000.0  # the electric boiler's rating
    missing_kw_th = 3500.0 - washing_kw * k["hp_washing"] - boiler_kw_th
    truth = _truth(
        **{
            columns.waste_heat_kw_th(source.name): dyeing_kw * (k["hp_dyeing"] - 1.0)
            + washing_kw * (k["hp_washing"] - 1.0),
            columns.heat_demand_kw_th("washing_water"): 3500.0,
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): dyeing_kw,
        columns.heat_pump_kw("hp_washing"): washing_kw,
        pc.boiler_heat_kw_th("electric_boiler"): boiler_kw_th,
        pc.boiler_heat_kw_th("gas_boiler"): 8000.0 - dyeing_kw * k["hp_dyeing"],
    }
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    actual = result.actual
    assert missing_kw_th > 100.0  # the case needs the take-back
    assert result.heat_unmet_kwh_th == 0.0
    more_kw = missing_kw_th / k["hp_washing"]
    assert actual[columns.heat_pump_kw("hp_washing")] == pytest.approx(washing_kw + more_kw)
    given_kw = more_kw * (k["hp_washing"] - 1.0) / (k["hp_dyeing"] - 1.0)
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw - given_kw)
    assert result.not_followed == [columns.heat_pump_kw("hp_dyeing")]
    dyeing_heat = (
        actual[pc.heat_pump_heat_kw_th("hp_dyeing")] + actual[pc.boiler_heat_kw_th("gas_boiler")]
    )
    assert dyeing_heat == pytest.approx(8000.0)


def test_stream_the_plan_did_not_count_on_goes_to_the_heat_pumps_ahead_of_the_boiler() -> None:
    """The plan counts on a low quantile of the stream; it truly gives 600 kW_th more. The
    washing water is met by its pump as planned, so the dyeing pump takes the 600 kW_th
    (up to its rating) and the gas boiler gives that much less heat than planned: the heat
    pump leads and the boiler tops up, and neither counts as not followed. Where the plan
    counted on that stream and left it (for its price or the network), it stays unused."""
    hp = {p.name: p for p in SITE.assets.heat_pumps}
    source = SITE.assets.waste_heat[0]
    k = {
        name: float(heat_pump_cop(p, np.array([source.supply_temperature_degc]))[0])
        for name, p in hp.items()
    }
    dyeing_kw, washing_kw, surplus_kw_th = 1000.0, 300.0, 600.0
    planned_source = dyeing_kw * (k["hp_dyeing"] - 1.0) + washing_kw * (k["hp_washing"] - 1.0)
    gas_planned = 8000.0 - dyeing_kw * k["hp_dyeing"]
    truth = _truth(
        **{
            columns.waste_heat_kw_th(source.name): planned_source + surplus_kw_th,
            columns.heat_demand_kw_th("washing_water"): washing_kw * k["hp_washing"],
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): dyeing_kw,
        columns.heat_pump_kw("hp_washing"): washing_kw,
        pc.boiler_heat_kw_th("gas_boiler"): gas_planned,
        pc.waste_heat_available_kw_th(source.name): planned_source,  # what the plan counted on
    }
    left_alone = (
        Plant(SITE)
        .step(
            PlantState.initial(SITE),
            {
                **setpoint,
                pc.waste_heat_available_kw_th(source.name): planned_source + surplus_kw_th,
            },
            truth,
        )
        .actual
    )
    assert left_alone[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw)
    assert left_alone[pc.boiler_heat_kw_th("gas_boiler")] == pytest.approx(gas_planned)
    # where the interval's electricity makes the pump's heat dearer than the gas boiler's,
    # the boiler keeps it
    gas = next(b for b in SITE.assets.boilers if b.name == "gas_boiler")
    peak_price = 1.50
    assert peak_price / k["hp_dyeing"] > gas.fuel_price_cny_per_kwh / gas.efficiency
    dear = (
        Plant(SITE)
        .step(PlantState.initial(SITE), {**setpoint, pc.PRICE_CNY_PER_KWH: peak_price}, truth)
        .actual
    )
    assert dear[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw)
    assert dear[pc.boiler_heat_kw_th("gas_boiler")] == pytest.approx(gas_planned)
    result = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)
    actual = result.actual
    more_kw = surplus_kw_th / (k["hp_dyeing"] - 1.0)
    assert dyeing_kw + more_kw < hp["hp_dyeing"].electric_kw  # within its rating
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(dyeing_kw + more_kw)
    assert actual[columns.heat_pump_kw("hp_washing")] == pytest.approx(washing_kw)
    gas = actual[pc.boiler_heat_kw_th("gas_boiler")]
    assert gas == pytest.approx(gas_planned - more_kw * k["hp_dyeing"])
    assert actual[pc.waste_heat_to_heat_pump_kw_th(source.name)] == pytest.approx(
        planned_source + surplus_kw_th
    )
    assert result.not_followed == []
    assert result.heat_unmet_kwh_th == 0.0 and result.boiler_backup_kwh_th == 0.0


@pytest.mark.parametrize(("price", "taker"), [(0.30, "hp_dyeing"), (1.50, "hp_washing")])
def test_unplanned_stream_goes_to_the_demand_whose_boiler_heat_is_dearest(
    price: float, taker: str
) -> None:
    """Both demands have boiler heat planned and the stream gives 300 kW_th more than the
    plan counted on. At a valley price the washing water's electric boiler makes heat more
    cheaply than the dyeing water's gas boiler (0.37 / 0.92 CNY/kWh_th), so the dyeing pump
    takes the stream; at 1.50 CNY/kWh the electric boiler is the dearer, so the washing
    pump does."""
    source = SITE.assets.waste_heat[0]
    pumps = {p.name: p for p in SITE.assets.heat_pumps}
    k = {
        n: float(heat_pump_cop(p, np.array([source.supply_temperature_degc]))[0])
        for n, p in pumps.items()
    }
    dyeing_kw, washing_kw, surplus_kw_th = 1000.0, 300.0, 300.0
    planned_source = dyeing_kw * (k["hp_dyeing"] - 1.0) + washing_kw * (k["hp_washing"] - 1.0)
    truth = _truth(
        **{
            columns.waste_heat_kw_th(source.name): planned_source + surplus_kw_th,
            columns.heat_demand_kw_th("washing_water"): 3000.0,
            columns.heat_demand_kw_th("dyeing_hot_water"): 8000.0,
        }
    )
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): dyeing_kw,
        columns.heat_pump_kw("hp_washing"): washing_kw,
        pc.boiler_heat_kw_th("gas_boiler"): 8000.0 - dyeing_kw * k["hp_dyeing"],
        pc.boiler_heat_kw_th("electric_boiler"): 3000.0 - washing_kw * k["hp_washing"],
        pc.waste_heat_available_kw_th(source.name): planned_source,
        pc.PRICE_CNY_PER_KWH: price,
    }
    actual = Plant(SITE).step(PlantState.initial(SITE), setpoint, truth).actual
    planned = {"hp_dyeing": dyeing_kw, "hp_washing": washing_kw}
    more_kw = surplus_kw_th / (k[taker] - 1.0)
    assert planned[taker] + more_kw <= pumps[taker].electric_kw
    for name, kw in planned.items():
        expected = kw + more_kw if name == taker else kw
        assert actual[columns.heat_pump_kw(name)] == pytest.approx(expected)
