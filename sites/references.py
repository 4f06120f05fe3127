"""Checks between parts of a site file: names that must exist, a network that is connected.

They run on the raw mapping read from YAML, so they still report a missing bus when some
other part of the file has a wrong type and the typed model could not be built.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sites.errors import ConfigProblem
from sites.history.extract import column_names as benchmark_columns
from sites.schema.assets import AMBIENT
from sites.schema.base import as_name
from sites.schema.network import VoltageLevel

# Asset families whose members sit on an electrical bus.
_ON_BUS = (
    "pv",
    "wind",
    "batteries",
    "heat_pumps",
    "electric_loads",
    "boilers",
    "chp",
    "batch_loads",
    "electrolysers",
    "hydrogen_fuel_cells",
    "recovery_power",
)
_SHARES_OF_LOADS = ("curtailable_loads", "shiftable_loads")
"""Flexible parts of an electric load: each names its load; the shares add to at most 1."""
# Families that deliver heat to a heat demand.
_SUPPLIERS = ("heat_pumps", "thermal_storage", "boilers", "chp")
_VOLTAGE_RTOL = 0.05  # nominal voltages of the PCC bus and the connection may differ by rounding


def _items(raw: Any, key: str) -> list[Mapping[str, Any]]:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _section(raw: Any, key: str) -> Mapping[str, Any]:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _indexed(raw: Any, key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, Mapping):
                yield i, item


class NetworkTopology:
    """Bus names, their nominal voltages and the branches between them."""

    def __init__(self, voltages: dict[str, float], edges: list[tuple[str, str]]) -> None:
        self.voltages = voltages
        self.edges = edges

    def unreachable_from(self, root: str) -> list[str]:
        neighbours: dict[str, set[str]] = defaultdict(set)
        for a, b in self.edges:
            neighbours[a].add(b)
            neighbours[b].add(a)
        seen = {root}
        stack = [root]
        while stack:
            for nxt in neighbours[stack.pop()] - seen:
                seen.add(nxt)
                stack.append(nxt)
        return [name for name in self.voltages if name not in seen]


def described_topology(network: Mapping[str, Any]) -> NetworkTopology:
    voltages = {
        str(b["name"]): float(b.get("vn_kv") or 0.0)
        for b in _items(network, "buses")
        if "name" in b and isinstance(b.get("vn_kv", 0), int | float)
    }
    edges = [(str(x.get("from_bus")), str(x.get("to_bus"))) for x in _items(network, "lines")]
    edges += [(str(x.get("hv_bus")), str(x.get("lv_bus"))) for x in _items(network, "transformers")]
    return NetworkTopology(voltages, edges)


class NotAPandapowerNetwork(ValueError):
    """A file that is not JSON, or JSON that is not a pandapower network."""


def read_pandapower(path: Path) -> Any:
    """The pandapower network of a JSON file; :class:`NotAPandapowerNetwork` saying why not."""
    import json

    import pandapower as pp  # heavy import only where a file network is used

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAPandapowerNetwork(f"the file is not JSON ({exc})") from None
    if not isinstance(raw, Mapping) or raw.get("_module") != "pandapower.auxiliary":
        kind = type(raw).__name__
        raise NotAPandapowerNetwork(
            f"the file is JSON ({kind}) but not a pandapower network (pandapower.to_json "
            "writes one, with '_module': 'pandapower.auxiliary')"
        )
    try:
        net = pp.from_json(str(path))
    except Exception as exc:  # pandapower's own reasons vary by version; all mean "not usable"
        raise NotAPandapowerNetwork(
            f"pandapower cannot read it ({type(exc).__name__}: {exc})"
        ) from None
    if not hasattr(net, "bus"):
        raise NotAPandapowerNetwork("pandapower read it, but it holds no bus table")
    return net


def file_bus_names(net: Any) -> dict[str, int]:
    """Site bus name -> bus index of a pandapower network: each named bus by its name as a
    site writes names (:func:`sites.schema.base.as_name`: ``Bus 3`` is ``bus_3``); a name two
    buses share is left to ``bus_map``."""
    names: dict[str, int] = {}
    shared: set[str] = set()
    for i, n in net.bus["name"].items():
        if not isinstance(n, str) or not n.strip():
            continue
        name = as_name(n)
        if name in names:
            shared.add(name)
        names[name] = int(i)
    return {n: i for n, i in names.items() if n not in shared}


def site_bus_names(net: Any, bus_map: Mapping[str, int]) -> dict[int, str]:
    """Bus index -> the name a site gives it: its ``bus_map`` name, else the file's name
    written as a site name (``Bus 3`` is ``bus_3``), else ``#<index>`` (unnamed, or a name
    two buses share)."""
    names = {i: n for n, i in file_bus_names(net).items() if n not in bus_map}
    names.update({int(i): n for n, i in bus_map.items() if isinstance(i, int)})
    return {int(i): names.get(int(i), f"#{i}") for i in net.bus.index}


def site_branch_names(net: Any, table: str, bus_names: Mapping[int, str]) -> dict[int, str]:
    """Index -> the name a site gives a line (``table='line'``) or transformer (``'trafo'``)
    of a pandapower file: the file's name written as a site name (``T 1`` is ``t_1``), else,
    for an unnamed one or a name shared, its buses' names joined (``hv_35_mv_main``), with
    ``_2``, ``_3`` ... where that is taken too."""
    frame = net[table]
    a, b = ("from_bus", "to_bus") if table == "line" else ("hv_bus", "lv_bus")
    written = {
        int(i): as_name(n) if isinstance(n, str) and n.strip() else None
        for i, n in frame["name"].items()
    }
    counts: dict[str | None, int] = defaultdict(int)
    for n in written.values():
        counts[n] += 1
    taken: set[str] = set()
    names: dict[int, str] = {}
    for i in frame.index:
        own = written[int(i)]
        if own is not None and counts[own] == 1:
            names[int(i)] = own
            taken.add(own)
    for i, row in frame.iterrows():
        if int(i) in names:
            continue
        base = f"{bus_names.get(int(row[a]), row[a])}_{bus_names.get(int(row[b]), row[b])}"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        names[int(i)] = name
        taken.add(name)
    return {int(i): names[int(i)] for i in frame.index}


def transformer_tap_problems(
    net: Any, taps: Mapping[str, Any], bus_map: Mapping[str, int]
) -> dict[str, str]:
    """Each ``transformer_taps`` entry that names no transformer of ``net`` or a position
    its tap changer does not have: site transformer name -> the rule broken."""
    names = site_branch_names(net, "trafo", site_bus_names(net, bus_map))
    by_name = {n: i for i, n in names.items()}
    known = ", ".join(sorted(by_name)) or "none in the file"
    problems: dict[str, str] = {}
    for name, pos in taps.items():
        if name not in by_name:
            problems[name] = f"must name a transformer of the pandapower file ({known})"
            continue
        span = _tap_range(net.trafo.loc[by_name[name]])
        if span is None:
            problems[name] = (
                f"transformer '{name}' has no tap changer in the file (tap_min/tap_max not set)"
            )
            continue
        low, high = span
        if isinstance(pos, bool) or not isinstance(pos, int) or not low <= pos <= high:
            problems[name] = f"must be a tap position of '{name}': an integer {low:g}..{high:g}"
    return problems


def _tap_range(row: Any) -> tuple[float, float] | None:
    """A file transformer's (tap_min, tap_max), or None if it has no tap changer."""
    try:
        low, high = float(row["tap_min"]), float(row["tap_max"])
    except (KeyError, TypeError, ValueError):
        return None
    return None if math.isnan(low) or math.isnan(high) else (low, high)


