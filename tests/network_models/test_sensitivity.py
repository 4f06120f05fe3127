"""Linear sensitivities: exact derivatives of the AC power flow at the operating point, and how
far the linear model strays from AC results under realistic perturbations."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from network_models.powerflow import BatchPowerFlow
from network_models.sensitivity import Sensitivities, injection_incidence, sensitivities
from network_models.synthetic_park import build_synthetic_park_net, synthetic_setpoints

VM_TOL_PU = 1e-5  # base values agree with the batched power flow
LOADING_TOL_PERCENT = 0.01
EXT_GRID_TOL_MW = 1e-5
FD_STEP_MW = 1e-4  # central-difference step for the derivative check
FD_VM_TOL_PU_PER_MW = 1e-7  # central differences carry O(step^2) curvature error
FD_LOADING_TOL_PERCENT_PER_MW = 1e-3
FD_EXT_GRID_TOL = 1e-6  # MW per MW, Mvar per Mvar
OPERATING_INTERVALS = {"night": 20, "midday": 50, "evening": 80}  # of a synthetic day
N_PERTURBATIONS = 200
N_FLOW_SAMPLES = 12  # perturbations whose branch flows are checked against runpp

# pandapower's own nets lack this table; the warning is about pandapower's data format.
pytestmark = pytest.mark.filterwarnings("ignore:tap_dependency_table is missing:DeprecationWarning")

SETPOINT_NAMES = (
    "load_p_mw",
    "load_q_mvar",
    "sgen_p_mw",
    "sgen_q_mvar",
    "storage_p_mw",
    "storage_q_mvar",
)


def _park() -> Any:
    net = build_synthetic_park_net(n_feeders=3, buses_per_feeder=5, n_lv_trafos=1)
    net.sgen.loc[net.sgen.index[0], "scaling"] = 0.7
    net.load.loc[net.load.index[3], "in_service"] = False
    return net


def _operating_point(net: Any, name: str) -> dict[str, np.ndarray]:
    day = synthetic_setpoints(net, 96, seed=5)
    return {key: values[OPERATING_INTERVALS[name]] for key, values in day.items()}


def _bus_injections(net: Any, delta: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Set-point changes (T, n_element) -> bus injections (T, n_bus) [MW], [Mvar]."""
    dp = np.zeros((next(iter(delta.values())).shape[0], len(net.bus)))
    dq = np.zeros_like(dp)
    for element in ("load", "sgen", "storage"):
        incidence = injection_incidence(net, element)
        dp += delta[f"{element}_p_mw"] @ incidence.T
        dq += delta[f"{element}_q_mvar"] @ incidence.T
    return dp, dq


def test_base_values_match_batch_power_flow() -> None:
    net = _park()
    point = _operating_point(net, "evening")
    sens = sensitivities(net, **point)
    ac = BatchPowerFlow(net).run(**{k: v[None, :] for k, v in point.items()})
    np.testing.assert_allclose(sens.vm_pu_base, ac.vm_pu[0], rtol=0, atol=VM_TOL_PU)
    np.testing.assert_allclose(
        sens.line.loading_percent_base, ac.line_loading_percent[0], rtol=0, atol=LOADING_TOL_PERCENT
    )
    np.testing.assert_allclose(
        sens.trafo.loading_percent_base,
        ac.trafo_loading_percent[0],
        rtol=0,
        atol=LOADING_TOL_PERCENT,
    )
    assert sens.ext_grid_p_mw_base == pytest.approx(ac.ext_grid_p_mw[0], abs=EXT_GRID_TOL_MW)
    assert sens.ext_grid_q_mvar_base == pytest.approx(ac.ext_grid_q_mvar[0], abs=EXT_GRID_TOL_MW)
    np.testing.assert_array_equal(sens.bus_index, net.bus.index.to_numpy())
    np.testing.assert_array_equal(sens.line.index, net.line.index.to_numpy())


def _central(values: np.ndarray) -> np.ndarray:
    """Rows [+step per bus..., -step per bus...] -> (observed, injection bus) derivatives."""
    half = values.shape[0] // 2
    return np.asarray((values[:half] - values[half:]) / (2 * FD_STEP_MW)).T


