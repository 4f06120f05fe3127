"""Voltage limits per voltage level: the AC check and the planner's voltage rows hold each
bus to the limits of its own level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from controller.network.linear import build_linear_network
from controller.network.tightening import row_rhs
from network_models.build import build_network
from network_models.design import design_check
from sites import Site, load_bundled_site, load_site_mapping

HV_LEVEL = {"vn_kv_min": 35, "vm_min_pu": 0.97, "vm_max_pu": 1.07}
MV_LEVEL = {"vn_kv": 10, "vm_min_pu": 0.95, "vm_max_pu": 1.02}  # tighter than the 10 kV rule
RHS_RTOL = 1e-12  # the right-hand side is arithmetic on the same floats


def levelled(levels: list[dict[str, Any]]) -> Site:
    raw = load_bundled_site("chiping-aluminium").model_dump(mode="json", exclude_defaults=True)
    raw["network"]["limits"] = {"voltage_levels": levels}
    return load_site_mapping(raw)


def test_the_ac_check_holds_each_bus_to_its_levels_limits() -> None:
    site = levelled([HV_LEVEL, MV_LEVEL])
    check = design_check(site)
    vm = check.verification.vm_pu  # scenarios x buses
    park = build_network(site)
    low = dict(zip(vm.columns, park.vm_min_pu, strict=True))
    high = dict(zip(vm.columns, park.vm_max_pu, strict=True))
    assert low["hv_110"] == 0.97 and low["mv_a"] == 0.95 and high["f5_wind"] == 1.02
    expected = set()
    for scenario, row in vm.iterrows():
        for bus, value in row.items():
            if value > high[bus]:
                expected.add((scenario, f"bus {bus}", high[bus]))
            if value < low[bus]:
                expected.add((scenario, f"bus {bus}", low[bus]))
    found = check.verification.violations
    found = found[found["quantity"] == "vm_pu"]
    assert set(zip(found["interval"], found["element"], found["limit"], strict=True)) == expected
    # the 10 kV level finds what the network-wide default (0.93..1.07 pu) lets pass
    assert ("peak_generation", "bus f5_wind", 1.02) in expected
    assert ("peak_load", "bus f2_rolling", 0.95) in expected
    default = design_check(load_bundled_site("chiping-aluminium")).verification.violations
    assert not (default["quantity"] == "vm_pu").any()


def test_the_planners_voltage_rows_take_each_buses_limits() -> None:
    site = levelled([HV_LEVEL, {**MV_LEVEL, "vm_max_pu": 1.05}])
    park = build_network(site)
    linear = build_linear_network(site, park)
    positions = {name: k for k, name in enumerate(park.net.bus["name"])}
    np.testing.assert_array_equal(linear.bus_vm_max_pu, park.vm_max_pu)
    assert linear.bus_vm_max_pu[positions["hv_110"]] == 1.07
    assert linear.bus_vm_max_pu[positions["mv_a"]] == 1.05
    horizon = 4
    x0 = np.zeros((horizon, len(linear.columns)))
    vm0 = np.ones((horizon, len(park.net.bus)))
    rhs = row_rhs(
        site, linear, x0, vm0, np.zeros((linear.n_rows, horizon)), horizon, flow_margin=0.0
    )
    kinds = linear.rows_of_kind
    assert kinds["vm_max"].size and kinds["vm_min"].size
    for kind, limits, sign in (
        ("vm_max", linear.bus_vm_max_pu, 1.0),
        ("vm_min", linear.bus_vm_min_pu, -1.0),
    ):
        rows = kinds[kind]
        # at vm = 1 pu and x = 0: a row's room is its own bus's limit less 1 pu
        raw = sign * (limits[linear.positions[rows]] - 1.0)
        expected = np.repeat((raw * linear.scale[rows])[:, None], horizon, axis=1)
        assert rhs[rows] == pytest.approx(expected, rel=RHS_RTOL)
