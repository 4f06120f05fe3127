"""The grid's voltage set-point and the transformers' tap positions of the engineer's own
network are kept, can be set in the site, and the batched AC check agrees with pandapower's
own ``runpp`` on the user's file with the same injections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from own_park import NETWORK_FILE, site_mapping, write_network

from network_models.build import KW_PER_MW, Element, ParkNetwork, build_network
from network_models.verify import NetworkVerifier
from sites import Site, SiteConfigError, load_bundled_site, load_site_mapping

VM_TOL_PU = 1e-5  # the batched power flow's agreement bound with runpp (as test_verify)
LOADING_TOL_PERCENT = 0.01
GRID_TOL_KW = 1.0  # 1 kW of an 8 MW connection
FILE_VM_PU = 1.02
FILE_TAP_POS = -2  # on the hv side, 2.5 % a step: the mv side 5 % above the neutral tap
TAP_STEP_PERCENT = 2.5
N_ROWS = 8


def write_tapped_network(path: Path) -> None:
    """The own park's network with its grid at 1.02 pu and its transformer two taps down."""
    write_network(path)
    net = pp.from_json(str(path))
    net.ext_grid.loc[:, "vm_pu"] = FILE_VM_PU
    net.ext_grid.loc[:, "va_degree"] = 0.0
    trafo = net.trafo.index[0]
    net.trafo.loc[trafo, "name"] = "T 1"
    for key, value in {
        "tap_side": "hv",
        "tap_neutral": 0,
        "tap_min": -4,
        "tap_max": 4,
        "tap_step_percent": TAP_STEP_PERCENT,
        "tap_step_degree": 0.0,
        "tap_pos": FILE_TAP_POS,
        "tap_changer_type": "Ratio",
    }.items():
        net.trafo[key] = net.trafo[key].astype(object) if isinstance(value, str) else net.trafo[key]
        net.trafo.loc[trafo, key] = value
    pp.to_json(net, str(path))


def own_site(folder: Path, **network: Any) -> Any:
    raw = site_mapping()
    raw["network"].update(network)
    return load_site_mapping(raw, source="park.yaml", base_dir=folder)


def injections(park: ParkNetwork, seed: int = 3) -> pd.DataFrame:
    """Rows from an idle park to full PV export and full load with the battery charging."""
    rng = np.random.default_rng(seed)
    peaks = {
        "pv_pv_roof_kw": 2700.0,
        "load_cold_store_kw": 2500.0,
        "load_depot_kw": 1500.0,
        "battery_bess_charge_kw": 2000.0,
        "battery_bess_discharge_kw": 2000.0,
    }
    assert set(park.columns()) == set(peaks)
    frame = pd.DataFrame({c: rng.random(N_ROWS) * peak for c, peak in peaks.items()})
    frame.loc[0] = 0.0
    frame.loc[1] = [2700.0, 0.0, 0.0, 0.0, 2000.0]  # the most export
    frame.loc[2] = [0.0, 2500.0, 1500.0, 2000.0, 0.0]  # the most load
    return frame.set_axis(pd.date_range("2026-03-02", periods=N_ROWS, freq="15min"))


def runpp_on_file(path: Path, park: ParkNetwork, row: pd.Series, **taps: int) -> Any:
    """pandapower's own power flow on the user's file (its own ext grid and taps), the
    file's elements replaced by the row's injections at the buses the site puts them on."""
    net = pp.from_json(str(path))
    for table in ("load", "sgen", "storage"):
        net[table] = net[table].iloc[0:0]
    for name, pos in taps.items():
        net.trafo.loc[net.trafo["name"] == name, "tap_pos"] = pos
    for inj in park.injections:
        bus = int(park.net[inj.element.value].at[inj.index, "bus"])
        p_mw = row[inj.column] * inj.sign / KW_PER_MW
        if inj.element is Element.LOAD:
            pp.create_load(net, bus, p_mw=p_mw, q_mvar=p_mw * inj.q_per_p)
        elif inj.element is Element.SGEN:
            pp.create_sgen(net, bus, p_mw=p_mw)
        else:
            pp.create_storage(net, bus, p_mw=p_mw, max_e_mwh=4.0)
    pp.runpp(net, numba=False)
    return net


def assert_matches_runpp(verifier: NetworkVerifier, path: Path, **taps: int) -> None:
    frame = injections(verifier.park)
    result = verifier.verify(frame)
    assert result.intervals["converged"].all()
    for i in range(N_ROWS):
        net = runpp_on_file(path, verifier.park, frame.iloc[i], **taps)
        vm = net.res_bus["vm_pu"].reindex(verifier.park.net.bus.index).to_numpy()
        np.testing.assert_allclose(result.vm_pu_values[i], vm, rtol=0, atol=VM_TOL_PU)
        np.testing.assert_allclose(
            result.trafo_loading_percent.iloc[i],
            net.res_trafo["loading_percent"],
            rtol=0,
            atol=LOADING_TOL_PERCENT,
        )
        np.testing.assert_allclose(
            result.line_loading_percent.iloc[i],
            net.res_line["loading_percent"],
            rtol=0,
            atol=LOADING_TOL_PERCENT,
        )
        got = result.intervals.iloc[i]
        grid_kw = float(net.res_ext_grid["p_mw"].sum()) * KW_PER_MW
        assert got.grid_import_kw - got.grid_export_kw == pytest.approx(grid_kw, abs=GRID_TOL_KW)