def std_type_tap_problem(std_type: str, tap_pos: Any) -> str | None:
    """Why ``tap_pos`` is no position of pandapower standard transformer type ``std_type``
    (None if it is one, or if the type is unknown: the catalogue check reports that)."""
    import pandapower as pp  # heavy import only for a site that sets a standard type's tap

    try:
        data = pp.load_std_type(pp.create_empty_network(), std_type, "trafo")
    except Exception:  # pandapower's unknown-type error differs by version
        return None
    span = _tap_range(data)
    if span is None:
        return f"standard type '{std_type}' has no tap changer"
    low, high = span
    if isinstance(tap_pos, bool) or not isinstance(tap_pos, int) or not low <= tap_pos <= high:
        return f"must be a tap position of standard type '{std_type}': {low:g}..{high:g}"
    return None


def voltage_level_problems(
    network: Mapping[str, Any], voltages: Mapping[str, float]
) -> list[tuple[str, Any, str]]:
    """Buses whose nominal voltage no ``network.limits.voltage_levels`` entry covers:
    (field, value, rule) each (entries that do not validate are reported by the schema)."""
    raw = _section(network, "limits").get("voltage_levels")
    if not isinstance(raw, list) or not raw:
        return []
    levels = []
    for entry in raw:
        try:
            levels.append(VoltageLevel.model_validate(entry))
        except ValidationError:
            return []
    given = "; ".join(level.describe() for level in levels)
    return [
        (
            "network.limits.voltage_levels",
            f"bus '{bus}' at {kv:g} kV",
            f"every bus's nominal voltage must fall in one level; the levels given cover {given}",
        )
        for bus, kv in voltages.items()
        if not any(level.covers(kv) for level in levels)
    ]


