"""Design check: the park's network at its two extremes, before any plan exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from network_models.verify import NetworkVerifier, Verification
from sites import Site, columns
from sites.schema import Fuel


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    injections_kw: dict[str, float]


@dataclass(frozen=True)
class DesignCheck:
    site_id: str
    scenarios: tuple[Scenario, ...]
    verification: Verification

    @property
    def ok(self) -> bool:
        return self.verification.ok

    def table(self) -> pd.DataFrame:
        """One row per scenario: extremes of voltage and loading, grid power, violations."""
        rows = self.verification.intervals.copy()
        counts = self.verification.violations.groupby("interval").size()
        rows["violations"] = [int(counts.get(name, 0)) for name in rows.index]
        return rows


def extreme_scenarios(
    site: Site, injection_columns: list[str], min_load_kw: Mapping[str, float] | None = None
) -> list[Scenario]:
    """Peak load with no generation (battery charging at full), and peak generation with
    minimum load (battery discharging at full) - the two ends a plan can reach."""
    a = site.assets
    zero = {c: 0.0 for c in injection_columns}
    peak_load = dict(zero)
    for load in a.electric_loads:
        peak_load[columns.load_kw(load.name)] = load.peak_kw
    for hp in a.heat_pumps:
        peak_load[columns.heat_pump_kw(hp.name)] = hp.electric_kw
    for boiler in a.boilers:
        if boiler.fuel is Fuel.ELECTRIC:
            peak_load[columns.boiler_kw(boiler.name)] = boiler.capacity_kw_th / boiler.efficiency
    for b in a.batteries:
        peak_load[columns.battery_charge_kw(b.name)] = b.charge_kw

    peak_gen = dict(zero)
    lows = min_load_kw or {}
    for load in a.electric_loads:
        peak_gen[columns.load_kw(load.name)] = float(lows.get(load.name, 0.0))
    for pv in a.pv:
        peak_gen[columns.pv_kw(pv.name)] = min(pv.peak_kw, pv.inverter_kva)
    for w in a.wind:
        peak_gen[columns.wind_kw(w.name)] = w.total_rated_kw
    for b in a.batteries:
        peak_gen[columns.battery_discharge_kw(b.name)] = b.discharge_kw
    return [
        Scenario(
            "peak_load",
            "all loads, heat pumps and electric boilers at rating, no "
            "generation, batteries charging at full power",
            peak_load,
        ),
        Scenario(
            "peak_generation",
            "PV at inverter rating, wind at rated power, batteries "
            "discharging at full power, loads at their minimum",
            peak_gen,
        ),
    ]


def design_check(
    site: Site,
    min_load_kw: Mapping[str, float] | None = None,
    verifier: NetworkVerifier | None = None,
) -> DesignCheck:
    verifier = verifier or NetworkVerifier(site)
    scenarios = extreme_scenarios(site, verifier.park.columns(), min_load_kw)
    frame = pd.DataFrame([s.injections_kw for s in scenarios], index=[s.name for s in scenarios])
    result = verifier.verify(frame)
    return DesignCheck(site.id, tuple(scenarios), result)
