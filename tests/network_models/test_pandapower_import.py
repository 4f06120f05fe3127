"""A pandapower network with CHP and fuel cells among its static generators imports as a
site: every generator an asset at its bus with its rating, the site's network the same
static generators, and the park plans a day.

The network is pandapower's CIGRE medium-voltage benchmark with all its distributed energy
resources (PV, a wind turbine, a diesel CHP, fuel cells, batteries).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest
from typer.testing import CliRunner, Result

from controller.cli.main import app
from network_models.build import build_network, dropped_elements
from network_models.importer import site_from_pandapower
from sites import DataError, load_site
from sites.schema import GeneratorFuel, GeneratorKind
from sites.schema.base import as_name

USAGE_ERROR = 2
RATING_TOL_KW = 1e-6  # ratings are copied (MW x 1000, rounded to the W)


def microgrid(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def cigre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pp.pandapowerNet]:
    folder = tmp_path_factory.mktemp("cigre")
    net = pn.create_cigre_network_mv(with_der="all")
    path = folder / "cigre_mv.json"
    pp.to_json(net, str(path))
    return path, net


def test_chp_and_fuel_cells_become_generators_at_their_buses(cigre: tuple) -> None:
    path, net = cigre
    imported = site_from_pandapower(path, "cigre-mv")
    assert imported.left_out == ()
    chp = {x["name"]: x for x in imported.mapping["assets"]["chp"]}
    assert set(chp) == {
        "chp_diesel_1",
        "fuel_cell_1",
        "residential_fuel_cell_1",
        "residential_fuel_cell_2",
    }
    for _, row in net.sgen.iterrows():
        if "fuel cell" in row["type"].lower() or "chp" in row["type"].lower():
            unit = chp[as_name(row["name"])]
            assert unit["bus"] == as_name(net.bus.at[row["bus"], "name"])
            assert unit["rated_electric_kw"] == pytest.approx(row["sn_mva"] * 1000)
    assert chp["fuel_cell_1"]["kind"] == GeneratorKind.FUEL_CELL.value
    assert chp["chp_diesel_1"]["kind"] == GeneratorKind.DIESEL.value
    assert chp["chp_diesel_1"]["fuel"] == GeneratorFuel.DIESEL.value
    assert chp["chp_diesel_1"]["bus"] == "bus_9" and chp["chp_diesel_1"]["rated_electric_kw"] == 310


def test_the_imported_site_validates_and_its_network_has_the_files_generators(
    cigre: tuple,
) -> None:
    path, net = cigre
    out = path.parent / "site" / "cigre.yaml"
    result = microgrid("network", "import", str(path), "--id", "cigre-mv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 dispatchable generators" in result.stdout and "8 PV, 1 wind" in result.stdout
    assert "assumed: chp:" in result.stdout  # every assumed figure is said
    site = load_site(out)
    assert site.network.pandapower_file is not None
    assert dropped_elements(site) == ()  # nothing of the file is left out any more
    validated = microgrid("sites", "validate", str(out))
    assert validated.exit_code == 0 and "warning" not in validated.stdout
    shown = microgrid("sites", "show", str(out)).stdout
    assert "fuel cell" in shown and "310 kW, diesel" in shown
    built = build_network(site).net.sgen.set_index("name")
    for _, row in net.sgen.iterrows():
        mine = built.loc[as_name(row["name"])]
        assert int(mine["bus"]) == int(row["bus"])
        assert mine["sn_mva"] * 1000 == pytest.approx(row["sn_mva"] * 1000, abs=RATING_TOL_KW)
    kinds = dict(zip(built.index, built["type"], strict=True))
    assert kinds["fuel_cell_1"] == "fuel cell" and kinds["chp_diesel_1"] == "diesel"

    # day one, no history: the park plans on its declaration, checked and AC-verified
    planned = microgrid("plan", "--site", str(out), "--date", "2026-03-01")
    assert planned.exit_code == 0, planned.output
    assert "invariant check: plan OK" in planned.stdout
    assert "network (AC check): ok" in planned.stdout


def test_a_type_with_no_asset_is_left_out_and_said(cigre: tuple, tmp_path: Path) -> None:
    _, net = cigre
    odd = copy.deepcopy(net)
    odd.sgen.loc[0, "type"] = "Tidal"
    path = tmp_path / "odd.json"
    pp.to_json(odd, str(path))
    imported = site_from_pandapower(path, "odd")
    (line,) = imported.left_out
    assert "PV 3" in line and "'Tidal'" in line and "no site asset for this type" in line
    assert "pv_3" not in {x["name"] for x in imported.mapping["assets"]["pv"]}


def test_a_file_that_is_not_a_network_is_an_error_of_ours(tmp_path: Path) -> None:
    text = tmp_path / "not.json"
    text.write_text('{"bus": []}', encoding="utf-8")
    with pytest.raises(DataError, match="not a pandapower network"):
        site_from_pandapower(text, "x")
    result = microgrid("network", "import", str(tmp_path / "missing.json"), "--id", "x",
                       "--out", str(tmp_path / "x.yaml"))  # fmt: skip
    assert result.exit_code == USAGE_ERROR and "no such file" in result.stderr