def bus_map_problems(net: Any, bus_map: Mapping[str, Any]) -> dict[str, str]:
    """Each bus_map entry that names no bus of ``net``: site bus name -> the rule broken."""
    valid = sorted(int(i) for i in net.bus.index)
    shown = ", ".join(str(i) for i in valid[:20]) + (" ..." if len(valid) > 20 else "")
    return {
        name: f"must be a bus index of the pandapower file: one of {shown}"
        for name, idx in bus_map.items()
        if isinstance(idx, bool) or not isinstance(idx, int) or idx not in net.bus.index
    }


def pandapower_topology(net: Any, bus_map: Mapping[str, int]) -> NetworkTopology:
    """Topology of a pandapower network, with buses named as the site names them (entries of
    ``bus_map`` that name no bus of the file are left out: see :func:`bus_map_problems`)."""
    bad = bus_map_problems(net, bus_map)
    bus_map = {name: idx for name, idx in bus_map.items() if name not in bad}
    index_to_name = site_bus_names(net, bus_map)
    voltages = {index_to_name.get(int(i), f"#{i}"): float(v) for i, v in net.bus["vn_kv"].items()}
    edges: list[tuple[str, str]] = []
    for table, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
        frame = net[table]
        frame = frame[frame["in_service"]]
        edges += [
            (index_to_name.get(int(x), f"#{x}"), index_to_name.get(int(y), f"#{y}"))
            for x, y in zip(frame[a], frame[b], strict=True)
        ]
    return NetworkTopology(voltages, edges)


