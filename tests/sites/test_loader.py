"""Site files: the bundled parks load, and every kind of mistake is reported precisely."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pytest
import yaml

from sites import SiteConfigError, bundled_site_paths, bundled_sites, load_site, load_site_mapping

BUNDLED = [
    "chiping-aluminium",
    "gaotang-solar-textile",
    "gaotang-textile",
    "liaocheng-chemical",
    "liaocheng-chemical-chp",
]


def _raw(site_id: str = "gaotang-textile") -> dict:
    return yaml.safe_load(bundled_site_paths()[site_id].read_text(encoding="utf-8"))


def _problems(raw: dict, base_dir: Path | None = None) -> list:
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(raw, source="park.yaml", base_dir=base_dir)
    return info.value.problems


def test_the_bundled_parks_load() -> None:
    sites = bundled_sites()
    assert sorted(s.id for s in sites) == BUNDLED
    for site in sites:
        assert site.location.timezone == "Asia/Shanghai"
        assert site.time_step_minutes == 15
        assert site.grid_connection.voltage_kv in (35, 110)
        assert site.policy.min_self_consumption_ratio == pytest.approx(0.60)
        assert site.policy.max_export_ratio == pytest.approx(0.20)
        assert site.grid_emission_factor.kg_co2_per_kwh == pytest.approx(0.6191)
        mv_buses = [b for b in site.network.buses if b.vn_kv == 10]
        assert len(site.network.lines) >= 3 and len(mv_buses) >= 4  # several 10 kV feeders


def test_site_file_id_matches_file_name() -> None:
    for site_id, path in bundled_site_paths().items():
        assert load_site(path).id == site_id


def test_four_mistakes_reported_together_with_file_field_value_rule(tmp_path: Path) -> None:
    raw = _raw()
    raw["grid_connection"]["import_limit_kw"] = "a lot"  # wrong type
    raw["assets"]["pv"][0]["colour"] = "blue"  # unknown field
    raw["assets"]["electric_loads"][0]["bus"] = "nowhere"  # missing bus
    battery = raw["assets"]["batteries"][0]
    battery["soc_min_fraction"], battery["soc_max_fraction"] = 0.9, 0.2  # inverted window
    battery["initial_soc_fraction"] = 0.5
    path = tmp_path / "park.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")

    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    by_field = {p.field: p for p in info.value.problems}
    assert all(p.file == str(path) for p in info.value.problems)

    wrong_type = by_field["grid_connection.import_limit_kw"]
    assert wrong_type.value == "a lot" and "number" in wrong_type.rule

    unknown = by_field["assets.pv[0].colour"]
    assert unknown.value == "blue"
    assert "unknown field" in unknown.rule and "tilt_deg" in unknown.rule

    bus = by_field["assets.electric_loads[0].bus"]
    assert bus.value == "nowhere" and "f1_dyeing" in bus.rule

    soc = by_field["assets.batteries[0]"]
    assert "soc_min_fraction=0.9 must be below soc_max_fraction=0.2" in soc.rule
    assert len(info.value.problems) == 4
    assert "park.yaml: assets.electric_loads[0].bus: got 'nowhere'" in str(info.value)


def test_disconnected_bus_is_reported() -> None:
    raw = _raw()
    raw["network"]["buses"].append({"name": "island", "vn_kv": 10})
    (problem,) = _problems(raw)
    assert problem.field == "network" and problem.value == ["island"]
    assert "connected to the grid connection 'hv_35'" in problem.rule


def test_heat_pump_needs_existing_source_and_hot_enough_sink() -> None:
    raw = _raw()
    raw["assets"]["heat_pumps"][0]["source"] = "river"
    raw["assets"]["heat_pumps"][1]["sink_temperature_degc"] = 50  # washing water needs 60
    problems = {p.field: p for p in _problems(raw)}
    assert (
        "'ambient' or a waste-heat stream (warm_waste_water)"
        in problems["assets.heat_pumps[0].source"].rule
    )
    assert "must reach the 60 degC" in problems["assets.heat_pumps[1].sink_temperature_degc"].rule


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("assets", "pv", 0, "peak_kw"), -5, "assets.pv[0].peak_kw"),
        (
            ("assets", "batteries", 0, "charge_efficiency"),
            1.3,
            "assets.batteries[0].charge_efficiency",
        ),
        (("network", "lines", 0, "std_type"), "no such cable", "network.lines[0].std_type"),
        (("tariff", "voltage_class"), "500kV", "tariff.voltage_class"),
        (("location", "timezone"), "Mars/Olympus", "location.timezone"),
        (
            ("assets", "heat_demands", 0, "process_load"),
            "ghost",
            "assets.heat_demands[0].process_load",
        ),
    ],
)
def test_each_bad_value_names_its_field(path: tuple, value: object, field: str) -> None:
    raw = _raw()
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = _problems(raw)
    assert [p.field for p in problems] == [field]
    assert problems[0].value == value and problems[0].rule


def test_unknown_turbine_type_and_wrong_rating() -> None:
    raw = _raw("chiping-aluminium")
    raw["assets"]["wind"][0]["rated_kw"] = 2000
    (problem,) = _problems(raw)
    assert problem.field == "assets.wind[0].rated_kw" and "3200" in problem.rule
    raw["assets"]["wind"][0]["turbine_type"] = "X-1/1"
    (problem,) = _problems(raw)
    assert problem.field == "assets.wind[0].turbine_type"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    assert info.value.problems[0].field.startswith("line ")


def test_network_from_pandapower_file(tmp_path: Path) -> None:
    """An engineer's existing pandapower network replaces the described one."""
    raw = _raw()
    net = pp.create_empty_network()
    names = {}
    for bus in raw["network"]["buses"]:
        names[bus["name"]] = pp.create_bus(net, vn_kv=bus["vn_kv"], name=bus["name"])
    pp.create_transformer_from_parameters(
        net,
        names["hv_35"],
        names["mv_main"],
        sn_mva=20,
        vn_hv_kv=35,
        vn_lv_kv=10.5,
        vk_percent=8,
        vkr_percent=0.5,
        pfe_kw=18,
        i0_percent=0.4,
    )
    for line in raw["network"]["lines"]:
        pp.create_line(
            net,
            names[line["from_bus"]],
            names[line["to_bus"]],
            line["length_km"],
            std_type=line["std_type"],
        )
    pp.to_json(net, str(tmp_path / "park_net.json"))
    raw["network"] = {"pandapower_file": "park_net.json"}
    site = load_site_mapping(raw, source="park.yaml", base_dir=tmp_path)
    assert site.network.pandapower_file == str((tmp_path / "park_net.json").resolve())

    raw["network"] = {"pandapower_file": "park_net.json", "bus_map": {"f1_dyeing": 999}}
    (problem,) = _problems(raw, tmp_path)
    assert problem.field == "network.bus_map.f1_dyeing" and problem.value == 999
    raw["network"] = {"pandapower_file": "missing.json"}
    assert [p.field for p in _problems(raw, tmp_path)] == ["network.pandapower_file"]
