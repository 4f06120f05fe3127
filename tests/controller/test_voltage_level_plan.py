"""The planner holds a bus to its voltage level's limits (``network.limits.voltage_levels``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller import columns as pc
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.check import check_plan
from network_models.verify import NetworkVerifier
from sites import Site

HOURS_PER_STEP = 0.25
NO_DEMAND_CHARGE = MeasuredState(month_peak_import_kw=1e6)
LEVEL_VM_MAX_PU = 1.02
VM_TOL_PU = 1e-4  # the AC check allows nothing above the limit; this is solver round-off
BINDING_TOL_PU = 0.003
"""A binding voltage row is planned to within 0.003 pu of its limit: the linear voltage
model over a 2 ohm feeder is exact to about that."""


def _feeder_park(levels: list[dict] | None) -> tuple[Site, pd.DataFrame]:
    """2 MW of PV at the end of a 2 ohm, 8 km 10 kV feeder: exporting it all lifts the
    feeder's end about 4 % above the grid."""
    raw = base_mapping()
    line = raw["network"]["lines"][0]
    line.update(length_km=8.0, r_ohm_per_km=0.25)
    if levels is not None:
        raw["network"]["limits"] = {"voltage_levels": levels}
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 10) & (hours < 13), 2000.0, 0.0)
    return site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=1000.0)


def _feeder_vm_and_curtailed(levels: list[dict] | None) -> tuple[pd.Series, float, Site]:
    site, fc = _feeder_park(levels)
    result = plan(site, fc, NO_DEMAND_CHARGE)
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.metadata.network.ok
    vm = NetworkVerifier(site).verify(result.frame).vm_pu["feeder"]
    sunny = fc["pv_roof_kw_p50"] > 0
    curtailed_kwh = (
        float(result.frame.loc[sunny, pc.pv_curtailed_kw("roof")].sum()) * HOURS_PER_STEP
    )
    return vm[sunny], curtailed_kwh, site


def test_a_tighter_10_kv_level_curtails_pv_to_hold_the_feeder() -> None:
    free_vm, free_curtailed, _ = _feeder_vm_and_curtailed(None)
    assert free_vm.max() > LEVEL_VM_MAX_PU + 0.01  # the default 1.07 pu lets it rise
    level = {"vn_kv": 10, "vm_min_pu": 0.93, "vm_max_pu": LEVEL_VM_MAX_PU}
    vm, curtailed, site = _feeder_vm_and_curtailed([level])
    assert vm.max() <= LEVEL_VM_MAX_PU + VM_TOL_PU
    assert vm.min() >= LEVEL_VM_MAX_PU - BINDING_TOL_PU  # only the excess is curtailed
    assert curtailed > free_curtailed + 250.0  # kWh (about 3 MWh here)
    assert site.network.limits.vm_max_pu == 1.07  # the network-wide pair is not what held it