def reference_problems(raw: Any, file: str, base_dir: Path | None) -> list[ConfigProblem]:
    """Every broken reference in a raw site mapping (empty when all is well)."""
    problems: list[ConfigProblem] = []

    def add(field: str, value: Any, rule: str) -> None:
        problems.append(ConfigProblem(file, field, value, rule))

    network = _section(raw, "network")
    topology = _topology(network, file, base_dir, add)
    buses = set(topology.voltages) if topology else set()
    assets = _section(raw, "assets")
    bus_rule = f"must name a bus of the network ({', '.join(sorted(buses)) or 'none defined'})"

    # Unique names: buses, and assets across all families (they become column names).
    _duplicates(_items(network, "buses"), "network.buses", add)
    all_assets = [(fam, i, a) for fam in _families(assets) for i, a in _indexed(assets, fam)]
    seen: dict[str, str] = {}
    for fam, i, a in all_assets:
        name = a.get("name")
        if isinstance(name, str):
            if name in seen:
                add(
                    f"assets.{fam}[{i}].name",
                    name,
                    f"asset names must be unique; also {seen[name]}",
                )
            seen.setdefault(name, f"assets.{fam}")

    if topology is not None:
        for field, value, rule in voltage_level_problems(network, topology.voltages):
            add(field, value, rule)
        for i, line in _indexed(network, "lines"):
            for key in ("from_bus", "to_bus"):
                if line.get(key) not in buses:
                    add(f"network.lines[{i}].{key}", line.get(key), bus_rule)
        for i, trafo in _indexed(network, "transformers"):
            for key in ("hv_bus", "lv_bus"):
                if trafo.get(key) not in buses:
                    add(f"network.transformers[{i}].{key}", trafo.get(key), bus_rule)
            std_type, tap_pos = trafo.get("std_type"), trafo.get("tap_pos")
            if isinstance(std_type, str) and tap_pos is not None:
                tap_rule = std_type_tap_problem(std_type, tap_pos)
                if tap_rule is not None:
                    add(f"network.transformers[{i}].tap_pos", tap_pos, tap_rule)
        for fam in _ON_BUS:
            for i, a in _indexed(assets, fam):
                if "bus" in a and a["bus"] is not None and a["bus"] not in buses:
                    add(f"assets.{fam}[{i}].bus", a["bus"], bus_rule)

        grid = _section(raw, "grid_connection")
        pcc = grid.get("pcc_bus")
        if pcc is not None and pcc not in buses:
            add("grid_connection.pcc_bus", pcc, bus_rule)
        elif pcc is not None:
            kv = grid.get("voltage_kv")
            bus_kv = topology.voltages[pcc]
            if isinstance(kv, int | float) and abs(kv - bus_kv) > _VOLTAGE_RTOL * bus_kv:
                add(
                    "grid_connection.voltage_kv",
                    kv,
                    f"must match the PCC bus '{pcc}' at {bus_kv} kV",
                )
            unreachable = topology.unreachable_from(pcc)
            if unreachable:
                add(
                    "network",
                    sorted(unreachable),
                    f"every bus must be connected to the grid connection '{pcc}' "
                    "through lines or transformers",
                )

    loads = {a.get("name") for a in _items(assets, "electric_loads")}
    waste = {a.get("name"): a for a in _items(assets, "waste_heat")}
    demands = {a.get("name"): a for a in _items(assets, "heat_demands")}
    _heat_pump_problems(assets, waste, demands, add)
    _supply_temperature_problems(assets, demands, add)
    for fam in _SUPPLIERS:
        for i, a in _indexed(assets, fam):
            if fam == "chp" and a.get("supplies") is None:
                continue  # a generator whose heat is not used (its own check says so)
            if a.get("supplies") not in demands:
                add(
                    f"assets.{fam}[{i}].supplies",
                    a.get("supplies"),
                    f"must name a heat demand ({', '.join(map(str, demands)) or 'none defined'})",
                )
    for fam in ("waste_heat", "heat_demands", "recovery_power"):
        for i, a in _indexed(assets, fam):
            if a.get("process_load") is not None and a.get("process_load") not in loads:
                add(
                    f"assets.{fam}[{i}].process_load",
                    a.get("process_load"),
                    f"must name an electric load ({', '.join(map(str, loads))})",
                )
    _load_share_problems(assets, loads, add)
    tanks = {a.get("name") for a in _items(assets, "hydrogen_tanks")}
    for fam in ("electrolysers", "hydrogen_fuel_cells"):
        for i, a in _indexed(assets, fam):
            if a.get("tank") not in tanks:
                add(
                    f"assets.{fam}[{i}].tank",
                    a.get("tank"),
                    f"must name a hydrogen tank ({', '.join(map(str, tanks)) or 'none defined'})",
                )
    names = set(seen)
    profiles = _section(_section(raw, "history"), "profiles")
    for asset, column in profiles.items():
        if asset not in names:
            add(f"history.profiles.{asset}", asset, "must name an asset of the site")
        if column not in benchmark_columns():
            add(
                f"history.profiles.{asset}",
                column,
                f"must name a benchmark profile ({', '.join(benchmark_columns())})",
            )
    return problems


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _heat_pump_problems(
    assets: Mapping[str, Any],
    waste: Mapping[Any, Mapping[str, Any]],
    demands: Mapping[Any, Mapping[str, Any]],
    add: Any,
) -> None:
    """Each heat pump's source exists and is colder than its sink; its sink reaches its
    demand's temperature, unless it is the lower stage of a cascade (another pump names it as
    its source): then its upper stage serves the same demand, hotter than it, and it feeds
    that one stage only, in a chain without cycles."""
    pumps = dict(_indexed(assets, "heat_pumps"))
    by_name = {hp.get("name"): (i, hp) for i, hp in pumps.items()}
    fed_by: dict[Any, list[int]] = defaultdict(list)  # lower stage name -> upper stages
    for i, hp in pumps.items():
        source = hp.get("source")
        if source in by_name and source != hp.get("name"):
            fed_by[source].append(i)
    for i, hp in pumps.items():
        name, source = hp.get("name"), hp.get("source")
        sink = _number(hp.get("sink_temperature_degc"))
        if source == name:
            add(
                f"assets.heat_pumps[{i}].source",
                source,
                "must not name the heat pump itself: give the lower stage of its cascade, a "
                f"waste-heat stream or '{AMBIENT}'",
            )
        elif source != AMBIENT and source not in waste and source not in by_name:
            add(
                f"assets.heat_pumps[{i}].source",
                source,
                f"must be '{AMBIENT}' or a waste-heat stream "
                f"({', '.join(map(str, waste)) or 'none'}), or another heat pump, the lower "
                "stage of a cascade "
                f"({', '.join(str(n) for n in by_name if n != name) or 'none'})",
            )
        if name in fed_by:  # a lower stage: its heat goes to the stage above it
            _lower_stage_problems(i, hp, [pumps[u] for u in fed_by[name]], fed_by[name], add)
        else:
            _reaches_demand(f"assets.heat_pumps[{i}].sink_temperature_degc", sink, hp, demands, add)
        src = waste.get(source)
        src_t = _number(src.get("supply_temperature_degc")) if src else None
        if sink is not None and src_t is not None and src_t >= sink:
            add(
                f"assets.heat_pumps[{i}].sink_temperature_degc",
                sink,
                f"must be above its source '{source}' at {src_t:g} degC",
            )
    for i, hp in pumps.items():
        chain = [hp.get("name")]
        below = hp.get("source")
        while below in by_name and below != chain[-1]:
            if below in chain:
                add(
                    f"assets.heat_pumps[{i}].source",
                    hp.get("source"),
                    "heat pumps in a cascade must not feed each other in a cycle ("
                    + " <- ".join(map(str, [*chain, below]))
                    + "): the lowest stage draws on a waste-heat stream or ambient air",
                )
                break
            chain.append(below)
            below = by_name[below][1].get("source")


