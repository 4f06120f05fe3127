"""Gas CHP in a site file: it loads with its ratings, and every bad value is reported with
the field, the value and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sites import SiteConfigError, bundled_site_paths, load_site_mapping
from sites.schema import GeneratorFuel, GeneratorKind


def _raw_with_chp(**changes: Any) -> dict:
    raw = yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))
    chp = {
        "name": "gas_engine",
        "bus": "f3_utilities",
        "supplies": "dyeing_hot_water",
        "rated_electric_kw": 2000,
        "electric_efficiency": 0.40,
        "heat_efficiency": 0.45,
        "min_stable_fraction": 0.5,
        "ramp_kw_per_h": 4000,
        "start_cost_cny": 300,
        "fuel_price_cny_per_kwh": 0.30,
        "emission_factor_kg_per_kwh_fuel": 0.2,
    }
    chp.update(changes)
    raw["assets"]["chp"] = [chp]
    return raw


def _problems(raw: dict) -> dict[str, Any]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml")
    return {p.field: p for p in info.value.problems}


def test_a_chp_loads_with_its_ratings() -> None:
    site = load_site_mapping(_raw_with_chp(), source="park.yaml")
    (chp,) = site.assets.chp
    assert chp.rated_electric_kw == 2000 and chp.supplies == "dyeing_hot_water"
    assert chp.needs_commitment  # a minimum load and a start cost: on/off matters
    assert chp.heat_per_electric == pytest.approx(0.45 / 0.40)


def test_a_chp_without_minimum_load_or_start_cost_needs_no_commitment() -> None:
    site = load_site_mapping(
        _raw_with_chp(min_stable_fraction=0, start_cost_cny=0), source="park.yaml"
    )
    assert not site.assets.chp[0].needs_commitment


def test_a_start_cost_without_minimum_load_is_refused() -> None:
    problems = _problems(_raw_with_chp(min_stable_fraction=0))
    rule = problems["assets.chp[0]"].rule
    assert "start_cost_cny=300.0 needs min_stable_fraction above 0" in rule


def test_a_ramp_too_slow_to_reach_the_minimum_load_is_refused() -> None:
    problems = _problems(_raw_with_chp(ramp_kw_per_h=3000))  # 750 kW per 15 min < 1000 kW
    rule = problems["assets.chp[0]"].rule
    assert "ramp_kw_per_h=3000.0 must reach the minimum stable load (1000 kW)" in rule


def test_unknown_bus_and_heat_demand_are_reported() -> None:
    problems = _problems(_raw_with_chp(bus="nowhere", supplies="steam_x"))
    bus = problems["assets.chp[0].bus"]
    assert bus.value == "nowhere" and "f3_utilities" in bus.rule
    demand = problems["assets.chp[0].supplies"]
    assert demand.value == "steam_x" and "dyeing_hot_water" in demand.rule


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("rated_electric_kw", 0, "greater than 0"),
        ("electric_efficiency", 1.2, "less than 1"),
        ("heat_efficiency", -0.1, "greater than or equal to 0"),
        ("min_stable_fraction", 1.0, "less than 1"),
        ("ramp_kw_per_h", 0, "greater than 0"),
        ("start_cost_cny", -5, "greater than or equal to 0"),
        ("fuel_price_cny_per_kwh", -0.3, "greater than or equal to 0"),
        ("emission_factor_kg_per_kwh_fuel", "lots", "number"),
    ],
)
def test_a_bad_value_names_field_value_and_rule(field: str, value: Any, accepted: str) -> None:
    problems = _problems(_raw_with_chp(**{field: value}))
    problem = problems[f"assets.chp[0].{field}"]
    assert problem.value == value and accepted in problem.rule
    assert len(problems) == 1


def test_efficiencies_above_the_fuel_are_refused() -> None:
    problems = _problems(_raw_with_chp(electric_efficiency=0.5, heat_efficiency=0.6))
    rule = problems["assets.chp[0]"].rule
    assert "electric_efficiency=0.5 + heat_efficiency=0.6" in rule and "at most 1" in rule


def test_an_unknown_chp_field_lists_the_accepted_ones() -> None:
    problems = _problems(_raw_with_chp(colour="green"))
    rule = problems["assets.chp[0].colour"].rule
    assert "unknown field" in rule and "min_stable_fraction" in rule


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"kind": "diesel"}, "fuel=gas does not fire a diesel: give one of diesel"),
        ({"kind": "fuel_cell", "fuel": "diesel"}, "give one of gas, hydrogen"),
        ({"supplies": None}, "heat_efficiency=0.45 and supplies=None"),
        ({"heat_efficiency": 0.0}, "heat_efficiency=0.0 and supplies='dyeing_hot_water'"),
    ],
)
def test_kind_fuel_and_heat_must_agree(fields: dict[str, Any], rule: str) -> None:
    problems = _problems(_raw_with_chp(**fields))
    assert rule in problems["assets.chp[0]"].rule


def test_fuel_cells_and_diesel_sets_are_generators_without_heat() -> None:
    raw = _raw_with_chp(
        kind="fuel_cell", fuel="hydrogen", supplies=None, heat_efficiency=0.0,
        emission_factor_kg_per_kwh_fuel=0.0,
    )  # fmt: skip
    chp = load_site_mapping(raw, source="test").assets.chp[0]
    assert chp.kind is GeneratorKind.FUEL_CELL and chp.fuel is GeneratorFuel.HYDROGEN
    assert chp.supplies is None and chp.heat_per_electric == 0.0
    diesel = _raw_with_chp(
        kind="diesel", fuel="diesel", supplies=None, heat_efficiency=0.0, min_stable_fraction=0.3
    )
    assert load_site_mapping(diesel, source="test").assets.chp[0].kind is GeneratorKind.DIESEL
