"""Hydrogen assets in a site file: they load with their curves, and every bad value is
reported with the field, the value and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sites import SiteConfigError, bundled_site_paths, load_site_mapping


def _raw(electrolyser: dict[str, Any] | None = None, **tank: Any) -> dict:
    raw = yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))
    unit = {"name": "pem", "bus": "f3_utilities", "tank": "h2", "rated_kw": 1000, "kwh_per_kg": 52}
    unit.update(electrolyser or {})
    raw["assets"]["electrolysers"] = [{k: v for k, v in unit.items() if v is not None}]
    raw["assets"]["hydrogen_tanks"] = [
        {"name": "h2", "capacity_kg": 500, "value_cny_per_kg": 25, "max_offtake_kg_per_h": 20}
        | tank
    ]
    raw["assets"]["hydrogen_fuel_cells"] = [
        {"name": "fc", "bus": "f3_utilities", "tank": "h2", "rated_kw": 300, "kwh_per_kg": 16}
    ]
    return raw


def _problems(raw: dict) -> dict[str, Any]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml")
    return {p.field: p for p in info.value.problems}


CURVE = [{"load_fraction": 0.2, "kwh_per_kg": 47}, {"load_fraction": 1.0, "kwh_per_kg": 53}]


def test_hydrogen_assets_load_and_the_curve_gives_the_hydrogen_made() -> None:
    raw = _raw({"kwh_per_kg": None, "efficiency_curve": CURVE, "min_load_fraction": 0.2})
    site = load_site_mapping(raw, source="park.yaml")
    (unit,) = site.assets.electrolysers
    assert unit.needs_commitment
    assert unit.hydrogen_kg_per_h(200.0) == pytest.approx(200.0 / 47)
    assert unit.hydrogen_kg_per_h(1000.0) == pytest.approx(1000.0 / 53)
    midway = (200.0 / 47 + 1000.0 / 53) / 2
    assert unit.hydrogen_kg_per_h(600.0) == pytest.approx(midway)
    assert site.assets.hydrogen_tanks[0].kept_over(1.0) == 1.0


def test_a_curve_making_hydrogen_faster_as_the_load_rises_is_refused() -> None:
    rising = [{"load_fraction": 0.5, "kwh_per_kg": 60}, {"load_fraction": 1.0, "kwh_per_kg": 50}]
    problems = _problems(_raw({"kwh_per_kg": None, "efficiency_curve": rising}))
    assert "hydrogen at a falling rate" in problems["assets.electrolysers[0]"].rule


def test_both_or_neither_efficiency_is_refused() -> None:
    problems = _problems(_raw({"efficiency_curve": CURVE}))
    assert (
        "exactly one of kwh_per_kg and efficiency_curve" in problems["assets.electrolysers[0]"].rule
    )


def test_a_curve_not_starting_at_the_minimum_load_is_refused() -> None:
    raw = _raw({"kwh_per_kg": None, "efficiency_curve": CURVE, "min_load_fraction": 0.3})
    rule = _problems(raw)["assets.electrolysers[0]"].rule
    assert "must start at min_load_fraction=0.3" in rule


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("kwh_per_kg", 30, "greater than 33.33"),  # below hydrogen's heating value
        ("rated_kw", 0, "greater than 0"),
        ("min_load_fraction", 1.0, "less than 1"),
    ],
)
def test_a_bad_electrolyser_value_names_field_value_and_rule(
    field: str, value: Any, accepted: str
) -> None:
    problem = _problems(_raw({field: value}))[f"assets.electrolysers[0].{field}"]
    assert problem.value == value and accepted in problem.rule


def test_a_tank_name_that_is_not_a_tank_is_reported() -> None:
    problem = _problems(_raw({"tank": "store"}))["assets.electrolysers[0].tank"]
    assert problem.value == "store" and "must name a hydrogen tank (h2)" in problem.rule


def test_a_bad_tank_value_names_field_value_and_rule() -> None:
    problem = _problems(_raw(standing_loss_fraction_per_hour=1.5))
    found = problem["assets.hydrogen_tanks[0].standing_loss_fraction_per_hour"]
    assert found.value == 1.5 and "less than 1" in found.rule
