"""A site as a pandapower network, and which network element each time-series column drives."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pandapower as pp

from sites import ConfigProblem, Site, SiteConfigError, columns
from sites.references import (
    file_bus_names,
    site_branch_names,
    site_bus_names,
    std_type_tap_problem,
    transformer_tap_problems,
)
from sites.schema import Fuel, GeneratorKind
from sites.schema.base import as_name

DEFAULT_VOLTAGE_SETPOINT_PU = 1.0
"""The external grid's voltage at the PCC when neither the site nor its file sets one."""

KW_PER_MW = 1000.0

SGEN_TYPE_OF_KIND = {
    GeneratorKind.GAS_ENGINE: "gas engine",
    GeneratorKind.GAS_TURBINE: "gas turbine",
    GeneratorKind.FUEL_CELL: "fuel cell",
    GeneratorKind.DIESEL: "diesel",
}
"""pandapower's static generator ``type`` of a generator whose heat is unused ("CHP" else)."""


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
    vm_min_pu: tuple[float, ...]
    """Lower voltage limit of each bus, in ``net.bus`` order (its voltage level's)."""
    vm_max_pu: tuple[float, ...]
    """Upper voltage limit of each bus, in ``net.bus`` order."""

    def columns(self) -> list[str]:
        return [i.column for i in self.injections]

    def bus_name(self, index: int) -> str:
        """The site's name of bus ``index`` (the built net carries the site's names)."""
        return str(self.net.bus.at[index, "name"])


def _add_flexible(
    site: Site,
    injections: list[Injection],
    element: dict[str, int],
    add_load: Callable[[str, str, float, float, str], int],
) -> None:
    """Flexible process loads: a batch is a load of its own at its bus; a curtailable or
    shiftable share sets its electric load's element (shed and moved down with -1, moved
    up with +1, at the load's power factor)."""
    a = site.assets
    for batch in a.batch_loads:
        add_load(
            columns.batch_kw(batch.name), batch.bus, batch.max_kw, batch.power_factor, batch.name
        )
    pf = {x.name: x.power_factor for x in a.electric_loads}
    shares = [(columns.curtailed_kw(x.name), x.load, -1.0) for x in a.curtailable_loads]
    for x in a.shiftable_loads:
        shares += [(columns.shift_down_kw(x.name), x.load, -1.0)]
        shares += [(columns.shift_up_kw(x.name), x.load, 1.0)]
    for column, load, sign in shares:
        q = _q_per_p(pf[load])
        injections.append(Injection(column, Element.LOAD, element[load], sign, q))


def _q_per_p(power_factor: float) -> float:
    return math.tan(math.acos(power_factor))


def build_network(site: Site) -> ParkNetwork:
    """Build the park's pandapower network (all injections zero; the time series set them)."""
    if site.network.pandapower_file is not None:
        net, bus_index, (vm_pu, va_degree) = _from_file(site)
    else:
        net, bus_index = _from_description(site)
        vm_pu, va_degree = DEFAULT_VOLTAGE_SETPOINT_PU, 0.0
    pcc = bus_index[site.grid_connection.pcc_bus]
    setpoint = site.grid_connection.voltage_setpoint_pu
    pp.create_ext_grid(
        net,
        pcc,
        vm_pu=setpoint if setpoint is not None else vm_pu,
        va_degree=va_degree,
        name="grid_connection",
    )
    injections: list[Injection] = []
    a = site.assets

    def add_sgen(column: str, bus: str, sn_kva: float, name: str, kind: str) -> None:
        idx = pp.create_sgen(
            net, bus_index[bus], p_mw=0.0, sn_mva=sn_kva / KW_PER_MW, name=name, type=kind
        )
        injections.append(Injection(column, Element.SGEN, int(idx)))

    def add_load(column: str, bus: str, peak_kw: float, pf: float, name: str) -> int:
        idx = pp.create_load(
            net, bus_index[bus], p_mw=0.0, sn_mva=peak_kw / pf / KW_PER_MW, name=name
        )
        injections.append(Injection(column, Element.LOAD, int(idx), q_per_p=_q_per_p(pf)))
        return int(idx)

    for pv in a.pv:
        add_sgen(columns.pv_kw(pv.name), pv.bus, pv.inverter_kva, pv.name, "PV")
    for w in a.wind:
        add_sgen(columns.wind_kw(w.name), w.bus, w.total_rated_kw, w.name, "WP")
    for chp in a.chp:  # dispatchable generators inject at unity power factor, as PV and wind
        kind = SGEN_TYPE_OF_KIND[chp.kind] if chp.supplies is None else "CHP"
        add_sgen(columns.chp_kw(chp.name), chp.bus, chp.rated_electric_kw, chp.name, kind)
    for r in a.recovery_power:
        add_sgen(columns.recovery_kw(r.name), r.bus, r.rated_kw, r.name, r.kind.value)
    element = {
        load.name: add_load(
            columns.load_kw(load.name), load.bus, load.peak_kw, load.power_factor, load.name
        )
        for load in a.electric_loads
    }
    _add_flexible(site, injections, element, add_load)
    for e in a.electrolysers:
        add_load(columns.electrolyser_kw(e.name), e.bus, e.rated_kw, e.power_factor, e.name)
    for cell in a.hydrogen_fuel_cells:
        kind = SGEN_TYPE_OF_KIND[GeneratorKind.FUEL_CELL]
        add_sgen(columns.hydrogen_fuel_cell_kw(cell.name), cell.bus, cell.rated_kw, cell.name, kind)
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
    limits = [site.network.limits.for_voltage(float(kv)) for kv in net.bus["vn_kv"]]
    return ParkNetwork(
        site.id,
        net,
        bus_index,
        tuple(injections),
        pcc,
        tuple(low for low, _ in limits),
        tuple(high for _, high in limits),
    )


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
    for k, t in enumerate(site.network.transformers):
        common = {
            "hv_bus": bus_index[t.hv_bus],
            "lv_bus": bus_index[t.lv_bus],
            "name": t.name,
            "parallel": t.parallel,
        }
        if t.std_type is not None:
            if t.tap_pos is not None:
                _check_std_type_tap(site.id, k, t.std_type, t.tap_pos)
                common["tap_pos"] = t.tap_pos
            pp.create_transformer(net, std_type=t.std_type, **common)
        else:
            if t.tap_pos is not None or t.tap_changer:
                tap_pos = t.tap_pos if t.tap_pos is not None else t.tap_neutral
                common.update(t.tap_changer, tap_pos=tap_pos)
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