def test_the_files_set_point_and_tap_are_kept_and_agree_with_runpp(tmp_path: Path) -> None:
    path = tmp_path / NETWORK_FILE
    write_tapped_network(path)
    site = own_site(tmp_path)
    park = build_network(site)
    assert park.net.ext_grid["vm_pu"].tolist() == [FILE_VM_PU]
    assert park.net.trafo["tap_pos"].tolist() == [FILE_TAP_POS]
    verifier = NetworkVerifier(site, park)
    assert_matches_runpp(verifier, path)
    # idle: the mv bus sits 1/(1 - 2 x 2.5 %) above the grid, less the no-load drop
    idle = verifier.verify(injections(park).iloc[:1]).vm_pu.iloc[0]
    assert idle["hv_35"] == pytest.approx(FILE_VM_PU, abs=VM_TOL_PU)
    neutral = FILE_VM_PU * 10.5 / 10 / (1 + FILE_TAP_POS * TAP_STEP_PERCENT / 100)
    assert idle["mv_main"] == pytest.approx(neutral, abs=0.002)


def test_the_site_sets_the_set_point_and_a_tap_by_name(tmp_path: Path) -> None:
    path = tmp_path / NETWORK_FILE
    write_tapped_network(path)
    raw = site_mapping()
    raw["grid_connection"]["voltage_setpoint_pu"] = 0.99
    raw["network"]["transformer_taps"] = {"t_1": 1}
    site = load_site_mapping(raw, source="park.yaml", base_dir=tmp_path)
    park = build_network(site)
    assert park.net.ext_grid["vm_pu"].tolist() == [0.99]
    assert park.net.trafo["tap_pos"].tolist() == [1]
    # the reference: the file with the site's set-point and tap written into it
    net = pp.from_json(str(path))
    net.ext_grid.loc[:, "vm_pu"] = 0.99
    pp.to_json(net, str(path))
    assert_matches_runpp(NetworkVerifier(site, park), path, **{"T 1": 1})
    # a site made in code, past the site check, is held to the file's taps when built
    network = site.network.model_copy(update={"transformer_taps": {"t_1": 9}})
    with pytest.raises(SiteConfigError) as info:
        build_network(site.model_copy(update={"network": network}))
    (problem,) = info.value.problems
    assert problem.field == "network.transformer_taps.t_1" and problem.value == 9
    assert problem.rule == "must be a tap position of 't_1': an integer -4..4"


def test_a_described_transformer_takes_a_tap_and_the_grid_a_set_point() -> None:
    site = load_bundled_site("chiping-aluminium")
    raw = site.model_dump(mode="json", exclude_defaults=True)
    raw["grid_connection"]["voltage_setpoint_pu"] = 1.03
    raw["network"]["transformers"][0]["tap_pos"] = 3  # std type 63 MVA 110/10 kV: -9..9
    tuned = load_site_mapping(raw)
    park = build_network(tuned)
    assert park.net.ext_grid["vm_pu"].tolist() == [1.03]
    assert park.net.trafo["tap_pos"].tolist() == [3, 0]
    bundled = build_network(site)  # defaults: 1.0 pu and the neutral tap, as before
    assert bundled.net.ext_grid["vm_pu"].tolist() == [1.0]
    assert bundled.net.trafo["tap_pos"].tolist() == [0, 0]
    raw["network"]["transformers"][0]["tap_pos"] = 12
    for make in (load_site_mapping, lambda r: build_network(Site.model_validate(r))):
        with pytest.raises(SiteConfigError) as info:
            make(raw)  # the site check, and a site made in code when its network is built
        (problem,) = info.value.problems
        assert problem.field == "network.transformers[0].tap_pos" and problem.value == 12
        assert problem.rule == "must be a tap position of standard type '63 MVA 110/10 kV': -9..9"


def test_an_explicit_tap_changer_agrees_with_runpp() -> None:
    site = load_bundled_site("chiping-aluminium")
    raw = site.model_dump(mode="json", exclude_defaults=True)
    explicit = {
        "name": "t1",
        "hv_bus": "hv_110",
        "lv_bus": "mv_a",
        "sn_mva": 63,
        "vn_hv_kv": 110,
        "vn_lv_kv": 10.5,
        "vk_percent": 18,
        "vkr_percent": 0.32,
        "tap_side": "hv",
        "tap_neutral": 0,
        "tap_min": -8,
        "tap_max": 8,
        "tap_step_percent": 1.25,
        "tap_pos": -3,
    }
    raw["network"]["transformers"][0] = explicit
    park = build_network(load_site_mapping(raw))
    row = park.net.trafo.iloc[0]
    assert (row["tap_pos"], row["tap_step_percent"], row["tap_changer_type"]) == (-3, 1.25, "Ratio")
    net = pp.from_json(pp.to_json(park.net))
    pp.runpp(net, numba=False)
    untapped = pp.from_json(pp.to_json(park.net))
    untapped.trafo.loc[untapped.trafo.index[0], "tap_pos"] = 0
    pp.runpp(untapped, numba=False)
    mv_a = park.bus_index["mv_a"]
    assert net.res_bus.at[mv_a, "vm_pu"] > untapped.res_bus.at[mv_a, "vm_pu"] + 0.03
    result = NetworkVerifier(load_site_mapping(raw), park).flow.run()
    np.testing.assert_allclose(result.vm_pu[0], net.res_bus["vm_pu"], rtol=0, atol=VM_TOL_PU)
