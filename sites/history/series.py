"""Which time series a site's history holds: one per asset that has one, plus the weather."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sites import columns
from sites.schema import Site


class SeriesKind(StrEnum):
    PV = "pv"
    WIND = "wind"
    LOAD = "load"
    HEAT_DEMAND = "heat_demand"
    WASTE_HEAT = "waste_heat"
    AMBIENT_TEMPERATURE = "ambient_temperature"


@dataclass(frozen=True)
class SeriesSpec:
    column: str
    kind: SeriesKind
    asset: str | None
    unit: str
    rating: float | None
    """Installed rating in the series' unit (kWp or kW, kW_th), for full-load hours."""

    @property
    def non_negative(self) -> bool:
        return self.kind is not SeriesKind.AMBIENT_TEMPERATURE


def expected_series(site: Site) -> dict[str, SeriesSpec]:
    a = site.assets
    specs = [
        SeriesSpec(columns.pv_kw(x.name), SeriesKind.PV, x.name, "kW", x.peak_kw) for x in a.pv
    ]
    specs += [
        SeriesSpec(columns.wind_kw(x.name), SeriesKind.WIND, x.name, "kW", x.total_rated_kw)
        for x in a.wind
    ]
    specs += [
        SeriesSpec(columns.load_kw(x.name), SeriesKind.LOAD, x.name, "kW", x.peak_kw)
        for x in a.electric_loads
    ]
    specs += [
        SeriesSpec(
            columns.heat_demand_kw_th(x.name), SeriesKind.HEAT_DEMAND, x.name, "kW_th", x.peak_kw_th
        )
        for x in a.heat_demands
    ]
    specs += [
        SeriesSpec(
            columns.waste_heat_kw_th(x.name), SeriesKind.WASTE_HEAT, x.name, "kW_th", x.max_kw_th
        )
        for x in a.waste_heat
    ]
    specs.append(
        SeriesSpec(
            columns.AMBIENT_TEMPERATURE_DEGC, SeriesKind.AMBIENT_TEMPERATURE, None, "degC", None
        )
    )
    return {s.column: s for s in specs}