def _lower_stage_problems(
    i: int, lower: Mapping[str, Any], uppers: list[Mapping[str, Any]], at: list[int], add: Any
) -> None:
    """The lower stage ``lower`` (at ``assets.heat_pumps[i]``) of the ``uppers`` that name
    it (at ``at``): exactly one upper stage, serving the same demand, with a hotter sink."""
    name = lower.get("name")
    if len(uppers) > 1:
        add(
            f"assets.heat_pumps[{i}].name",
            name,
            "a lower stage of a cascade feeds exactly one upper stage; named as source by "
            + ", ".join(f"assets.heat_pumps[{u}]" for u in at),
        )
        return
    (upper,), (u,) = uppers, at
    if lower.get("supplies") != upper.get("supplies"):
        add(
            f"assets.heat_pumps[{i}].supplies",
            lower.get("supplies"),
            f"must be '{upper.get('supplies')}', the heat demand of its upper stage "
            f"'{upper.get('name')}' (its heat reaches that demand through it)",
        )
    sink, upper_sink = (
        _number(lower.get("sink_temperature_degc")),
        _number(upper.get("sink_temperature_degc")),
    )
    if sink is not None and upper_sink is not None and sink >= upper_sink:
        add(
            f"assets.heat_pumps[{i}].sink_temperature_degc",
            sink,
            f"must be below the {upper_sink:g} degC sink of its upper stage "
            f"'{upper.get('name')}' (assets.heat_pumps[{u}]), which lifts its heat further",
        )


# Heat sources whose delivery temperature must reach their demand's: (family, field).
_SUPPLY_TEMPERATURES = (
    ("thermal_storage", "temperature_degc"),
    ("chp", "heat_temperature_degc"),
    ("boilers", "supply_temperature_degc"),
)


