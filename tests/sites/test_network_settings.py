"""The grid's set-point, transformer taps and per-level voltage limits in a site file: bad
values are reported with field, value and what is accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandapower as pp
import pytest
import yaml
from own_park import NETWORK_FILE, site_mapping, write_network
from typer.testing import CliRunner

from controller.cli.main import app
from sites import ConfigProblem, SiteConfigError, load_bundled_site, load_site_mapping

USAGE_ERROR = 2
GB_T_12325 = [  # 35 kV and above: deviations summing to 10 %; 10 kV +-7 %; 0.4 kV +7/-10 %
    {"vn_kv_min": 35, "vm_min_pu": 0.97, "vm_max_pu": 1.07},
    {"vn_kv_min": 1, "vn_kv_max": 35, "vm_min_pu": 0.93, "vm_max_pu": 1.07},
    {"vn_kv": 0.4, "vm_min_pu": 0.90, "vm_max_pu": 1.07},
]


def bundled_raw(site_id: str = "chiping-aluminium") -> dict[str, Any]:
    return load_bundled_site(site_id).model_dump(mode="json", exclude_defaults=True)


def problems(raw: dict[str, Any], folder: Path | None = None) -> dict[str, ConfigProblem]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml", base_dir=folder)
    return {p.field: p for p in info.value.problems}


def test_a_set_point_outside_the_range_is_refused() -> None:
    raw = bundled_raw()
    raw["grid_connection"]["voltage_setpoint_pu"] = 1.2
    (problem,) = problems(raw).values()
    assert problem.field == "grid_connection.voltage_setpoint_pu" and problem.value == 1.2
    assert problem.rule.endswith("must be a voltage set-point from 0.9 to 1.1 pu")


def test_tap_settings_are_checked() -> None:
    raw = bundled_raw()
    raw["network"]["transformers"][0]["tap_step_percent"] = 1.5
    (problem,) = problems(raw).values()
    assert problem.field == "network.transformers[0]"
    assert "tap_step_percent: a standard type brings its own tap changer" in problem.rule
    raw = bundled_raw()
    explicit = {
        "name": "t1",
        "hv_bus": "hv_110",
        "lv_bus": "mv_a",
        "sn_mva": 63,
        "vn_hv_kv": 110,
        "vn_lv_kv": 10.5,
        "vk_percent": 18,
        "vkr_percent": 0.32,
        "tap_pos": 2,
    }
    raw["network"]["transformers"][0] = explicit
    (problem,) = problems(raw).values()
    assert "tap_pos=2 needs a tap changer" in problem.rule
    explicit |= {"tap_side": "hv", "tap_neutral": 0, "tap_min": -2, "tap_max": 2}
    (problem,) = problems(raw).values()
    assert (
        "a tap changer needs all of" in problem.rule and "missing tap_step_percent" in problem.rule
    )
    explicit |= {"tap_step_percent": 2.5, "tap_pos": 5}
    (problem,) = problems(raw).values()
    assert "tap_pos=5 must lie in tap_min..tap_max = -2..2" in problem.rule
    explicit["tap_pos"] = -2
    assert load_site_mapping(raw).network.transformers[0].tap_pos == -2


def test_transformer_taps_name_a_file_transformer_and_one_of_its_positions(
    tmp_path: Path,
) -> None:
    write_network(tmp_path / NETWORK_FILE)
    net = pp.from_json(str(tmp_path / NETWORK_FILE))
    net.trafo["tap_min"], net.trafo["tap_max"] = -4.0, 4.0
    net.trafo["tap_neutral"], net.trafo["tap_pos"], net.trafo["tap_step_percent"] = 0.0, 0.0, 2.5
    net.trafo["name"] = "Main T"
    pp.to_json(net, str(tmp_path / NETWORK_FILE))
    raw = site_mapping()
    raw["network"]["transformer_taps"] = {"t9": 1, "main_t": 7}
    found = problems(raw, tmp_path)
    assert found["network.transformer_taps.t9"].value == 1
    assert found["network.transformer_taps.t9"].rule == (
        "must name a transformer of the pandapower file (main_t)"
    )
    assert found["network.transformer_taps.main_t"].value == 7
    assert found["network.transformer_taps.main_t"].rule == (
        "must be a tap position of 'main_t': an integer -4..4"
    )
    raw["network"]["transformer_taps"] = {"main_t": 3}
    assert load_site_mapping(raw, base_dir=tmp_path).network.transformer_taps == {"main_t": 3}


def test_transformer_taps_need_a_file() -> None:
    raw = bundled_raw()
    raw["network"]["transformer_taps"] = {"t1": 1}
    (problem,) = problems(raw).values()
    assert problem.field == "network"
    assert "transformer_taps applies only with pandapower_file" in problem.rule


def test_voltage_levels_that_overlap_are_refused() -> None:
    raw = bundled_raw()
    raw["network"]["limits"] = {
        "voltage_levels": [
            {"vn_kv_min": 35, "vm_min_pu": 0.97, "vm_max_pu": 1.07},
            {"vn_kv_min": 1, "vn_kv_max": 110.5, "vm_min_pu": 0.93, "vm_max_pu": 1.07},
        ]
    }
    (problem,) = problems(raw).values()
    assert problem.field == "network.limits.voltage_levels"
    assert "levels [0] (35 <= vn_kv) and [1] (1 <= vn_kv < 110.5) overlap" in problem.rule


def test_a_bus_no_level_covers_is_named() -> None:
    raw = bundled_raw()  # buses at 110 kV and 10 kV
    raw["network"]["limits"] = {"voltage_levels": GB_T_12325[:1] + GB_T_12325[2:]}
    found = problems(raw)
    problem = found["network.limits.voltage_levels"]
    assert problem.value.endswith("at 10 kV")
    assert problem.rule == (
        "every bus's nominal voltage must fall in one level; the levels given cover "
        "35 <= vn_kv; vn_kv = 0.4"
    )


def test_a_level_needs_a_voltage_or_a_range() -> None:
    raw = bundled_raw()
    raw["network"]["limits"] = {"voltage_levels": [{"vm_min_pu": 0.9, "vm_max_pu": 1.1}]}
    (problem,) = problems(raw).values()
    assert problem.field == "network.limits.voltage_levels[0]"
    assert "give vn_kv (one level) or vn_kv_min and/or vn_kv_max" in problem.rule


def test_each_bus_gets_its_levels_limits() -> None:
    raw = bundled_raw()
    raw["network"]["limits"] = {"voltage_levels": GB_T_12325}
    limits = load_site_mapping(raw).network.limits
    assert limits.for_voltage(110) == (0.97, 1.07)
    assert limits.for_voltage(10) == (0.93, 1.07)
    assert limits.for_voltage(0.4) == (0.90, 1.07)


def test_validate_reports_levels_and_taps_on_the_command_line(tmp_path: Path) -> None:
    raw = bundled_raw()
    raw["network"]["limits"] = {"voltage_levels": GB_T_12325[:1]}
    raw["network"]["transformers"][1]["tap_pos"] = -10
    site = tmp_path / "park.yaml"
    site.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(app, ["sites", "validate", str(site)])
    assert result.exit_code == USAGE_ERROR and "Traceback" not in result.output
    assert (
        f"{site}: network.transformers[1].tap_pos: got -10: must be a tap position of "
        "standard type '63 MVA 110/10 kV': -9..9" in result.stderr
    )
    assert (
        f"{site}: network.limits.voltage_levels: got \"bus 'mv_a' at 10 kV\": every bus's "
        "nominal voltage must fall in one level; the levels given cover 35 <= vn_kv"
        in result.stderr
    )
