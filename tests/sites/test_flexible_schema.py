"""Flexible process loads in a site file: they load, and every bad value is reported with
the field, the value and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sites import SiteConfigError, bundled_site_paths, load_site_mapping


def _raw(batch: dict[str, Any] | None = None, **families: list[dict[str, Any]]) -> dict:
    raw = yaml.safe_load(bundled_site_paths()["gaotang-textile"].read_text(encoding="utf-8"))
    melt = {
        "name": "dye_batch",
        "bus": "f1_dyeing",
        "energy_kwh": 6000,
        "max_kw": 1500,
        "min_kw": 500,
        "window_start_hour": 6,
        "window_end_hour": 22,
    }
    melt.update(batch or {})
    raw["assets"]["batch_loads"] = [melt]
    raw["assets"].update(families)
    return raw


def _problems(raw: dict) -> dict[str, Any]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml")
    return {p.field: p for p in info.value.problems}


CURTAIL = {"name": "pause", "load": "spinning_weaving", "max_fraction": 0.2, "cost_cny_per_kwh": 1}
SHIFT = {
    "name": "rinse",
    "load": "dyeing_machines",
    "max_fraction": 0.3,
    "max_shift_h": 3,
    "max_extra_kw": 1000,
}


def test_flexible_loads_load_with_their_limits() -> None:
    site = load_site_mapping(
        _raw(curtailable_loads=[CURTAIL], shiftable_loads=[SHIFT]), source="park.yaml"
    )
    (batch,) = site.assets.batch_loads
    assert batch.window_hours == 16.0 and batch.needs_commitment
    assert site.assets.shiftable_loads[0].shift_steps == 12
    assert site.assets.curtailable_loads[0].load == "spinning_weaving"


def test_a_batch_without_minimum_draw_needs_no_commitment() -> None:
    site = load_site_mapping(_raw({"min_kw": 0}), source="park.yaml")
    assert not site.assets.batch_loads[0].needs_commitment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"energy_kwh": 30000}, "energy_kwh=30000.0 does not fit its window"),
        ({"window_start_hour": 22, "window_end_hour": 6}, "must be before window_end_hour"),
        ({"window_start_hour": 6.1}, "window_start_hour=6.1 must be a whole number of 15-minute"),
        ({"min_kw": 2000}, "min_kw=2000.0 must be at most max_kw=1500.0"),
    ],
)
def test_a_batch_that_cannot_run_is_refused(changes: dict[str, Any], message: str) -> None:
    problems = _problems(_raw(changes))
    assert message in problems["assets.batch_loads[0]"].rule


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("energy_kwh", 0, "greater than 0"),
        ("max_kw", -1, "greater than 0"),
        ("window_end_hour", 25, "less than or equal to 24"),
    ],
)
def test_a_bad_batch_value_names_field_value_and_rule(
    field: str, value: Any, accepted: str
) -> None:
    problems = _problems(_raw({field: value}))
    problem = problems[f"assets.batch_loads[0].{field}"]
    assert problem.value == value and accepted in problem.rule


def test_a_batch_on_an_unknown_bus_is_reported() -> None:
    problem = _problems(_raw({"bus": "nowhere"}))["assets.batch_loads[0].bus"]
    assert problem.value == "nowhere" and "f1_dyeing" in problem.rule


def test_a_share_of_an_unknown_load_is_reported() -> None:
    problems = _problems(_raw(curtailable_loads=[{**CURTAIL, "load": "smelter"}]))
    problem = problems["assets.curtailable_loads[0].load"]
    assert problem.value == "smelter" and "must name an electric load" in problem.rule
    assert "spinning_weaving" in problem.rule


def test_shares_of_one_load_above_all_of_it_are_refused() -> None:
    shift = {**SHIFT, "load": "spinning_weaving", "max_fraction": 0.9}
    problems = _problems(_raw(curtailable_loads=[CURTAIL], shiftable_loads=[shift]))
    problem = problems["assets.shiftable_loads[0].max_fraction"]
    assert problem.value == 0.9 and "add up to 1.1" in problem.rule


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("max_fraction", 1.5, "less than or equal to 1"),
        ("max_shift_h", 0, "greater than 0"),
        ("max_shift_h", 1.1, "max_shift_h=1.1 must be a whole number of 15-minute"),
        ("max_extra_kw", 0, "greater than 0"),
    ],
)
def test_a_bad_shift_names_field_value_and_rule(field: str, value: Any, accepted: str) -> None:
    problems = _problems(_raw(shiftable_loads=[{**SHIFT, field: value}]))
    where = f"assets.shiftable_loads[0].{field}"
    problem = problems.get(where) or problems["assets.shiftable_loads[0]"]
    assert accepted in problem.rule