def test_derivatives_match_central_differences() -> None:
    """A zero-power probe sgen at every bus; +-step on each probe, all in one batched run."""
    net = _park()
    point = _operating_point(net, "midday")
    n_bus, n_sgen = len(net.bus), len(net.sgen)
    for bus in net.bus.index:
        pp.create_sgen(net, bus, p_mw=0.0, q_mvar=0.0, name=f"probe {bus}")
    sens = sensitivities(
        net,
        **{
            **point,
            "sgen_p_mw": np.r_[point["sgen_p_mw"], np.zeros(n_bus)],
            "sgen_q_mvar": np.r_[point["sgen_q_mvar"], np.zeros(n_bus)],
        },
    )

    steps = np.vstack([np.eye(n_bus), -np.eye(n_bus)]) * FD_STEP_MW
    zero = np.zeros_like(steps)
    rows = {name: np.tile(value, (2 * n_bus, 1)) for name, value in point.items()}
    flow = BatchPowerFlow(net, tolerance_mva=1e-12)
    for which, (p_step, q_step) in {"p": (steps, zero), "q": (zero, steps)}.items():
        ac = flow.run(
            **{
                **rows,
                "sgen_p_mw": np.hstack([rows["sgen_p_mw"], p_step]),
                "sgen_q_mvar": np.hstack([rows["sgen_q_mvar"], q_step]),
            }
        )
        assert ac.converged.all()
        np.testing.assert_allclose(
            getattr(sens, f"dvm_d{which}"), _central(ac.vm_pu), rtol=0, atol=FD_VM_TOL_PU_PER_MW
        )
        np.testing.assert_allclose(
            getattr(sens.line, f"dloading_d{which}"),
            _central(ac.line_loading_percent),
            rtol=0,
            atol=FD_LOADING_TOL_PERCENT_PER_MW,
        )
        np.testing.assert_allclose(
            getattr(sens.trafo, f"dloading_d{which}"),
            _central(ac.trafo_loading_percent),
            rtol=0,
            atol=FD_LOADING_TOL_PERCENT_PER_MW,
        )
        np.testing.assert_allclose(
            getattr(sens, f"dext_grid_p_d{which}"),
            _central(ac.ext_grid_p_mw),
            rtol=0,
            atol=FD_EXT_GRID_TOL,
        )
        np.testing.assert_allclose(
            getattr(sens, f"dext_grid_q_d{which}"),
            _central(ac.ext_grid_q_mvar),
            rtol=0,
            atol=FD_EXT_GRID_TOL,
        )
    assert n_sgen < len(net.sgen)


# Bounds asserted below, per perturbation amplitude (each element's p and q scaled by an
# independent factor in [1 - a, 1 + a]) over the night, midday and evening operating points:
# (voltage [pu], loading [percentage points], ext_grid P [MW], from-end branch P/Q [MW/Mvar]).
LINEARISATION_BOUNDS = {
    0.2: (5e-5, 4.0, 5e-3, 1e-2),
    0.5: (3e-4, 35.0, 3e-2, 5e-2),
}


@pytest.mark.parametrize("amplitude", sorted(LINEARISATION_BOUNDS))
def test_linearisation_error_is_bounded(amplitude: float) -> None:
    """Linear prediction vs AC power flow, 200 random perturbations per operating point.

    Measured maxima over night / midday / evening (3 x 200 perturbations, seed 1), with the
    largest AC change from the operating point in brackets:

    - +-20 %: voltage 2.7e-5 pu (of 3.8e-3 pu); loading 1.3 pp lines, 2.2 pp trafos
      (of 12.9 pp); ext_grid P 2.7e-3 MW (of 1.04 MW); from-end branch P/Q 4.6e-3 MW/Mvar.
    - +-50 %: voltage 1.7e-4 pu (of 9.6e-3 pu); loading 23.4 pp lines, 7.7 pp trafos
      (of 33.7 pp); ext_grid P 1.6e-2 MW (of 2.6 MW); from-end branch P/Q 2.8e-2 MW/Mvar.

    Voltage and ext_grid power stay within 2 % of their own change, branch P and Q within a
    few hundredths of a MW. Loading does not: it is |I|-based, and its worst errors come from
    branches whose flow passes near zero (a cable between a PV-rich and a load-rich part of a
    feeder), where |I| has a kink. Hence the optimiser should bound loading through the linear
    P/Q flows and `rating_from_mva` (a polygon), and use the loading gradients only where
    flows are large and keep their direction.
    """
    bound_vm, bound_loading, bound_ext, bound_flow = LINEARISATION_BOUNDS[amplitude]
    net = _park()
    flow = BatchPowerFlow(net)
    rng = np.random.default_rng(1)
    worst = np.zeros(5)
    for name in OPERATING_INTERVALS:
        point = _operating_point(net, name)
        sens = sensitivities(net, **point)
        perturbed = {
            key: value[None, :]
            * (1.0 + rng.uniform(-amplitude, amplitude, (N_PERTURBATIONS, value.size)))
            for key, value in point.items()
        }
        dp, dq = _bus_injections(net, {k: perturbed[k] - point[k][None, :] for k in point})
        ac = flow.run(**perturbed)
        assert ac.converged.all()

        vm = sens.vm_pu_base + dp @ sens.dvm_dp.T + dq @ sens.dvm_dq.T
        line = (
            sens.line.loading_percent_base
            + dp @ sens.line.dloading_dp.T
            + dq @ sens.line.dloading_dq.T
        )
        trafo = (
            sens.trafo.loading_percent_base
            + dp @ sens.trafo.dloading_dp.T
            + dq @ sens.trafo.dloading_dq.T
        )
        ext = sens.ext_grid_p_mw_base + dp @ sens.dext_grid_p_dp + dq @ sens.dext_grid_p_dq
        worst[0] = max(worst[0], np.abs(vm - ac.vm_pu).max())
        worst[1] = max(worst[1], np.abs(line - ac.line_loading_percent).max())
        worst[2] = max(worst[2], np.abs(trafo - ac.trafo_loading_percent).max())
        worst[3] = max(worst[3], np.abs(ext - ac.ext_grid_p_mw).max())
        worst[4] = max(worst[4], _flow_error(net, sens, perturbed, dp, dq))

    assert worst[0] <= bound_vm, f"voltage error {worst[0]:.2e} pu"
    assert worst[1] <= bound_loading, f"line loading error {worst[1]:.2f} pp"
    assert worst[2] <= bound_loading, f"trafo loading error {worst[2]:.2f} pp"
    assert worst[3] <= bound_ext, f"ext_grid P error {worst[3]:.2e} MW"
    assert worst[4] <= bound_flow, f"branch P/Q error {worst[4]:.2e} MW"