def _supply_temperature_problems(
    assets: Mapping[str, Any], demands: Mapping[Any, Mapping[str, Any]], add: Any
) -> None:
    """A tank, CHP unit or boiler that states its heat's temperature must reach the
    temperature of the heat demand it supplies."""
    for fam, key in _SUPPLY_TEMPERATURES:
        for i, a in _indexed(assets, fam):
            _reaches_demand(f"assets.{fam}[{i}].{key}", _number(a.get(key)), a, demands, add)


def _reaches_demand(
    field: str,
    temperature: float | None,
    source: Mapping[str, Any],
    demands: Mapping[Any, Mapping[str, Any]],
    add: Any,
) -> None:
    """The one rule of every heat source: its heat (at ``temperature``, where given) must
    reach the temperature of the heat demand it ``supplies``."""
    demand = demands.get(source.get("supplies"))
    need = _number(demand.get("temperature_degc")) if demand else None
    if temperature is not None and need is not None and temperature < need:
        add(
            field,
            temperature,
            f"must reach the {need:g} degC of heat demand '{source.get('supplies')}' it supplies",
        )


def _load_share_problems(assets: Mapping[str, Any], loads: set[Any], add: Any) -> None:
    """Each curtailable or shiftable part names an electric load; the parts of one load
    take at most all of it."""
    shares: dict[Any, float] = {}
    for fam in _SHARES_OF_LOADS:
        for i, a in _indexed(assets, fam):
            load = a.get("load")
            if load not in loads:
                add(
                    f"assets.{fam}[{i}].load",
                    load,
                    f"must name an electric load ({', '.join(map(str, loads)) or 'none'})",
                )
                continue
            fraction = a.get("max_fraction")
            if isinstance(fraction, int | float) and 0 < fraction <= 1:  # else: its own rule
                shares[load] = shares.get(load, 0.0) + float(fraction)
                if shares[load] > 1.0 + 1e-9:
                    add(
                        f"assets.{fam}[{i}].max_fraction",
                        fraction,
                        f"the curtailable and shiftable shares of load '{load}' add up to "
                        f"{shares[load]:.3g}; they may take at most all of it (1)",
                    )


def _families(assets: Mapping[str, Any]) -> Iterable[str]:
    return [k for k, v in assets.items() if isinstance(v, list)]


def _duplicates(items: list[Mapping[str, Any]], where: str, add: Any) -> None:
    seen: set[Any] = set()
    for i, item in enumerate(items):
        name = item.get("name")
        if name in seen:
            add(f"{where}[{i}].name", name, "names must be unique")
        seen.add(name)


def _topology(
    network: Mapping[str, Any], file: str, base_dir: Path | None, add: Any
) -> NetworkTopology | None:
    ref = network.get("pandapower_file")
    if ref is None:
        return described_topology(network)
    path = resolve_relative(str(ref), base_dir)
    if not path.is_file():
        add("network.pandapower_file", ref, f"must be an existing pandapower JSON file ({path})")
        return None
    bus_map = network.get("bus_map") or {}
    bus_map = bus_map if isinstance(bus_map, Mapping) else {}
    try:
        net = read_pandapower(path)
    except (NotAPandapowerNetwork, OSError) as exc:
        add("network.pandapower_file", ref, f"must be a pandapower JSON network: {exc}")
        return None
    for name, rule in bus_map_problems(net, bus_map).items():
        add(f"network.bus_map.{name}", bus_map[name], rule)
    good_map = {n: i for n, i in bus_map.items() if n not in bus_map_problems(net, bus_map)}
    taps = network.get("transformer_taps") or {}
    if isinstance(taps, Mapping):
        for name, rule in transformer_tap_problems(net, taps, good_map).items():
            add(f"network.transformer_taps.{name}", taps[name], rule)
    return pandapower_topology(net, bus_map)


def resolve_relative(ref: str, base_dir: Path | None) -> Path:
    path = Path(ref)
    return path if path.is_absolute() or base_dir is None else base_dir / path
