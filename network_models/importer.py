"""A draft site from a pandapower network: its loads, static generators and storage units
become the site's assets, each at its bus with its rating; the network is the file itself.

What pandapower does not hold (a PV array's tilt, a CHP's efficiencies, a load's annual
energy, prices) is filled with the stated assumptions below and listed in the result's
``assumptions``, for the engineer to replace with the park's own figures. Static generators
map by their ``type`` (case and spacing ignored):

| pandapower sgen ``type``            | site asset                                          |
| ----------------------------------- | --------------------------------------------------- |
| PV                                  | ``assets.pv`` (peak and inverter from ``sn_mva``)   |
| WP (wind)                           | ``assets.wind`` (rated power from ``sn_mva``)       |
| CHP, CHP diesel, gas engine/turbine | ``assets.chp`` (gas or diesel, heat unused)         |
| fuel cell, residential fuel cell    | ``assets.chp`` of kind ``fuel_cell`` on gas         |
| diesel                              | ``assets.chp`` of kind ``diesel``                   |

A type not in the table is not imported and is listed in ``left_out``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from network_models.build import KW_PER_MW
from sites import DataError
from sites.references import NotAPandapowerNetwork, file_bus_names, read_pandapower
from sites.schema import GeneratorFuel, GeneratorKind
from sites.schema.base import as_name

HOURS_PER_YEAR = 8760.0
LOAD_FACTOR = 0.5
"""Assumed annual energy of a load: its rating running half of the year's hours."""
PV_TILT_DEG, PV_AZIMUTH_DEG = 25.0, 180.0
PV_DC_AC_RATIO = 1.1
"""Assumed DC peak over inverter rating (pandapower holds only the AC rating)."""
WIND_HUB_HEIGHT_M = 100.0
WIND_CURVE_M_PER_S = ((0.0, 0.0), (3.0, 0.0), (7.0, 0.3), (12.0, 1.0), (25.0, 1.0))
"""A generic power curve (wind speed, share of the rating) for a turbine of unknown type."""
GAS_PRICE_CNY_PER_KWH = 0.37
"""Pipeline gas for industry in Shandong, per kWh (LHV): the bundled parks' boiler gas."""
DIESEL_PRICE_CNY_PER_KWH = 0.80
"""About 8 CNY a litre at 10 kWh a litre."""
CO2_KG_PER_KWH = {GeneratorFuel.GAS: 0.202, GeneratorFuel.DIESEL: 0.267}
ELECTRIC_EFFICIENCY = {
    GeneratorKind.GAS_ENGINE: 0.40,
    GeneratorKind.GAS_TURBINE: 0.33,
    GeneratorKind.FUEL_CELL: 0.45,
    GeneratorKind.DIESEL: 0.38,
}
"""Typical electric efficiencies (LHV) of each kind at full load."""
BATTERY_EFFICIENCY = 0.95
BATTERY_HOURS = 2.0
"""Assumed energy of a storage unit whose file gives none: two hours at its power."""
BATTERY_DEGRADATION_CNY_PER_KWH = 0.05


def _generator_kind(sgen_type: str) -> GeneratorKind | None:
    t = re.sub(r"[^a-z]+", " ", sgen_type.lower()).strip()
    if "fuel cell" in t:
        return GeneratorKind.FUEL_CELL
    if "diesel" in t:
        return GeneratorKind.DIESEL
    if "turbine" in t and "gas" in t:
        return GeneratorKind.GAS_TURBINE
    if t.startswith("chp") or "gas engine" in t:
        return GeneratorKind.GAS_ENGINE
    return None


@dataclass(frozen=True)
class ImportedSite:
    """A site mapping (as a site YAML holds it) and what the engineer must look at."""

    mapping: dict[str, Any]
    assumptions: tuple[str, ...]
    left_out: tuple[str, ...]


