"""A pandapower network file that cannot be used is a problem of the site file, with file,
field, value and rule: never a traceback, and never hiding the site's other problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from own_park import NETWORK_FILE, SITE_ID, site_mapping, write_network
from typer.testing import CliRunner

from controller.cli.main import app
from sites import ConfigProblem, SiteConfigError, load_site_mapping

USAGE_ERROR = 2


def problems(raw: dict, folder: Path) -> list[ConfigProblem]:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml", base_dir=folder)
    return info.value.problems


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / NETWORK_FILE).write_text("bus,vn_kv\nhv,35\n", encoding="utf-8")
    (problem,) = problems(site_mapping(), tmp_path)
    assert problem.field == "network.pandapower_file" and problem.value == NETWORK_FILE
    assert problem.rule.startswith("must be a pandapower JSON network: the file is not JSON")


def test_json_that_is_not_a_pandapower_network(tmp_path: Path) -> None:
    (tmp_path / NETWORK_FILE).write_text(json.dumps({"bus": [1, 2]}), encoding="utf-8")
    (problem,) = problems(site_mapping(), tmp_path)
    assert problem.field == "network.pandapower_file"
    assert "the file is JSON (dict) but not a pandapower network" in problem.rule


def test_a_bad_bus_map_entry_is_named_and_hides_nothing_else(tmp_path: Path) -> None:
    write_network(tmp_path / NETWORK_FILE)  # buses 0..3
    raw = site_mapping()
    raw["network"]["bus_map"] = {"f2_depot": 9}
    raw["assets"]["batteries"][0]["soc_min_fraction"] = 0.99  # a problem of its own
    found = {p.field: p for p in problems(raw, tmp_path)}
    bad = found["network.bus_map.f2_depot"]
    assert bad.value == 9
    assert bad.rule == "must be a bus index of the pandapower file: one of 0, 1, 2, 3"
    assert "assets.batteries[0]" in found  # still reported


def test_validate_reports_it_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / NETWORK_FILE).write_text("[1, 2, 3]", encoding="utf-8")
    site = tmp_path / f"{SITE_ID}.yaml"
    site.write_text(yaml.safe_dump(site_mapping()), encoding="utf-8")
    result = CliRunner().invoke(app, ["sites", "validate", str(site)])
    assert result.exit_code == USAGE_ERROR and "Traceback" not in result.output
    assert (
        f"{site}: network.pandapower_file: got '{NETWORK_FILE}': must be a pandapower JSON "
        "network: the file is JSON (list) but not a pandapower network" in result.stderr
    )


def test_elements_the_site_leaves_out_are_listed_as_warnings(tmp_path: Path) -> None:
    import pandapower as pp

    write_network(tmp_path / NETWORK_FILE)
    net = pp.from_json(str(tmp_path / NETWORK_FILE))
    pp.create_load(net, 2, p_mw=1.2, name="old cold store")
    pp.create_load(net, 3, p_mw=0.3, name="old depot")
    pp.create_sgen(net, 2, p_mw=0.8, name="old roof pv")
    pp.create_ext_grid(net, 3, vm_pu=1.0, name="old depot feed")  # the one at hv_35 is kept
    pp.to_json(net, str(tmp_path / NETWORK_FILE))
    site = tmp_path / f"{SITE_ID}.yaml"
    site.write_text(yaml.safe_dump(site_mapping()), encoding="utf-8")
    path = (tmp_path / NETWORK_FILE).resolve()
    for command in (["sites", "validate"], ["network", "check"]):
        result = CliRunner().invoke(app, [*command, str(site)])
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
        assert warnings == [
            f"warning: {path}: 2 load(s) (1.500 MW; old cold store, old depot) left out: only "
            "the site's assets are planned",
            f"warning: {path}: 1 static generator(s) (0.800 MW; old roof pv) left out: only "
            "the site's assets are planned",
            f"warning: {path}: 1 external grid(s) away from the connection point left out: "
            "the site's connection point is the only one (grid_connection.pcc_bus = hv_35)",
        ], command


def test_pandapowers_usual_bus_names_work_without_a_bus_map(tmp_path: Path) -> None:
    """``Bus 0`` .. ``Bus 3`` in the file are ``bus_0`` .. ``bus_3`` in the site."""
    import pandapower as pp

    from network_models.build import build_network

    write_network(tmp_path / NETWORK_FILE)
    net = pp.from_json(str(tmp_path / NETWORK_FILE))
    net.bus["name"] = [f"Bus {i}" for i in net.bus.index]
    pp.to_json(net, str(tmp_path / NETWORK_FILE))
    raw = site_mapping()
    renamed = {"hv_35": "bus_0", "f1_cold_store": "bus_2", "f2_depot": "bus_3"}
    raw["grid_connection"]["pcc_bus"] = renamed["hv_35"]
    for family in ("pv", "batteries", "electric_loads"):
        for asset in raw["assets"][family]:
            asset["bus"] = renamed[asset["bus"]]
    site = load_site_mapping(raw, source="park.yaml", base_dir=tmp_path)
    built = build_network(site)
    assert built.bus_index == {"bus_0": 0, "bus_1": 1, "bus_2": 2, "bus_3": 3}
    raw["assets"]["batteries"][0]["bus"] = "bus_9"
    (problem,) = problems(raw, tmp_path)
    assert problem.field == "assets.batteries[0].bus" and problem.value == "bus_9"
