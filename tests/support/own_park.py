"""A park that is not bundled, as a user brings it: a site YAML, a pandapower JSON network
and a history CSV, all written into a folder by the test.

The history is made the way the bundled years are (the benchmark profiles through
``sites.history.derive``), then written on the 2026 clock with UTC offsets and read back
only through the importer: the park's own YAML names no benchmark profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandapower as pp
import pandas as pd
import yaml

from sites import load_site_mapping
from sites.history.derive import load_history

SITE_ID = "dongchang-logistics"
ZONE = "Asia/Shanghai"
SOURCE_YEAR_START = pd.Timestamp("2016-03-01", tz=ZONE)  # the derived year's days used
HISTORY_START = pd.Timestamp("2026-03-01", tz=ZONE)  # the user's clock
NETWORK_FILE = "dongchang_net.json"


def site_mapping() -> dict[str, Any]:
    """A cold-store and logistics park: rooftop PV, a battery, two loads; network from a file."""
    return {
        "id": SITE_ID,
        "name": "Dongchang cold-store logistics park",
        "location": {"latitude": 36.45, "longitude": 115.98, "altitude_m": 34},
        "grid_connection": {
            "pcc_bus": "hv_35",
            "voltage_kv": 35,
            "import_limit_kw": 8000,
            "export_limit_kw": 2000,
            "contracted_demand_kw": 5000,
        },
        "tariff": {"calendar": "shandong-2025", "voltage_class": "35kV"},
        "assets": {
            "pv": [
                {
                    "name": "pv_roof",
                    "bus": "f1_cold_store",
                    "peak_kw": 3000,
                    "tilt_deg": 15,
                    "azimuth_deg": 180,
                    "inverter_kva": 2700,
                }
            ],
            "batteries": [
                {
                    "name": "bess",
                    "bus": "f2_depot",
                    "capacity_kwh": 4000,
                    "charge_kw": 2000,
                    "discharge_kw": 2000,
                    "charge_efficiency": 0.95,
                    "discharge_efficiency": 0.95,
                    "soc_min_fraction": 0.1,
                    "soc_max_fraction": 0.95,
                    "initial_soc_fraction": 0.5,
                    "degradation_cost_cny_per_kwh": 0.05,
                }
            ],
            "electric_loads": [
                {
                    "name": "cold_store",
                    "bus": "f1_cold_store",
                    "peak_kw": 2500,
                    "annual_energy_mwh": 15000,
                    "power_factor": 0.9,
                },
                {
                    "name": "depot",
                    "bus": "f2_depot",
                    "peak_kw": 1500,
                    "annual_energy_mwh": 6000,
                    "power_factor": 0.95,
                    "process": False,
                },
            ],
        },
        "network": {"pandapower_file": NETWORK_FILE},
    }


PROFILES = {"pv_roof": "pv_profile_3_pu", "cold_store": "load_round_the_clock_flat_pu"}
PROFILES["depot"] = "load_mv_commercial_pu"


def write_network(path: Path) -> None:
    """The engineer's pandapower network: buses named as the site names them (no bus_map)."""
    net = pp.create_empty_network()
    hv = pp.create_bus(net, vn_kv=35, name="hv_35")
    mv = pp.create_bus(net, vn_kv=10, name="mv_main")
    f1 = pp.create_bus(net, vn_kv=10, name="f1_cold_store")
    f2 = pp.create_bus(net, vn_kv=10, name="f2_depot")
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net, hv, mv, sn_mva=10, vn_hv_kv=35, vn_lv_kv=10.5, vk_percent=8, vkr_percent=0.5,
        pfe_kw=10, i0_percent=0.4,
    )  # fmt: skip
    cable = "NA2XS2Y 1x185 RM/25 12/20 kV"
    pp.create_line(net, mv, f1, 1.2, std_type=cable)
    pp.create_line(net, mv, f2, 0.6, std_type=cable)
    pp.to_json(net, str(path))


@dataclass(frozen=True)
class OwnPark:
    folder: Path
    site_file: Path
    history_file: Path
    history_days: int

    @property
    def last_day(self) -> pd.Timestamp:
        return HISTORY_START + pd.Timedelta(days=self.history_days - 1)


def history_frame(folder: Path, days: float, start: pd.Timestamp = HISTORY_START) -> pd.DataFrame:
    """``days`` of the park's history from ``start`` (default: 1 March 2026), columns as the
    importer wants them (``folder`` holds the network file)."""
    raw = site_mapping() | {"history": {"profiles": PROFILES, "climate_seed": 5}}
    site = load_site_mapping(raw, base_dir=folder)
    year = load_history(site).frame
    index = pd.DatetimeIndex(year.index)
    end = SOURCE_YEAR_START + pd.Timedelta(days=days)
    chosen = year[(index >= SOURCE_YEAR_START) & (index < end)]
    stamps = pd.date_range(start, periods=len(chosen), freq="15min")
    frame = chosen.reset_index(drop=True).round(3)
    frame.insert(0, "timestamp", [t.isoformat() for t in stamps])
    return frame


def write_own_park(folder: Path, history_days: int) -> OwnPark:
    folder.mkdir(parents=True, exist_ok=True)
    write_network(folder / NETWORK_FILE)
    site_file = folder / f"{SITE_ID}.yaml"
    site_file.write_text(yaml.safe_dump(site_mapping(), sort_keys=False), encoding="utf-8")
    history_file = folder / "history.csv"
    history_frame(folder, history_days).to_csv(history_file, index=False)
    return OwnPark(folder, site_file, history_file, history_days)
