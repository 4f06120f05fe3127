"""A synthetic industrial-park network and random-but-seeded set points, for tests and benches.

The network: an external grid behind a 110/10 kV transformer, a 10 kV busbar with a capacitor
bank and a battery, several radial feeders of 10 kV cables with a factory load at every bus,
rooftop PV on every other bus, a wind turbine at the end of the first feeder, and 10/0.4 kV
transformers feeding low-voltage workshops with their own PV. Values are in pandapower's units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandapower as pp

HV_TRAFO_TYPE = "40 MVA 110/10 kV"
LV_TRAFO_TYPE = "0.63 MVA 10/0.4 kV"
MV_CABLE_TYPE = "NA2XS2Y 1x185 RM/25 6/10 kV"
LV_CABLE_TYPE = "NAYY 4x150 SE"
INTERVALS_PER_DAY = 96


def build_synthetic_park_net(
    n_feeders: int = 3,
    buses_per_feeder: int = 5,
    n_lv_trafos: int = 1,
    sn_mva: float = 1.0,
) -> Any:
    """Build the park network; bus count is 2 + n_feeders * buses_per_feeder + 2 * n_lv_trafos."""
    if n_feeders < 1 or buses_per_feeder < 1:
        raise ValueError(
            f"n_feeders={n_feeders} and buses_per_feeder={buses_per_feeder} must be at least 1"
        )
    if not 0 <= n_lv_trafos <= n_feeders:
        raise ValueError(f"n_lv_trafos={n_lv_trafos} must lie in [0, n_feeders={n_feeders}]")
    net = pp.create_empty_network(name="synthetic park", sn_mva=sn_mva)
    grid = pp.create_bus(net, vn_kv=110.0, name="grid connection")
    busbar = pp.create_bus(net, vn_kv=10.0, name="10 kV busbar")
    pp.create_ext_grid(net, grid, vm_pu=1.02, name="utility")
    pp.create_transformer(net, grid, busbar, std_type=HV_TRAFO_TYPE, tap_pos=-1, name="main")
    pp.create_shunt(net, busbar, q_mvar=-1.0, name="capacitor bank")
    pp.create_storage(net, busbar, p_mw=0.0, max_e_mwh=8.0, q_mvar=0.0, name="battery")

    for feeder in range(n_feeders):
        previous = busbar
        feeder_buses = []
        for position in range(buses_per_feeder):
            bus = pp.create_bus(net, vn_kv=10.0, name=f"F{feeder} B{position}")
            length_km = 0.3 + 0.15 * ((feeder + 2 * position) % 5)
            pp.create_line(
                net,
                previous,
                bus,
                length_km=length_km,
                std_type=MV_CABLE_TYPE,
                name=f"F{feeder} L{position}",
            )
            p_mw = 0.3 + 0.08 * ((3 * feeder + position) % 7)
            pp.create_load(
                net, bus, p_mw=p_mw, q_mvar=0.33 * p_mw, name=f"factory F{feeder}B{position}"
            )
            if position % 2 == 1:
                pp.create_sgen(
                    net, bus, p_mw=0.8, q_mvar=0.0, type="PV", name=f"PV F{feeder}B{position}"
                )
            feeder_buses.append(bus)
            previous = bus
        if feeder == 0:
            pp.create_sgen(net, previous, p_mw=3.0, q_mvar=0.0, type="WP", name="wind F0")
        if feeder < n_lv_trafos:
            lv_bus = pp.create_bus(net, vn_kv=0.4, name=f"LV{feeder} busbar")
            pp.create_transformer(
                net, feeder_buses[0], lv_bus, std_type=LV_TRAFO_TYPE, name=f"LV{feeder}"
            )
            workshop = pp.create_bus(net, vn_kv=0.4, name=f"LV{feeder} workshop")
            pp.create_line(
                net,
                lv_bus,
                workshop,
                length_km=0.08,
                std_type=LV_CABLE_TYPE,
                name=f"LV{feeder} cable",
            )
            pp.create_load(net, workshop, p_mw=0.12, q_mvar=0.04, name=f"workshop LV{feeder}")
            pp.create_sgen(net, workshop, p_mw=0.1, q_mvar=0.0, type="PV", name=f"PV LV{feeder}")
    return net


def synthetic_setpoints(net: Any, n_intervals: int, seed: int) -> dict[str, np.ndarray]:
    """Random-but-seeded 15-minute set points for the net's loads, sgens and storages.

    Loads vary between about 40 % and 110 % of their static value with a day-shift pattern,
    PV follows a clear-sky bell scaled by random cloudiness, wind follows a random walk mapped
    into [0, 1] of rated power, and storages charge or discharge at up to a quarter of their
    energy per hour. Returns arrays keyed like the arguments of `BatchPowerFlow.run`, each
    (n_intervals, n_element).
    """
    rng = np.random.default_rng(seed)
    hour = (np.arange(n_intervals) % INTERVALS_PER_DAY) / 4.0
    shift = np.where((hour >= 6) & (hour < 22), 1.0, 0.55)[:, None]
    load_scale = shift * rng.uniform(0.7, 1.1, (n_intervals, len(net.load)))
    load_p = net.load["p_mw"].to_numpy()[None, :] * load_scale
    load_q = net.load["q_mvar"].to_numpy()[None, :] * load_scale

    sgen_static = net.sgen["p_mw"].to_numpy()[None, :]
    is_pv = (net.sgen["type"] == "PV").to_numpy()[None, :]
    sun = np.clip(np.sin(np.pi * (hour - 6.0) / 12.0), 0.0, None)[:, None]
    clouds = rng.uniform(0.3, 1.0, (n_intervals, len(net.sgen)))
    steps = rng.normal(0.0, 0.08, (n_intervals, len(net.sgen)))
    wind = 0.5 * (1.0 + np.sin(1.0 + np.cumsum(steps, axis=0)))
    sgen_p = sgen_static * np.where(is_pv, sun * clouds, wind)
    sgen_q = np.zeros_like(sgen_p)

    storage_power = net.storage["max_e_mwh"].to_numpy()[None, :] / 4.0
    storage_p = storage_power * rng.uniform(-1.0, 1.0, (n_intervals, len(net.storage)))
    storage_q = np.zeros_like(storage_p)
    return {
        "load_p_mw": load_p,
        "load_q_mvar": load_q,
        "sgen_p_mw": sgen_p,
        "sgen_q_mvar": sgen_q,
        "storage_p_mw": storage_p,
        "storage_q_mvar": storage_q,
    }
