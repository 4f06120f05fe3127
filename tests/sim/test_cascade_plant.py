"""A heat-pump cascade in the plant, one interval worked by hand: the textile park's dyeing
pump (95 degC) made the upper stage of a low stage lifting the 38 degC waste water to a
65 degC loop. The cascade follows its setpoints as one pump: the upper stage takes at most
what the lower stage gives, each stage stays within its rating, and every kW is accounted
for (heat delivered = both stages' input + the stream's heat)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import yaml

from controller import columns as pc
from controller.inputs.cop import KELVIN
from sim.plant import Plant, PlantState
from sites import bundled_site_paths, columns, load_site_mapping
from sites.history.derive import load_history

POWER_TOL_KW = 1e-6  # the plant's own arithmetic: only float round-off
COP_HIGH = 0.5 * (95 + KELVIN) / (95 - 65)  # 6.14: 65 degC loop to 95 degC
COP_LOW = 0.5 * (65 + KELVIN) / (65 - 38)  # 6.26: 38 degC waste water to the 65 degC loop
LOW_KW, HIGH_KW = 800.0, 1500.0


def _site() -> Any:
    raw = yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))
    pumps = raw["assets"]["heat_pumps"]
    pumps[0]["source"] = "hp_dyeing_low"
    pumps.append(
        {
            "name": "hp_dyeing_low",
            "bus": "f1_dyeing",
            "electric_kw": LOW_KW,
            "sink_temperature_degc": 65,
            "source": "warm_waste_water",
            "supplies": "dyeing_hot_water",
            "carnot_quality": 0.5,
        }
    )
    return load_site_mapping(raw, source="test")


SITE = _site()
_FRAME = load_history(SITE).frame
ROW = _FRAME.iloc[
    int(_FRAME.index.searchsorted(pd.Timestamp("2016-01-12 11:00", tz="Asia/Shanghai")))
]


def _step(demand_kw_th: float, setpoint: dict[str, float]) -> Any:
    truth = {str(k): float(v) for k, v in ROW.items()}
    truth[columns.heat_demand_kw_th("dyeing_hot_water")] = demand_kw_th
    truth[columns.heat_demand_kw_th("washing_water")] = 0.0  # the stream to the cascade alone
    truth[columns.waste_heat_kw_th("warm_waste_water")] = 5000.0
    return Plant(SITE).step(PlantState.initial(SITE), setpoint, truth)


def _assert_conserved(actual: dict[str, float]) -> None:
    high, low = (
        actual[columns.heat_pump_kw("hp_dyeing")],
        actual[columns.heat_pump_kw("hp_dyeing_low")],
    )
    to_stage = actual[pc.heat_pump_to_stage_kw_th("hp_dyeing_low")]
    stream = actual[pc.waste_heat_to_heat_pump_kw_th("warm_waste_water")]
    delivered = actual[pc.heat_pump_heat_kw_th("hp_dyeing")]
    assert to_stage == pytest.approx(COP_LOW * low, abs=POWER_TOL_KW)
    assert to_stage == pytest.approx(delivered - high, abs=POWER_TOL_KW)  # the loop holds none
    assert stream == pytest.approx(to_stage - low, abs=POWER_TOL_KW)
    assert delivered == pytest.approx(high + low + stream, abs=POWER_TOL_KW)
    assert actual[pc.heat_pump_heat_kw_th("hp_dyeing_low")] == 0.0


def test_the_cascade_follows_setpoints_that_agree() -> None:
    high = 300.0
    low = high * (COP_HIGH - 1) / COP_LOW  # the plan's split
    heat = high * COP_HIGH
    result = _step(
        heat,
        {columns.heat_pump_kw("hp_dyeing"): high, columns.heat_pump_kw("hp_dyeing_low"): low},
    )
    actual = result.actual
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(high, abs=POWER_TOL_KW)
    assert actual[columns.heat_pump_kw("hp_dyeing_low")] == pytest.approx(low, abs=POWER_TOL_KW)
    assert actual[pc.heat_pump_heat_kw_th("hp_dyeing")] == pytest.approx(heat, abs=POWER_TOL_KW)
    assert actual[pc.heat_unmet_kw_th("dyeing_hot_water")] == pytest.approx(0.0, abs=1e-6)
    assert actual[pc.boiler_heat_kw_th("gas_boiler")] == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert not result.not_followed
    _assert_conserved(actual)


def test_the_upper_stage_takes_at_most_what_the_lower_stage_gives() -> None:
    # the lower stage set to 50 kW gives the loop 50 x 6.26 = 313 kW_th; the upper stage,
    # set to 300 kW, could take 300 x 5.14 = 1541 kW_th from it but runs at what the loop
    # gives: 313 / 5.14 = 61 kW, delivering 313 x 6.14 / 5.14 kW_th; the boiler its plan
    low = 50.0
    loop = low * COP_LOW
    high = loop / (COP_HIGH - 1)
    boiler = 1000.0
    result = _step(
        high * COP_HIGH + boiler,
        {
            columns.heat_pump_kw("hp_dyeing"): 300.0,
            columns.heat_pump_kw("hp_dyeing_low"): low,
            pc.boiler_heat_kw_th("gas_boiler"): boiler,
        },
    )
    actual = result.actual
    assert actual[columns.heat_pump_kw("hp_dyeing_low")] == pytest.approx(low, abs=POWER_TOL_KW)
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(high, abs=POWER_TOL_KW)
    assert actual[pc.boiler_heat_kw_th("gas_boiler")] == pytest.approx(boiler, abs=POWER_TOL_KW)
    assert actual[pc.heat_unmet_kw_th("dyeing_hot_water")] == pytest.approx(0.0, abs=1e-6)
    _assert_conserved(actual)


def test_a_demand_beyond_the_plan_runs_the_cascade_up_to_its_smaller_stage() -> None:
    # more steam than planned: the cascade runs up to what its stages' ratings allow; the
    # 800 kW lower stage limits it (800 x 6.26 x 6.14 / 5.14 = 5984 kW_th, where the upper
    # stage would allow 1500 x 6.14 = 9204), the boiler backs up the rest
    demand = 8000.0
    result = _step(demand, {})
    actual = result.actual
    most = LOW_KW * COP_LOW * COP_HIGH / (COP_HIGH - 1)
    assert actual[columns.heat_pump_kw("hp_dyeing_low")] == pytest.approx(LOW_KW, abs=POWER_TOL_KW)
    assert actual[pc.heat_pump_heat_kw_th("hp_dyeing")] == pytest.approx(most, abs=1e-6)
    assert actual[columns.heat_pump_kw("hp_dyeing")] == pytest.approx(most / COP_HIGH)
    assert actual[pc.boiler_heat_kw_th("gas_boiler")] == pytest.approx(demand - most, abs=1e-6)
    assert result.boiler_backup_kwh_th == pytest.approx((demand - most) * 0.25)
    _assert_conserved(actual)


def test_the_demand_limiter_sheds_a_cascade_as_one_pump() -> None:
    # an import ceiling the batteries cannot hold: the cascade's input goes down (both
    # stages in proportion), the gas boiler takes its heat
    high = 300.0
    low = high * (COP_HIGH - 1) / COP_LOW
    setpoint = {
        columns.heat_pump_kw("hp_dyeing"): high,
        columns.heat_pump_kw("hp_dyeing_low"): low,
    }
    free = _step(high * COP_HIGH, setpoint).actual[pc.GRID_IMPORT_KW]
    shed_kw = 100.0
    setpoint[pc.GRID_IMPORT_CEILING_KW] = free - shed_kw
    setpoint[columns.battery_charge_kw("bess")] = 0.0
    truth_state = PlantState.initial(SITE)
    truth_state.battery_soc_kwh = {b.name: b.soc_min_kwh for b in SITE.assets.batteries}
    truth = {str(k): float(v) for k, v in ROW.items()}
    truth[columns.heat_demand_kw_th("dyeing_hot_water")] = high * COP_HIGH
    truth[columns.heat_demand_kw_th("washing_water")] = 0.0
    truth[columns.waste_heat_kw_th("warm_waste_water")] = 5000.0
    result = Plant(SITE).step(truth_state, setpoint, truth)
    actual = result.actual
    assert result.heat_pump_shed_kwh == pytest.approx(shed_kw * 0.25, abs=1e-6)
    left = high + low - shed_kw
    assert actual[columns.heat_pump_kw("hp_dyeing")] + actual[
        columns.heat_pump_kw("hp_dyeing_low")
    ] == pytest.approx(left, abs=POWER_TOL_KW)
    ratio = (
        actual[columns.heat_pump_kw("hp_dyeing_low")] / actual[columns.heat_pump_kw("hp_dyeing")]
    )
    assert ratio == pytest.approx((COP_HIGH - 1) / COP_LOW)
    _assert_conserved(actual)
