"""Heat at more than one temperature in a site file: a tank, a CHP unit or a boiler that
states its heat's temperature must reach its demand's; a heat pump may draw on another heat
pump (a cascade) under the rules of one. Each error names the field, the value and what is
accepted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from controller.inputs.cop import KELVIN, site_heat_pump_cops
from controller.inputs.layout import Layout
from sites import SiteConfigError, bundled_site_paths, load_site_mapping

# gaotang-textile: dyeing_hot_water at 90 degC (hp_dyeing 95 degC on warm_waste_water at
# 38 degC, the hot_water_tank at 95 degC, the gas_boiler), washing_water at 60 degC


def _raw() -> dict[str, Any]:
    return yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))


def _problems(raw: dict) -> dict[str, Any]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml")
    return {p.field: p for p in info.value.problems}


def _with_low_stage(**changes: Any) -> dict[str, Any]:
    """hp_dyeing made the upper stage of a cascade on hp_dyeing_low (38 -> 65 degC)."""
    raw = _raw()
    pumps = raw["assets"]["heat_pumps"]
    pumps[0]["source"] = "hp_dyeing_low"
    low = {
        "name": "hp_dyeing_low",
        "bus": "f1_dyeing",
        "electric_kw": 800,
        "sink_temperature_degc": 65,
        "source": "warm_waste_water",
        "supplies": "dyeing_hot_water",
        "carnot_quality": 0.5,
    }
    low.update(changes)
    pumps.append(low)
    return raw


def test_a_tank_colder_than_its_demand_is_refused() -> None:
    raw = _raw()
    raw["assets"]["thermal_storage"][0]["temperature_degc"] = 85
    problem = _problems(raw)["assets.thermal_storage[0].temperature_degc"]
    assert problem.value == 85
    assert "must reach the 90 degC of heat demand 'dyeing_hot_water'" in problem.rule


@pytest.mark.parametrize(
    ("family", "field", "extra"),
    [
        (
            "chp",
            "heat_temperature_degc",
            {
                "name": "engine",
                "bus": "f3_utilities",
                "supplies": "dyeing_hot_water",
                "rated_electric_kw": 2000,
                "electric_efficiency": 0.40,
                "heat_efficiency": 0.45,
                "fuel_price_cny_per_kwh": 0.30,
                "emission_factor_kg_per_kwh_fuel": 0.2,
            },
        ),
        ("boilers", "supply_temperature_degc", None),
    ],
)
def test_a_chp_unit_or_boiler_colder_than_its_demand_is_refused(
    family: str, field: str, extra: dict[str, Any] | None
) -> None:
    raw = _raw()
    if extra is not None:
        raw["assets"][family] = [extra]
    raw["assets"][family][0][field] = 80
    problem = _problems(raw)[f"assets.{family}[0].{field}"]
    assert problem.value == 80
    assert "must reach the 90 degC of heat demand 'dyeing_hot_water'" in problem.rule
    raw["assets"][family][0][field] = 120  # hot enough: loads
    site = load_site_mapping(raw, source="park.yaml")
    assert getattr(getattr(site.assets, family)[0], field) == 120


def test_a_cascade_loads_and_its_upper_stage_lifts_from_the_lower_stages_sink() -> None:
    site = load_site_mapping(_with_low_stage(), source="park.yaml")
    layout = Layout(site)
    assert layout.cascade_pairs == ((2, 0),)  # (lower hp_dyeing_low, upper hp_dyeing)
    assert layout.lower_stages == frozenset({2})
    assert layout.heat_pump_units == ((0, 2), (1,))
    assert layout.heat_pump_source == (-1, 0, 0)  # the upper stage: no stream of its own
    cops = site_heat_pump_cops(site, np.array([0.0, 10.0]))
    assert cops[0] == pytest.approx(0.5 * (95 + KELVIN) / (95 - 65))  # from the 65 degC loop
    assert cops[2] == pytest.approx(0.5 * (65 + KELVIN) / (65 - 38))  # from the stream


def test_a_heat_pump_cannot_be_its_own_source() -> None:
    raw = _raw()
    raw["assets"]["heat_pumps"][0]["source"] = "hp_dyeing"
    problem = _problems(raw)["assets.heat_pumps[0].source"]
    assert problem.value == "hp_dyeing"
    assert "must not name the heat pump itself" in problem.rule


def test_an_unknown_source_lists_streams_and_heat_pumps() -> None:
    raw = _raw()
    raw["assets"]["heat_pumps"][0]["source"] = "river"
    rule = _problems(raw)["assets.heat_pumps[0].source"].rule
    assert "waste-heat stream (warm_waste_water)" in rule
    assert "another heat pump, the lower stage of a cascade (hp_washing)" in rule


def test_a_lower_stage_serves_its_upper_stages_demand() -> None:
    problem = _problems(_with_low_stage(supplies="washing_water"))["assets.heat_pumps[2].supplies"]
    assert problem.value == "washing_water"
    assert "must be 'dyeing_hot_water', the heat demand of its upper stage 'hp_dyeing'" in (
        problem.rule
    )


def test_a_lower_stage_must_be_colder_than_its_upper_stage() -> None:
    field = "assets.heat_pumps[2].sink_temperature_degc"
    problem = _problems(_with_low_stage(sink_temperature_degc=95))[field]
    assert problem.value == 95
    assert "must be below the 95 degC sink of its upper stage 'hp_dyeing'" in problem.rule


def test_a_lower_stage_need_not_reach_the_demand_but_must_be_above_its_source() -> None:
    # 65 degC is below the 90 degC demand: accepted for a lower stage (its upper stage
    # delivers); 35 degC is below its 38 degC stream: refused
    load_site_mapping(_with_low_stage(), source="park.yaml")
    problem = _problems(_with_low_stage(sink_temperature_degc=35))[
        "assets.heat_pumps[2].sink_temperature_degc"
    ]
    assert "must be above its source 'warm_waste_water' at 38 degC" in problem.rule


def test_a_lower_stage_feeds_one_upper_stage() -> None:
    raw = _with_low_stage()
    raw["assets"]["heat_pumps"][1]["source"] = "hp_dyeing_low"  # hp_washing too
    problem = _problems(raw)["assets.heat_pumps[2].name"]
    assert problem.value == "hp_dyeing_low"
    assert "feeds exactly one upper stage" in problem.rule
    assert "assets.heat_pumps[0], assets.heat_pumps[1]" in problem.rule


def test_heat_pumps_feeding_each_other_in_a_cycle_are_refused() -> None:
    raw = _with_low_stage(source="hp_dyeing")  # hp_dyeing <- hp_dyeing_low <- hp_dyeing
    problems = _problems(raw)
    rule = problems["assets.heat_pumps[0].source"].rule
    assert "must not feed each other in a cycle" in rule
    assert "hp_dyeing <- hp_dyeing_low <- hp_dyeing" in rule
