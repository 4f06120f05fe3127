"""Device maps: the bundled examples load and cover their parks; bad maps name field and rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.service.field.devicemap import (
    Direction,
    FieldMapError,
    bundled_map_path,
    field_map_from_mapping,
    load_field_map,
    setpoint_units,
)
from controller.service.validation import series_bounds
from sites import bundled_site_paths, load_bundled_site

PARK = "gaotang-textile"


def _raw(site_id: str = PARK) -> dict[str, Any]:
    loaded = yaml.safe_load(bundled_map_path(site_id).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("site_id", list(bundled_site_paths()))
def test_every_bundled_park_has_a_complete_map(site_id: str) -> None:
    site = load_bundled_site(site_id)
    field_map = load_field_map(bundled_map_path(site_id), site)
    read = {p.series for d in field_map.devices for p in d.points if p.direction is Direction.READ}
    written = {
        p.setpoint for d in field_map.devices for p in d.points if p.direction is Direction.WRITE
    }
    assert read == set(series_bounds(site))  # every measured series comes from a device
    assert written == set(setpoint_units(site))  # every setpoint reaches a device
    assert {d.modbus is not None for d in field_map.devices} == {True, False}  # both protocols


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(FieldMapError) as caught:
        field_map_from_mapping(raw, load_bundled_site(PARK), "map.yaml")
    assert str(caught.value).startswith(f"{len(caught.value.problems)} problem(s) in device map")
    return [str(p) for p in caught.value.problems]


def test_unknown_fields_list_what_is_accepted() -> None:
    raw = _raw()
    raw["devices"][0]["points"][0]["registr"] = 5
    (problem,) = _problems(raw)
    assert problem.startswith("map.yaml: devices[0].points[0].registr: got 5: unknown field")
    assert "address" in problem and "data_type" in problem


def test_every_problem_is_reported_with_field_value_and_rule() -> None:
    raw = _raw()
    bess = raw["devices"][1]
    bess["points"][0]["series"] = "battery_nope_soc_kwh"
    bess["points"][1]["unit"] = "MW"
    bess["points"][2]["address"] = 101  # overlaps the float32 at 100..101
    bess["asset"] = "pv_weaving"
    raw["devices"][2]["name"] = "bess_pcs"
    raw["site"] = "chiping-aluminium"
    problems = _problems(raw)
    expected = [
        "map.yaml: site: got 'chiping-aluminium': must be the site's id 'gaotang-textile'",
        "map.yaml: devices[1].asset: got 'pv_weaving': a battery_pcs must name one of ['bess']",
        "map.yaml: devices[1].points[0].series: got 'battery_nope_soc_kwh': must be one of",
        "map.yaml: devices[1].points[1].unit: got 'MW': must be 'kW', the unit of the setpoint",
        "map.yaml: devices[1].points[2].address: got 101: register 101 is already used by "
        "'charge_kw'",
        "map.yaml: devices[2].name: got 'bess_pcs': must differ from every other device's name",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in problems), (want, problems)
    assert len(problems) == len(expected)


def test_write_points_need_limits_and_a_known_setpoint() -> None:
    raw = _raw()
    point = raw["devices"][1]["points"][1]
    del point["max"]
    point["setpoint"] = "battery_bess_charge_mw"
    problems = _problems(raw)
    assert any(
        "points[1].min/max: got (0.0, None): a write point needs both limits" in p for p in problems
    )
    assert any(
        "points[1].setpoint: got 'battery_bess_charge_mw': must be one of" in p for p in problems
    )


def test_a_device_needs_exactly_one_protocol(tmp_path: Path) -> None:
    raw = _raw()
    raw["devices"][0]["mqtt"] = {"topic_prefix": "parks/x/meter"}
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(
        FieldMapError, match=r"devices\[0\]: got 'pcc_meter': must have exactly one"
    ):
        load_field_map(path, load_bundled_site(PARK))


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    site = load_bundled_site(PARK)
    with pytest.raises(FieldMapError, match="must be a readable file"):
        load_field_map(tmp_path / "missing.yaml", site)
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: [\n", encoding="utf-8")
    with pytest.raises(FieldMapError, match="must be valid YAML"):
        load_field_map(bad, site)