def _check_std_type_tap(site_id: str, k: int, std_type: str, tap_pos: int) -> None:
    """A standard type's tap changer must have the position asked for (the site check says
    so when the site is loaded from a file; a site built in code is checked here)."""
    rule = std_type_tap_problem(std_type, tap_pos)
    if rule is not None:
        field = f"network.transformers[{k}].tap_pos"
        raise SiteConfigError([ConfigProblem(site_id, field, tap_pos, rule)])


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
    carried = _carried_over(site, net)
    for table, label in _REPLACED_TABLES.items():
        frame = net[table]
        frame = frame[[(table, int(i)) not in carried for i in frame.index]]
        if len(frame):
            total_mw = float(frame["p_mw"].abs().sum()) if "p_mw" in frame else float("nan")
            names = ", ".join(str(n) for n in frame["name"].head(5) if isinstance(n, str))
            lines.append(
                f"{path}: {len(frame)} {label} ({total_mw:,.3f} MW{'; ' + names if names else ''}) "
                "left out: only the site's assets are planned"
            )
    elsewhere = net.ext_grid[net.ext_grid["bus"] != _pcc_index(site, net)]
    if len(elsewhere) > 0:
        lines.append(
            f"{path}: {len(elsewhere)} external grid(s) away from the connection point left "
            f"out: the site's connection point is the only one (grid_connection.pcc_bus = "
            f"{site.grid_connection.pcc_bus})"
        )
    return tuple(lines)


_FAMILIES_OF_TABLE = {
    "load": ("electric_loads",),
    "sgen": ("pv", "wind", "chp"),
    "storage": ("batteries",),
}


def _carried_over(site: Site, net: pp.pandapowerNet) -> set[tuple[str, int]]:
    """(table, index) of the file's elements the site carries as assets: an asset of the
    matching family at the same bus with the element's name written as a site name (as
    :func:`network_models.importer.site_from_pandapower` names them)."""
    bus_index = file_bus_names(net)
    bus_index.update(site.network.bus_map)
    found: set[tuple[str, int]] = set()
    for table, families in _FAMILIES_OF_TABLE.items():
        assets = {
            (x.name, bus_index.get(x.bus))
            for family in families
            for x in getattr(site.assets, family)
        }
        for i, row in net[table].iterrows():
            if isinstance(row["name"], str) and (as_name(row["name"]), int(row["bus"])) in assets:
                found.add((table, int(i)))
    return found


def _pcc_index(site: Site, net: pp.pandapowerNet) -> int:
    bus_index = file_bus_names(net)
    bus_index.update(site.network.bus_map)
    return bus_index[site.grid_connection.pcc_bus]


def _from_file(
    site: Site,
) -> tuple[pp.pandapowerNet, dict[str, int], tuple[float, float]]:
    """The engineer's own network; its loads, generators and grid connections are replaced
    by the site's assets and connection point, its buses, lines and transformers kept with
    their tap positions (``network.transformer_taps`` overrides them by name). Returns the
    net, the site's bus names and the (vm_pu, va_degree) of the file's external grid at the
    connection point (1.0, 0.0 if it has none there). Bus names were resolved against the
    file when the site was loaded; buses, lines and transformers are renamed as the site
    names them, so every report speaks the site's names."""
    assert site.network.pandapower_file is not None
    net = pp.from_json(site.network.pandapower_file)
    pcc = _pcc_index(site, net)
    grid = net.ext_grid[(net.ext_grid["bus"] == pcc) & net.ext_grid["in_service"]]
    setpoint = (DEFAULT_VOLTAGE_SETPOINT_PU, 0.0)
    if len(grid):
        setpoint = (float(grid["vm_pu"].iloc[0]), float(grid["va_degree"].iloc[0]))
    for table in ("load", "sgen", "storage", "gen", "ext_grid"):
        if len(net[table]):
            net[table] = net[table].iloc[0:0]
    bus_index = file_bus_names(net)  # "Bus 3" is bus_3, as the site's names are written
    bus_index.update(site.network.bus_map)
    bus_names = site_bus_names(net, site.network.bus_map)
    trafo_names = site_branch_names(net, "trafo", bus_names)
    line_names = site_branch_names(net, "line", bus_names)
    taps = site.network.transformer_taps
    bad = transformer_tap_problems(net, taps, site.network.bus_map)
    if bad:  # the site check reports these for a site loaded from a file
        raise SiteConfigError(
            [
                ConfigProblem(site.id, f"network.transformer_taps.{name}", taps[name], rule)
                for name, rule in bad.items()
            ]
        )
    by_name = {name: i for i, name in trafo_names.items()}
    for name, tap_pos in taps.items():
        net.trafo.loc[by_name[name], "tap_pos"] = tap_pos
    net.bus["name"] = [bus_names[int(i)] for i in net.bus.index]
    net.line["name"] = [line_names[int(i)] for i in net.line.index]
    net.trafo["name"] = [trafo_names[int(i)] for i in net.trafo.index]
    return net, bus_index, setpoint
