"""AC reports of a park whose network is a pandapower file name its buses, lines and
transformers as the site names them, never by pandapower's indices or a missing name."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import yaml
from own_park import NETWORK_FILE, SITE_ID, site_mapping, write_network
from typer.testing import CliRunner

from controller.cli.main import app
from network_models.design import design_check
from sites import load_site_mapping

DEPOT_LINE_MAX_I_KA = 0.05  # 0.87 MVA at 10 kV: the depot's 1.5 MW and battery overload it


def write_unnamed_network(folder: Path) -> None:
    """The own park's file as a network tool writes it: unnamed lines and transformer, the
    depot bus under a name of the tool's, the main bus in pandapower's spelling."""
    write_network(folder / NETWORK_FILE)
    net = pp.from_json(str(folder / NETWORK_FILE))
    net.bus.loc[1, "name"] = "MV Main"
    net.bus.loc[3, "name"] = "Bus 3"
    net.line["name"] = None
    net.trafo["name"] = None
    net.line.loc[net.line["to_bus"] == 3, "max_i_ka"] = DEPOT_LINE_MAX_I_KA
    pp.to_json(net, str(folder / NETWORK_FILE))


def own_site_raw() -> dict:
    raw = site_mapping()
    raw["network"]["bus_map"] = {"f2_depot": 3}
    return raw


def test_violations_name_the_sites_buses_and_branches(tmp_path: Path) -> None:
    write_unnamed_network(tmp_path)
    site = load_site_mapping(own_site_raw(), base_dir=tmp_path)
    verification = design_check(site).verification
    assert list(verification.vm_pu.columns) == ["hv_35", "mv_main", "f1_cold_store", "f2_depot"]
    assert list(verification.line_loading_percent.columns) == [
        "mv_main_f1_cold_store",
        "mv_main_f2_depot",
    ]
    assert list(verification.trafo_loading_percent.columns) == ["hv_35_mv_main"]
    lines = verification.violations[verification.violations["quantity"] == "loading_percent"]
    assert set(lines["element"]) == {"line mv_main_f2_depot"}


def test_network_check_prints_the_sites_names(tmp_path: Path) -> None:
    write_unnamed_network(tmp_path)
    site_file = tmp_path / f"{SITE_ID}.yaml"
    site_file.write_text(yaml.safe_dump(own_site_raw()), encoding="utf-8")
    result = CliRunner().invoke(app, ["network", "check", str(site_file)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "line mv_main_f2_depot" in result.stdout
    assert "None" not in result.stdout and "Bus 3" not in result.stdout