def site_from_pandapower(
    path: str | Path,
    site_id: str,
    *,
    network_file: str | None = None,
    name: str | None = None,
    latitude: float = 36.45,
    longitude: float = 115.98,
    altitude_m: float = 35.0,
) -> ImportedSite:
    """Read the pandapower JSON at ``path`` and describe it as a site. ``network_file`` is
    how the site file will name the network (relative to the site file; default ``path``'s
    file name: the YAML next to it). The connection point is the bus of the file's first
    external grid in service."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file (a pandapower JSON network, pandapower.to_json)")
    try:
        net = read_pandapower(path)
    except NotAPandapowerNetwork as exc:
        raise DataError(f"{path}: not a pandapower network: {exc}") from None
    bus_name = {i: n for n, i in file_bus_names(net).items()}
    grids = net.ext_grid[net.ext_grid["in_service"]]
    if grids.empty:
        raise DataError(f"{path}: no external grid in service: the connection point is unknown")
    pcc = int(grids["bus"].iloc[0])
    assumptions: list[str] = []
    left_out: list[str] = []
    taken: set[str] = set()

    def bus_of(row: Any) -> str | None:
        return bus_name.get(int(row["bus"]))

    def unique(text: Any, fallback: str) -> str:
        base = as_name(text) if isinstance(text, str) and text.strip() else fallback
        candidate, k = base, 1
        while candidate in taken:
            k += 1
            candidate = f"{base}_{k}"
        taken.add(candidate)
        return candidate

    assets: dict[str, list[dict[str, Any]]] = {
        "pv": [], "wind": [], "batteries": [], "electric_loads": [], "chp": [],
    }  # fmt: skip
    for i, row in net.sgen[net.sgen["in_service"]].iterrows():
        bus = bus_of(row)
        kva = _rating_kva(row)
        sgen_type = str(row.get("type") or "")
        t = sgen_type.strip().lower()
        label = f"static generator {i} ({row['name']!s}, type {sgen_type!r})"
        if bus is None or kva <= 0:
            left_out.append(f"{label}: {'unnamed bus' if bus is None else 'no rating'}")
            continue
        if t == "pv":
            assets["pv"].append(
                {
                    "name": unique(row["name"], f"pv_{i}"),
                    "bus": bus,
                    "peak_kw": round(kva * PV_DC_AC_RATIO, 3),
                    "tilt_deg": PV_TILT_DEG,
                    "azimuth_deg": PV_AZIMUTH_DEG,
                    "inverter_kva": round(kva, 3),
                }
            )
        elif t in ("wp", "wind"):
            assets["wind"].append(
                {
                    "name": unique(row["name"], f"wind_{i}"),
                    "bus": bus,
                    "rated_kw": round(kva, 3),
                    "hub_height_m": WIND_HUB_HEIGHT_M,
                    "power_curve": [
                        {"wind_speed_m_per_s": v, "power_kw": round(share * kva, 3)}
                        for v, share in WIND_CURVE_M_PER_S
                    ],
                }
            )
        elif (kind := _generator_kind(sgen_type)) is not None:
            fuel = GeneratorFuel.DIESEL if kind is GeneratorKind.DIESEL else GeneratorFuel.GAS
            price = (
                DIESEL_PRICE_CNY_PER_KWH if fuel is GeneratorFuel.DIESEL else GAS_PRICE_CNY_PER_KWH
            )
            assets["chp"].append(
                {
                    "name": unique(row["name"], f"generator_{i}"),
                    "bus": bus,
                    "kind": kind.value,
                    "fuel": fuel.value,
                    "rated_electric_kw": round(kva, 3),
                    "electric_efficiency": ELECTRIC_EFFICIENCY[kind],
                    "fuel_price_cny_per_kwh": price,
                    "emission_factor_kg_per_kwh_fuel": CO2_KG_PER_KWH[fuel],
                }
            )
        else:
            left_out.append(f"{label}: no site asset for this type")
    for i, row in net.storage[net.storage["in_service"]].iterrows():
        bus = bus_of(row)
        power = _storage_power_kw(row)
        capacity = float(row.get("max_e_mwh", math.nan)) * KW_PER_MW
        if not capacity > 0:
            capacity = power * BATTERY_HOURS
            assumptions.append(
                f"batteries: {row['name']!s} has no max_e_mwh: {BATTERY_HOURS:g} h at its power"
            )
        if bus is None or not power > 0:
            left_out.append(f"storage unit {i} ({row['name']!s}): no bus name or no power")
            continue
        assets["batteries"].append(
            {
                "name": unique(row["name"], f"battery_{i}"),
                "bus": bus,
                "capacity_kwh": round(capacity, 3),
                "charge_kw": round(power, 3),
                "discharge_kw": round(power, 3),
                "charge_efficiency": BATTERY_EFFICIENCY,
                "discharge_efficiency": BATTERY_EFFICIENCY,
                "soc_min_fraction": 0.1,
                "soc_max_fraction": 0.95,
                "degradation_cost_cny_per_kwh": BATTERY_DEGRADATION_CNY_PER_KWH,
            }
        )
    for i, row in net.load[net.load["in_service"]].iterrows():
        bus = bus_of(row)
        peak = float(row["p_mw"]) * KW_PER_MW * float(row.get("scaling", 1.0) or 1.0)
        if bus is None or peak <= 0:
            left_out.append(f"load {i} ({row['name']!s}): no bus name or no active power")
            continue
        q = float(row.get("q_mvar", 0.0) or 0.0) * KW_PER_MW
        assets["electric_loads"].append(
            {
                "name": unique(row["name"], f"load_{i}"),
                "bus": bus,
                "peak_kw": round(peak, 3),
                "annual_energy_mwh": round(peak * HOURS_PER_YEAR * LOAD_FACTOR / 1000, 3),
                "power_factor": round(min(max(peak / math.hypot(peak, q), 0.5), 1.0), 4),
            }
        )
    assumptions += _assumptions(assets)
    peak_load = sum(x["peak_kw"] for x in assets["electric_loads"])
    generation = sum(x["inverter_kva"] for x in assets["pv"]) + sum(
        x["rated_kw"] for x in assets["wind"]
    )
    pcc_name = bus_name.get(pcc)
    if pcc_name is None:
        raise DataError(f"{path}: the connection point, bus {pcc}, has no name a site can use")
    pcc_kv = float(net.bus.at[pcc, "vn_kv"])
    mapping: dict[str, Any] = {
        "id": site_id,
        "name": name or f"{site_id} (imported from {path.name})",
        "description": f"Imported from the pandapower network {path.name}.",
        "location": {"latitude": latitude, "longitude": longitude, "altitude_m": altitude_m},
        "grid_connection": {
            "pcc_bus": pcc_name,
            "voltage_kv": pcc_kv,
            "import_limit_kw": round(max(peak_load, 1.0) * 1.2, 3),
            "export_limit_kw": round(generation, 3),
            "contracted_demand_kw": round(max(peak_load, 1.0), 3),
        },
        "tariff": {"calendar": "shandong-2025", "voltage_class": _voltage_class(pcc_kv)},
        "assets": {family: items for family, items in assets.items() if items},
        "network": {"pandapower_file": network_file or path.name},
    }
    assumptions.append(
        "grid_connection: import limit 1.2 x the loads' total, export limit the renewables' "
        "rating, contracted demand the loads' total; tariff: the Shandong calendar"
    )
    if not assets["electric_loads"]:
        raise DataError(f"{path}: no load with a named bus and active power: a site needs one")
    return ImportedSite(mapping, tuple(assumptions), tuple(left_out))


def _rating_kva(row: Any) -> float:
    sn = row.get("sn_mva")
    if sn is not None and not math.isnan(float(sn)) and float(sn) > 0:
        return float(sn) * KW_PER_MW
    return abs(float(row["p_mw"])) * KW_PER_MW


def _storage_power_kw(row: Any) -> float:
    """The larger of its power limits where the file gives them, else its rating."""
    limits = [abs(float(row.get(k, math.nan))) for k in ("max_p_mw", "min_p_mw")]
    limits = [v for v in limits if not math.isnan(v) and v > 0]
    if limits:
        return max(limits) * KW_PER_MW
    return _rating_kva(row)


def _voltage_class(kv: float) -> str:
    if kv >= 220:
        return "220kV"
    if kv >= 110:
        return "110kV"
    if kv >= 35:
        return "35kV"
    return "1-10kV"


def _assumptions(assets: dict[str, list[dict[str, Any]]]) -> list[str]:
    notes = []
    if assets["pv"]:
        notes.append(
            f"pv: tilt {PV_TILT_DEG:g} deg, azimuth {PV_AZIMUTH_DEG:g}, DC peak "
            f"{PV_DC_AC_RATIO:g} x the file's rating"
        )
    if assets["wind"]:
        notes.append(f"wind: a generic power curve, hub height {WIND_HUB_HEIGHT_M:g} m")
    if assets["chp"]:
        notes.append(
            "chp: typical electric efficiencies by kind, fuel at "
            f"{GAS_PRICE_CNY_PER_KWH} (gas) / {DIESEL_PRICE_CNY_PER_KWH} (diesel) CNY/kWh, no "
            "heat used: give heat_efficiency and supplies for a unit whose heat the park uses"
        )
    if assets["batteries"]:
        notes.append(f"batteries: efficiencies {BATTERY_EFFICIENCY}, SoC window 10-95 %")
    notes.append(f"electric_loads: annual energy the peak x {LOAD_FACTOR:g} x 8760 h")
    return notes