def _flow_error(
    net: Any, sens: Sensitivities, perturbed: dict[str, np.ndarray], dp: np.ndarray, dq: np.ndarray
) -> float:
    """Max |linear - AC| of from-end P and Q of lines and trafos over a few perturbations."""
    work = copy.deepcopy(net)
    worst = 0.0
    for row in range(N_FLOW_SAMPLES):
        for key, values in perturbed.items():
            element, column = key.split("_", 1)
            work[element][column] = values[row]
        pp.runpp(work, numba=False)
        for branch, res, p_col, q_col in (
            (sens.line, work.res_line, "p_from_mw", "q_from_mvar"),
            (sens.trafo, work.res_trafo, "p_hv_mw", "q_hv_mvar"),
        ):
            p_lin = (
                branch.p_from_mw_base + branch.dp_from_dp @ dp[row] + branch.dp_from_dq @ dq[row]
            )
            q_lin = (
                branch.q_from_mvar_base + branch.dq_from_dp @ dp[row] + branch.dq_from_dq @ dq[row]
            )
            worst = max(
                worst,
                np.abs(p_lin - res[p_col].to_numpy()).max(),
                np.abs(q_lin - res[q_col].to_numpy()).max(),
            )
    return worst


def test_injection_at_the_slack_bus_goes_to_the_external_grid() -> None:
    net = _park()
    sens = sensitivities(net)
    slack = net.bus.index.get_loc(net.ext_grid["bus"].iloc[0])
    assert sens.dext_grid_p_dp[slack] == -1.0
    assert sens.dext_grid_q_dq[slack] == -1.0
    assert not sens.dvm_dp[:, slack].any()
    assert not sens.dvm_dp[slack].any()  # the slack voltage is fixed
    # Injecting anywhere else displaces about as much import, give or take the loss change.
    others = np.arange(len(net.bus)) != slack
    np.testing.assert_allclose(sens.dext_grid_p_dp[others], -1.0, atol=0.05)


def test_injection_incidence_folds_in_sign_scaling_and_service() -> None:
    net = _park()
    load = injection_incidence(net, "load")
    sgen = injection_incidence(net, "sgen")
    first_load_bus = net.bus.index.get_loc(net.load["bus"].iloc[0])
    first_sgen_bus = net.bus.index.get_loc(net.sgen["bus"].iloc[0])
    assert load[first_load_bus, 0] == -1.0
    assert sgen[first_sgen_bus, 0] == pytest.approx(0.7)
    assert not load[:, 3].any()  # out of service
    assert load.shape == (len(net.bus), len(net.load))
    with pytest.raises(ValueError, match="element='gen'"):
        injection_incidence(net, "gen")


def test_operating_point_takes_one_row_per_element() -> None:
    net = _park()
    with pytest.raises(ValueError, match=r"load_p_mw has shape \(1, 16\); expected \(n_element,\)"):
        sensitivities(net, load_p_mw=np.zeros((1, 16)))


def test_non_converging_operating_point_raises() -> None:
    net = _park()
    with pytest.raises(ValueError, match="does not converge"):
        sensitivities(net, load_p_mw=net.load["p_mw"].to_numpy() * 300.0)


def test_callers_net_is_not_mutated() -> None:
    net = _park()
    before = copy.deepcopy(net)
    sensitivities(net, **_operating_point(net, "night"))
    for table in ("bus", "line", "trafo", "load", "sgen", "storage"):
        pd.testing.assert_frame_equal(net[table], before[table])
    assert net.res_bus.empty


def test_one_bus_net_passes_every_injection_to_the_external_grid() -> None:
    net = pp.create_empty_network()
    bus = pp.create_bus(net, vn_kv=10.0)
    pp.create_ext_grid(net, bus)
    pp.create_load(net, bus, p_mw=1.0, q_mvar=0.2)
    pp.create_sgen(net, bus, p_mw=0.3)
    sens = sensitivities(net)
    np.testing.assert_allclose(sens.ext_grid_p_mw_base, 0.7, atol=1e-12)
    np.testing.assert_allclose(sens.dext_grid_p_dp, [-1.0])
    np.testing.assert_allclose(sens.dext_grid_q_dq, [-1.0])
    np.testing.assert_allclose(sens.dvm_dp, 0.0)
    assert sens.line.index.size == 0 and sens.trafo.index.size == 0
