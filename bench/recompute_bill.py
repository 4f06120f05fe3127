"""Recompute a replay's bill from its per-interval Parquet files, independently of the project.

A check on :mod:`controller.plans.kpi`: it reads the site and tariff-calendar YAML files itself,
looks up each interval's time-of-use band itself and imports nothing from ``controller``, ``sim``,
``forecasting`` or ``network_models``. Energies are kW x 0.25 h per 15-minute interval.

- energy cost = import x the band price of the interval (band from the month and quarter hour
  of its local start; band price = flat price of the voltage class x band multiplier, rounded
  to 4 decimals, unless the site gives band prices);
- demand charge = rate x the highest 15-minute import of each calendar month (local clock),
  summed over the months (nothing billed before the frame is known here);
- degradation = rate x (charge + discharge) / 2, per battery;
- fuel = fuel price x fuel input, per fuel-fired (non-electric) boiler;
- export revenue = export x export price;
- deviation cost = deviation price x ``deviation_outside_band_kw`` x 0.25 (NaN counts as 0);
- lost production = value of lost production x unmet heat;
- total = energy + demand + degradation + fuel - export revenue + deviation + lost production.

A column the frame lacks (e.g. a battery in a no-storage replay) counts as zero.

Usage::

    python bench/recompute_bill.py SITE PARQUET [PARQUET ...] [--kpis KPIS_JSON] [--merit]

SITE is a bundled site id (``sites/data/<id>.yaml``) or the path of a site YAML file; PARQUET
a file or a folder (its ``intervals_*.parquet``). With ``--kpis`` the figures are compared with
a replay's ``kpis.json`` (files matched to policies by name, ``intervals_<slug>.parquet``); the
exit status is 1 if a total differs by more than 1 CNY. A JSON from older code may lack parts
(deviation, lost production): its total is then compared with the sum of the parts it has, and
the missing parts are named. ``--merit`` prints each file's share of the storage value captured,
(no-storage cost - its cost) / (no-storage cost - perfect-foresight cost).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sites" / "data"
HOURS = 0.25
TOLERANCE_CNY = 1.0
SIGNS = {  # part -> its sign in the total
    "energy_cost_cny": 1.0,
    "demand_charge_cny": 1.0,
    "degradation_cost_cny": 1.0,
    "fuel_cost_cny": 1.0,
    "export_revenue_cny": -1.0,
    "deviation_cost_cny": 1.0,
    "lost_production_cny": 1.0,
}
TOTAL = "total_cost_cny"
NO_STORAGE = "no_storage_rule_based"
BOUND = "perfect_foresight_bound"
# TariffConfig defaults (sites/schema/tariff.py)
DEFAULT_EXPORT_PRICE = 0.3949
DEFAULT_DEVIATION_PRICE = 0.10
DEFAULT_LOST_PRODUCTION = 10.0


@dataclass(frozen=True)
class Rates:
    """Everything the bill needs from a site and its tariff calendar."""

    timezone: str
    price_table: np.ndarray  # (12 months, 96 quarter hours) -> energy price [CNY/kWh]
    demand_cny_per_kw_month: float
    export_cny_per_kwh: float
    deviation_cny_per_kwh: float
    lost_production_cny_per_kwh: float
    degradation_cny_per_kwh: dict[str, float]  # battery -> rate per kWh of (charge+discharge)/2
    fuel_cny_per_kwh: dict[str, float]  # fuel-fired boiler -> price per kWh of fuel
    heat_demands: list[str]


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def load_rates(site_id: str) -> Rates:
    """Rates of a bundled site id or a site YAML path."""
    path = Path(site_id)
    if path.suffix not in (".yaml", ".yml"):
        path = DATA / f"{site_id}.yaml"
    site = _read_yaml(path)
    tariff = site["tariff"]
    calendar = _read_yaml(DATA / "tariffs" / f"{tariff.get('calendar', 'shandong-2025')}.yaml")
    voltage = tariff.get("voltage_class")
    band_prices = tariff.get("band_prices_cny_per_kwh") or {
        band: round(calendar["flat_price_cny_per_kwh"][voltage] * multiplier, 4)
        for band, multiplier in calendar["band_multipliers"].items()
    }
    demand = tariff.get("demand_charge_cny_per_kw_month")
    if demand is None:
        demand = calendar["demand_charge_cny_per_kw_month"][voltage]
    table = np.full((12, 96), np.nan)
    for season in calendar["seasons"]:
        for period in season["periods"]:
            quarters = slice(_minutes(period["start"]) // 15, _minutes(period["end"]) // 15)
            for month in season["months"]:
                table[month - 1, quarters] = band_prices[period["band"]]
    if np.isnan(table).any():
        raise ValueError(f"calendar {calendar['id']} leaves quarter hours without a price")
    assets = site.get("assets", {})
    return Rates(
        timezone=site.get("location", {}).get("timezone", "Asia/Shanghai"),
        price_table=table,
        demand_cny_per_kw_month=float(demand),
        export_cny_per_kwh=float(tariff.get("export_price_cny_per_kwh", DEFAULT_EXPORT_PRICE)),
        deviation_cny_per_kwh=float(
            tariff.get("deviation_price_cny_per_kwh", DEFAULT_DEVIATION_PRICE)
        ),
        lost_production_cny_per_kwh=float(
            tariff.get("lost_production_cny_per_kwh", DEFAULT_LOST_PRODUCTION)
        ),
        degradation_cny_per_kwh={
            b["name"]: float(b["degradation_cost_cny_per_kwh"]) for b in assets.get("batteries", [])
        },
        fuel_cny_per_kwh={
            b["name"]: float(b["fuel_price_cny_per_kwh"])
            for b in assets.get("boilers", [])
            if b["fuel"] != "electric"
        },
        heat_demands=[d["name"] for d in assets.get("heat_demands", [])],
    )


def _local_index(frame: pd.DataFrame, timezone: str) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(frame.index)
    index = index.tz_localize(timezone) if index.tz is None else index.tz_convert(timezone)
    if index.has_duplicates or (index.minute % 15 != 0).any() or (index.second != 0).any():
        raise ValueError("index must hold unique interval starts on the quarter hour")
    return index


def bill_by_month(rates: Rates, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar month (``YYYY-MM``, local clock) plus ``total``; one column per
    part and the total cost [CNY]."""
    index = _local_index(frame, rates.timezone)

    def kwh(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.zeros(len(frame))
        return frame[name].to_numpy(dtype=float) * HOURS

    grid_import = kwh("grid_import_kw")
    price = rates.price_table[index.month - 1, (index.hour * 60 + index.minute) // 15]
    parts = pd.DataFrame(
        {
            "energy_cost_cny": grid_import * price,
            "degradation_cost_cny": sum(
                (
                    rate * 0.5 * (kwh(f"battery_{b}_charge_kw") + kwh(f"battery_{b}_discharge_kw"))
                    for b, rate in rates.degradation_cny_per_kwh.items()
                ),
                np.zeros(len(frame)),
            ),
            "fuel_cost_cny": sum(
                (rate * kwh(f"boiler_{b}_fuel_kw") for b, rate in rates.fuel_cny_per_kwh.items()),
                np.zeros(len(frame)),
            ),
            "export_revenue_cny": kwh("grid_export_kw") * rates.export_cny_per_kwh,
            "deviation_cost_cny": np.nan_to_num(kwh("deviation_outside_band_kw"))
            * rates.deviation_cny_per_kwh,
            "lost_production_cny": sum(
                (kwh(f"heat_demand_{d}_unmet_kw_th") for d in rates.heat_demands),
                np.zeros(len(frame)),
            )
            * rates.lost_production_cny_per_kwh,
        },
        index=index,
    )
    months = pd.Index(index.strftime("%Y-%m"), name="month")
    bill = parts.groupby(months).sum()
    peak_kw = pd.Series(grid_import / HOURS, index=index).groupby(months).max()
    bill["demand_charge_cny"] = rates.demand_cny_per_kw_month * peak_kw.clip(lower=0.0)
    bill = bill[list(SIGNS)]
    bill[TOTAL] = (bill * pd.Series(SIGNS)).sum(axis=1)
    bill.loc["total"] = bill.sum()
    return bill


def recompute(site_id: str, frame: pd.DataFrame) -> dict[str, float]:
    """The whole frame's bill: each part and ``total_cost_cny`` [CNY], named as the KPIs."""
    return {k: float(v) for k, v in bill_by_month(load_rates(site_id), frame).loc["total"].items()}


def slug(name: str) -> str:
    """A policy's display name as in its ``intervals_<slug>.parquet`` (sim/report.py)."""
    return name.translate(str.maketrans({" ": "_", "(": "", ")": "", "+": "plus", "-": "_"}))


def compare(ours: dict[str, float], theirs: dict[str, float]) -> tuple[pd.DataFrame, float]:
    """Per part: ours, the JSON's and the difference; and the total's difference, the JSON's
    total set against our sum of the parts the JSON reports."""
    rows = {
        k: (ours[k], theirs.get(k, np.nan), ours[k] - theirs.get(k, np.nan))
        for k in [*SIGNS, TOTAL]
    }
    table = pd.DataFrame(rows, index=["recomputed", "kpis.json", "difference"]).T
    comparable = sum(SIGNS[k] * ours[k] for k in SIGNS if k in theirs)
    return table, comparable - theirs.get(TOTAL, np.nan)


def _parquet_files(path: Path) -> list[Path]:
    return sorted(path.glob("intervals_*.parquet")) if path.is_dir() else [path]


def _money(value: float) -> str:
    return f"{value:,.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", help="bundled site id or site YAML path")
    parser.add_argument(
        "parquet", nargs="+", type=Path, help="intervals_*.parquet files or folders of them"
    )
    parser.add_argument("--kpis", type=Path, help="a replay's kpis.json to compare with")
    parser.add_argument("--merit", action="store_true", help="print storage-value shares")
    args = parser.parse_args(argv)

    rates = load_rates(args.site)
    theirs: dict[str, dict[str, float]] = {}
    if args.kpis is not None:
        kpis = json.loads(args.kpis.read_text(encoding="utf-8"))["kpis"]
        theirs = {f"intervals_{slug(name)}": values for name, values in kpis.items()}
    totals: dict[str, float] = {}
    failed = False
    paths = [p for arg in args.parquet for p in _parquet_files(arg)]
    for path in paths:
        bill = bill_by_month(rates, pd.read_parquet(path))
        totals[path.stem.removeprefix("intervals_")] = float(bill.loc["total", TOTAL])
        print(f"\n== {path.name} [CNY]")
        short = bill.rename(columns=lambda c: c.removesuffix("_cny").removesuffix("_cost"))
        print(short.to_string(float_format=_money))
        if path.stem not in theirs:
            if args.kpis is not None:
                print(f"(no policy in {args.kpis.name} matches {path.name})")
            continue
        ours = {k: float(v) for k, v in bill.loc["total"].items()}
        table, total_diff = compare(ours, theirs[path.stem])
        print(f"-- against {args.kpis}")
        print(table.to_string(float_format=_money, na_rep="(absent)"))
        missing = [k for k in SIGNS if k not in theirs[path.stem]]
        if missing:
            print(f"the JSON has no {', '.join(missing)}: its total is set against the other parts")
        verdict = "OK" if abs(total_diff) <= TOLERANCE_CNY else "MISMATCH"
        print(f"total difference {_money(total_diff)} CNY: {verdict}")
        failed |= verdict != "OK"
    if args.merit:
        if NO_STORAGE not in totals or BOUND not in totals:
            print(f"\n--merit needs intervals_{NO_STORAGE} and intervals_{BOUND} among the inputs")
        else:
            value = totals[NO_STORAGE] - totals[BOUND]
            print(f"\n== share of the storage value captured (value {_money(value)} CNY)")
            for name, cost in totals.items():
                share = (totals[NO_STORAGE] - cost) / value if value else float("nan")
                print(f"{name:45s} {share:8.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
