"""Batched AC power flow agrees with pandapower's runpp, flags what it cannot solve, and
validates its inputs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from network_models.powerflow import BatchPowerFlow, BatchResult, run_sequential_runpp
from network_models.synthetic_park import build_synthetic_park_net, synthetic_setpoints

VM_TOL_PU = 1e-5  # agreement bound for bus voltage magnitude
VA_TOL_DEGREE = 1e-4  # ... for bus voltage angle
LOADING_TOL_PERCENT = 0.01  # ... for line and transformer loading, percentage points
EXT_GRID_TOL_MW = 1e-5  # ... for summed ext_grid P and Q: 10 W / 10 var
LOSSES_TOL_MW = 1e-6  # ... for line + transformer losses: 1 W
CHUNK_TOL = 1e-9  # chunking changes only round-off, far inside the solver tolerance
N_INTERVALS = 200
N_SAMPLED = 20

# pandapower's own nets lack this table; the warning is about pandapower's data format.
pytestmark = pytest.mark.filterwarnings("ignore:tap_dependency_table is missing:DeprecationWarning")


def _park_net() -> Any:
    """The synthetic park plus the awkward cases: scaling, out-of-service elements and line,
    a closed bus-bus switch with a cable across it, an open line switch, ZIP loads, a second
    storage, a tap position."""
    net = build_synthetic_park_net(n_feeders=3, buses_per_feeder=5, n_lv_trafos=1)
    net.load.loc[net.load.index[2], "scaling"] = 0.8
    net.sgen.loc[net.sgen.index[1], "scaling"] = 1.3
    net.load.loc[net.load.index[4], "in_service"] = False
    net.sgen.loc[net.sgen.index[3], "in_service"] = False
    net.load.loc[net.load.index[6], ["const_z_p_percent", "const_z_q_percent"]] = [30.0, 50.0]
    net.load.loc[net.load.index[7], "const_i_p_percent"] = 40.0
    busbar = net.bus.index[net.bus["name"] == "10 kV busbar"][0]
    coupled = pp.create_bus(net, vn_kv=10.0, name="coupled section")
    pp.create_switch(net, busbar, coupled, et="b", closed=True)
    pp.create_load(net, coupled, p_mw=0.4, q_mvar=0.1, name="coupled load")
    pp.create_storage(net, coupled, p_mw=0.5, max_e_mwh=2.0, q_mvar=0.0, scaling=0.9)
    pp.create_line(net, busbar, coupled, 0.2, "NA2XS2Y 1x185 RM/25 6/10 kV", name="across coupler")
    f0_end = net.bus.index[net.bus["name"] == "F0 B4"][0]
    f1_end = net.bus.index[net.bus["name"] == "F1 B4"][0]
    tie = pp.create_line(net, f0_end, f1_end, 0.8, "NA2XS2Y 1x185 RM/25 6/10 kV", name="tie")
    pp.create_switch(net, f1_end, tie, et="l", closed=False)
    pp.create_line(
        net, f0_end, f1_end, 0.9, "NA2XS2Y 1x185 RM/25 6/10 kV", name="spare", in_service=False
    )
    net.trafo.loc[net.trafo.index[0], "tap_pos"] = 2
    return net


def _assert_matches(batch: BatchResult, ref: BatchResult, rows: np.ndarray) -> None:
    assert ref.converged.all()
    assert batch.converged[rows].all()
    np.testing.assert_allclose(batch.vm_pu[rows], ref.vm_pu, rtol=0, atol=VM_TOL_PU)
    np.testing.assert_allclose(batch.va_degree[rows], ref.va_degree, rtol=0, atol=VA_TOL_DEGREE)
    np.testing.assert_allclose(
        batch.line_loading_percent[rows], ref.line_loading_percent, rtol=0, atol=LOADING_TOL_PERCENT
    )
    np.testing.assert_allclose(
        batch.trafo_loading_percent[rows],
        ref.trafo_loading_percent,
        rtol=0,
        atol=LOADING_TOL_PERCENT,
    )
    np.testing.assert_allclose(
        batch.ext_grid_p_mw[rows], ref.ext_grid_p_mw, rtol=0, atol=EXT_GRID_TOL_MW
    )
    np.testing.assert_allclose(
        batch.ext_grid_q_mvar[rows], ref.ext_grid_q_mvar, rtol=0, atol=EXT_GRID_TOL_MW
    )
    np.testing.assert_allclose(batch.losses_p_mw[rows], ref.losses_p_mw, rtol=0, atol=LOSSES_TOL_MW)


def _sampled(n_intervals: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_intervals, N_SAMPLED, replace=False))


@pytest.mark.parametrize("sn_mva", [1.0, 10.0])
def test_park_net_matches_runpp(sn_mva: float) -> None:
    net = _park_net()
    net.sn_mva = sn_mva
    setpoints = synthetic_setpoints(net, N_INTERVALS, seed=11)
    batch = BatchPowerFlow(net).run(**setpoints, chunk_size=64)
    assert batch.converged.all()
    rows = _sampled(N_INTERVALS, seed=1)
    _assert_matches(batch, run_sequential_runpp(net, **setpoints, intervals=rows), rows)


def test_mv_oberrhein_matches_runpp() -> None:
    net = pn.mv_oberrhein()
    assert not net.gen["in_service"].any()
    assert len(net.ext_grid) == 2
    rng = np.random.default_rng(5)
    load_scale = rng.uniform(0.3, 1.4, (N_INTERVALS, len(net.load)))
    setpoints = {
        "load_p_mw": net.load["p_mw"].to_numpy() * load_scale,
        "load_q_mvar": net.load["q_mvar"].to_numpy() * load_scale,
        "sgen_p_mw": net.sgen["p_mw"].to_numpy() * rng.uniform(0, 1, (N_INTERVALS, len(net.sgen))),
    }
    batch = BatchPowerFlow(net).run(**setpoints)
    assert batch.converged.all()
    rows = _sampled(N_INTERVALS, seed=2)
    _assert_matches(batch, run_sequential_runpp(net, **setpoints, intervals=rows), rows)


def test_static_values_reproduce_runpp_of_the_net_itself() -> None:
    net = _park_net()
    batch = BatchPowerFlow(net).run()
    reference = copy.deepcopy(net)
    pp.runpp(reference, numba=False)
    assert batch.vm_pu.shape == (1, len(net.bus))
    np.testing.assert_allclose(batch.vm_pu[0], reference.res_bus["vm_pu"], rtol=0, atol=VM_TOL_PU)
    np.testing.assert_allclose(
        batch.line_loading_percent[0],
        reference.res_line["loading_percent"],
        rtol=0,
        atol=LOADING_TOL_PERCENT,
    )
    assert batch.ext_grid_p_mw[0] == pytest.approx(
        reference.res_ext_grid["p_mw"].sum(), abs=EXT_GRID_TOL_MW
    )


def test_overloaded_interval_reports_loading_above_100_percent() -> None:
    net = _park_net()
    setpoints = synthetic_setpoints(net, 4, seed=3)
    setpoints["sgen_p_mw"][:] = 0.0
    on_feeder_0 = net.load["name"].str.startswith("factory F0").to_numpy()
    setpoints["load_p_mw"][2, on_feeder_0] = 2.0
    batch = BatchPowerFlow(net).run(**setpoints)
    assert batch.converged.all()
    first_cable = list(net.line["name"]).index("F0 L0")
    assert batch.line_loading_percent[2, first_cable] > 100.0
    assert batch.line_loading_percent[[0, 1, 3], first_cable].max() < 100.0
    rows = np.array([2])
    _assert_matches(batch, run_sequential_runpp(net, **setpoints, intervals=rows), rows)


def test_deep_voltage_sag_far_from_the_base_case_matches_runpp() -> None:
    """Loads at 8x to 15x: the fixed-Jacobian steps stall, full Newton steps finish the job."""
    net = _park_net()
    setpoints = synthetic_setpoints(net, 3, seed=4)
    factor = np.array([[8.0], [12.0], [15.0]])
    setpoints["load_p_mw"] = setpoints["load_p_mw"] * factor
    setpoints["load_q_mvar"] = setpoints["load_q_mvar"] * factor
    batch = BatchPowerFlow(net).run(**setpoints)
    assert batch.converged.all()
    assert np.nanmin(batch.vm_pu[2]) < 0.7
    rows = np.arange(3)
    _assert_matches(batch, run_sequential_runpp(net, **setpoints, intervals=rows), rows)


def test_empty_batch_gives_empty_results() -> None:
    net = _park_net()
    batch = BatchPowerFlow(net).run(load_p_mw=np.zeros((0, len(net.load))))
    assert batch.vm_pu.shape == (0, len(net.bus))
    assert batch.converged.shape == (0,)


def test_charging_storage_is_consumption() -> None:
    net = _park_net()
    flow = BatchPowerFlow(net)
    storage_p = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    batch = flow.run(storage_p_mw=storage_p)
    # Charging 1 MW raises the import by about 1 MW (plus losses), discharging lowers it.
    assert batch.ext_grid_p_mw[1] - batch.ext_grid_p_mw[0] == pytest.approx(1.0, abs=0.05)
    assert batch.ext_grid_p_mw[2] - batch.ext_grid_p_mw[0] == pytest.approx(-1.0, abs=0.05)


def test_absurd_interval_is_flagged_not_raised() -> None:
    net = _park_net()
    setpoints = synthetic_setpoints(net, 6, seed=4)
    setpoints["load_p_mw"][3] *= 200.0
    batch = BatchPowerFlow(net).run(**setpoints)
    assert batch.converged.tolist() == [True, True, True, False, True, True]
    assert np.isnan(batch.vm_pu[3]).all()
    assert np.isnan(batch.line_loading_percent[3]).all()
    assert np.isnan(batch.ext_grid_p_mw[3])
    rows = np.array([0, 5])
    _assert_matches(batch, run_sequential_runpp(net, **setpoints, intervals=rows), rows)


def test_chunk_size_does_not_change_results() -> None:
    net = _park_net()
    setpoints = synthetic_setpoints(net, 50, seed=6)
    flow = BatchPowerFlow(net)
    whole = flow.run(**setpoints, chunk_size=4096)
    pieces = flow.run(**setpoints, chunk_size=7)
    np.testing.assert_allclose(pieces.vm_pu, whole.vm_pu, rtol=0, atol=CHUNK_TOL)
    np.testing.assert_allclose(
        pieces.line_loading_percent, whole.line_loading_percent, rtol=0, atol=CHUNK_TOL
    )
    np.testing.assert_array_equal(pieces.converged, whole.converged)


def test_frame_columns_are_matched_by_index() -> None:
    net = _park_net()
    setpoints = synthetic_setpoints(net, 5, seed=8)
    frame = pd.DataFrame(setpoints["load_p_mw"], columns=net.load.index)
    shuffled = frame[frame.columns[::-1]]
    flow = BatchPowerFlow(net)
    from_array = flow.run(load_p_mw=setpoints["load_p_mw"])
    from_frame = flow.run(load_p_mw=shuffled)
    np.testing.assert_allclose(from_frame.vm_pu, from_array.vm_pu, rtol=0, atol=CHUNK_TOL)


def test_callers_net_is_not_mutated() -> None:
    net = _park_net()
    before = copy.deepcopy(net)
    setpoints = synthetic_setpoints(net, 10, seed=9)
    BatchPowerFlow(net).run(**setpoints)
    run_sequential_runpp(net, **setpoints, intervals=[0, 1])
    for table in ("bus", "line", "trafo", "load", "sgen", "storage", "switch", "ext_grid"):
        pd.testing.assert_frame_equal(net[table], before[table])
    assert net.res_bus.empty
    assert net["_ppc"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"load_p_mw": np.zeros((3, 2))}, r"load_p_mw has shape \(3, 2\); expected \(T, 17\)"),
        ({"sgen_q_mvar": np.zeros(8)}, r"sgen_q_mvar has shape \(8,\); expected \(T, 8\)"),
        (
            {"load_p_mw": np.zeros((3, 17)), "sgen_p_mw": np.zeros((4, 8))},
            "same number of intervals: load_p_mw has 3, sgen_p_mw has 4",
        ),
        ({"storage_p_mw": np.full((2, 2), np.nan)}, "storage_p_mw must be finite"),
        (
            {"load_q_mvar": pd.DataFrame(np.zeros((2, 17)), columns=range(100, 117))},
            "load_q_mvar: frame columns",
        ),
    ],
)
def test_shape_and_value_errors_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    net = _park_net()
    assert (len(net.load), len(net.sgen), len(net.storage)) == (17, 8, 2)
    with pytest.raises(ValueError, match=message):
        BatchPowerFlow(net).run(**kwargs)


def test_gen_in_service_is_rejected() -> None:
    net = _park_net()
    pp.create_gen(net, net.bus.index[3], p_mw=1.0, vm_pu=1.0)
    with pytest.raises(ValueError, match=r"net.gen has 1 element\(s\) in service"):
        BatchPowerFlow(net)


def test_power_flow_options_it_cannot_mirror_are_rejected() -> None:
    net = _park_net()
    pp.set_user_pf_options(net, trafo_loading="power")
    with pytest.raises(ValueError, match="'trafo_loading': 'power'"):
        BatchPowerFlow(net)


def test_non_converging_base_case_is_rejected() -> None:
    net = _park_net()
    net.load["p_mw"] *= 300.0
    with pytest.raises(ValueError, match="base case"):
        BatchPowerFlow(net)


def _one_bus_net() -> Any:
    net = pp.create_empty_network()
    bus = pp.create_bus(net, vn_kv=10.0)
    pp.create_ext_grid(net, bus, vm_pu=1.02)
    pp.create_load(net, bus, p_mw=1.0, q_mvar=0.2)
    pp.create_sgen(net, bus, p_mw=0.3)
    pp.create_storage(net, bus, p_mw=0.0, max_e_mwh=2.0)
    return net


def test_one_bus_net_is_its_bus_balance_without_losses() -> None:
    # No bus with unknown voltage: pandapower does not iterate, and neither do we.
    net = _one_bus_net()
    load = np.array([[1.0], [2.0], [0.5]])
    sgen = np.array([[0.3], [3.0], [0.0]])
    storage = np.array([[0.5], [-0.2], [0.0]])
    batch = BatchPowerFlow(net).run(load_p_mw=load, sgen_p_mw=sgen, storage_p_mw=storage)
    rows = np.arange(3)
    ref = run_sequential_runpp(
        net, load_p_mw=load, sgen_p_mw=sgen, storage_p_mw=storage, intervals=rows
    )
    _assert_matches(batch, ref, rows)
    assert batch.converged.all()
    np.testing.assert_allclose(batch.ext_grid_p_mw, (load + storage - sgen)[:, 0], atol=1e-12)
    np.testing.assert_allclose(batch.losses_p_mw, 0.0, atol=1e-12)
    np.testing.assert_allclose(batch.vm_pu, 1.02)
    assert batch.line_loading_percent.shape == (3, 0)
