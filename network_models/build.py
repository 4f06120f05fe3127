"""A site as a pandapower network, and which network element each time-series column drives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import pandapower as pp

from sites import Site, columns
from sites.references import file_bus_names
from sites.schema import Fuel

KW_PER_MW = 1000.0


class Element(StrEnum):
    LOAD = "load"
    SGEN = "sgen"
    STORAGE = "storage"


@dataclass(frozen=True)
class Injection:
    """A column of kW values and the pandapower element it sets.

    ``sign`` is +1 or -1: a battery's charge column sets storage p positive (consumption),
    its discharge column negative. ``q_per_p`` gives reactive power from the power factor.
    """

    column: str
    element: Element
    index: int
    sign: float = 1.0
    q_per_p: float = 0.0


@dataclass(frozen=True)
class ParkNetwork:
    site_id: str
    net: pp.pandapowerNet
    bus_index: dict[str, int]
    injections: tuple[Injection, ...]
    pcc_bus: int

    def columns(self) -> list[str]:
        return [i.column for i in self.injections]

    def bus_name(self, index: int) -> str:
        names = {v: k for k, v in self.bus_index.items()}
        return names.get(index, f"bus {index}")


def _q_per_p(power_factor: float) -> float:
    return math.tan(math.acos(power_factor))


def build_network(site: Site) -> ParkNetwork:
    """Build the park's pandapower network (all injections zero; the time series set them)."""
    if site.network.pandapower_file is not None:
        net, bus_index = _from_file(site)
    else:
        net, bus_index = _from_description(site)
    pcc = bus_index[site.grid_connection.pcc_bus]
    pp.create_ext_grid(net, pcc, vm_pu=1.0, name="grid_connection")
    injections: list[Injection] = []
    a = site.assets

    def add_sgen(column: str, bus: str, sn_kva: float, name: str) -> None:
        idx = pp.create_sgen(net, bus_index[bus], p_mw=0.0, sn_mva=sn_kva / KW_PER_MW, name=name)
        injections.append(Injection(column, Element.SGEN, int(idx)))

    def add_load(column: str, bus: str, peak_kw: float, pf: float, name: str) -> None:
        idx = pp.create_load(
            net, bus_index[bus], p_mw=0.0, sn_mva=peak_kw / pf / KW_PER_MW, name=name
        )
        injections.append(Injection(column, Element.LOAD, int(idx), q_per_p=_q_per_p(pf)))

    for pv in a.pv:
        add_sgen(columns.pv_kw(pv.name), pv.bus, pv.inverter_kva, pv.name)
    for w in a.wind:
        add_sgen(columns.wind_kw(w.name), w.bus, w.total_rated_kw, w.name)
    for load in a.electric_loads:
        add_load(columns.load_kw(load.name), load.bus, load.peak_kw, load.power_factor, load.name)
    for hp in a.heat_pumps:
        add_load(columns.heat_pump_kw(hp.name), hp.bus, hp.electric_kw, hp.power_factor, hp.name)
    for boiler in a.boilers:
        if boiler.fuel is Fuel.ELECTRIC and boiler.bus is not None:
            kw = boiler.capacity_kw_th / boiler.efficiency
            add_load(columns.boiler_kw(boiler.name), boiler.bus, kw, 1.0, boiler.name)
    for b in a.batteries:
        idx = int(
            pp.create_storage(
                net,
                bus_index[b.bus],
                p_mw=0.0,
                max_e_mwh=b.capacity_kwh / KW_PER_MW,
                sn_mva=max(b.charge_kw, b.discharge_kw) / KW_PER_MW,
                name=b.name,
            )
        )
        injections.append(Injection(columns.battery_charge_kw(b.name), Element.STORAGE, idx, 1.0))
        injections.append(
            Injection(columns.battery_discharge_kw(b.name), Element.STORAGE, idx, -1.0)
        )
    return ParkNetwork(site.id, net, bus_index, tuple(injections), pcc)


def _from_description(site: Site) -> tuple[pp.pandapowerNet, dict[str, int]]:
    net = pp.create_empty_network(name=site.id)
    bus_index = {
        b.name: int(pp.create_bus(net, vn_kv=b.vn_kv, name=b.name)) for b in site.network.buses
    }
    for line in site.network.lines:
        common = {
            "from_bus": bus_index[line.from_bus],
            "to_bus": bus_index[line.to_bus],
            "length_km": line.length_km,
            "name": line.name,
            "parallel": line.parallel,
        }
        if line.std_type is not None:
            pp.create_line(net, std_type=line.std_type, **common)
        else:
            pp.create_line_from_parameters(
                net,
                r_ohm_per_km=line.r_ohm_per_km,
                x_ohm_per_km=line.x_ohm_per_km,
                c_nf_per_km=line.c_nf_per_km,
                max_i_ka=line.max_i_ka,
                **common,
            )
    for t in site.network.transformers:
        common = {
            "hv_bus": bus_index[t.hv_bus],
            "lv_bus": bus_index[t.lv_bus],
            "name": t.name,
            "parallel": t.parallel,
        }
        if t.std_type is not None:
            pp.create_transformer(net, std_type=t.std_type, **common)
        else:
            pp.create_transformer_from_parameters(
                net,
                sn_mva=t.sn_mva,
                vn_hv_kv=t.vn_hv_kv,
                vn_lv_kv=t.vn_lv_kv,
                vk_percent=t.vk_percent,
                vkr_percent=t.vkr_percent,
                pfe_kw=t.pfe_kw,
                i0_percent=t.i0_percent,
                **common,
            )
    return net, bus_index


_REPLACED_TABLES = {
    "load": "load(s)",
    "sgen": "static generator(s)",
    "gen": "generator(s)",
    "storage": "storage unit(s)",
}


def dropped_elements(site: Site) -> tuple[str, ...]:
    """What of the site's pandapower file the site does not describe and the network built
    for it leaves out (the site's own assets and connection point replace them): one line per
    kind, with their total MW, for ``validate`` and ``network check`` to warn about."""
    if site.network.pandapower_file is None:
        return ()
    path = site.network.pandapower_file
    net = pp.from_json(path)
    lines = []
    for table, label in _REPLACED_TABLES.items():
        frame = net[table]
        if len(frame):
            total_mw = float(frame["p_mw"].abs().sum()) if "p_mw" in frame else float("nan")
            names = ", ".join(str(n) for n in frame["name"].head(5) if isinstance(n, str))
            lines.append(
                f"{path}: {len(frame)} {label} ({total_mw:,.3f} MW{'; ' + names if names else ''}) "
                "left out: only the site's assets are planned"
            )
    if len(net.ext_grid) > 0:
        lines.append(
            f"{path}: {len(net.ext_grid)} external grid(s) replaced by the site's connection "
            f"point (grid_connection.pcc_bus = {site.grid_connection.pcc_bus})"
        )
    return tuple(lines)


def _from_file(site: Site) -> tuple[pp.pandapowerNet, dict[str, int]]:
    """The engineer's own network; its loads, generators and grid connections are replaced
    by the site's assets and connection point, its buses, lines and transformers kept.
    Bus names were resolved against the file when the site was loaded."""
    assert site.network.pandapower_file is not None
    net = pp.from_json(site.network.pandapower_file)
    for table in ("load", "sgen", "storage", "gen", "ext_grid"):
        if len(net[table]):
            net[table] = net[table].iloc[0:0]
    bus_index = file_bus_names(net)  # "Bus 3" is bus_3, as the site's names are written
    bus_index.update(site.network.bus_map)
    return net, bus_index
