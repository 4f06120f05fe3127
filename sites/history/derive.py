"""A bundled park's historical year, derived transparently from the benchmark extract.

One year (2016, a leap year: 35,136 quarter hours) on the site's local clock:

- PV per array: the benchmark PV profile's clear-sky index re-shaped onto the park's sun and
  each array's tilt and azimuth (:mod:`sites.history.solar`), times kWp, clipped at the
  inverter rating;
- wind per turbine group: the benchmark wind profile (per unit of rated power, already
  through a power curve) times the group's rated power;
- electric loads: the benchmark load profile on its own wall clock (the source's missing
  spring hour interpolated, its repeated autumn hour dropped), days re-ordered so that
  working days, Saturdays and Sundays/public holidays follow China's 2016 calendar
  (holidays and adjusted working days) instead of Germany's, then scaled affinely so that
  the year reaches the load's ``peak_kw`` and ``annual_energy_mwh``;
- heat demand: the process share follows the process load's shape, the space-heating share
  follows heating degree-hours (base 18 degC) inside Shandong's heating season
  (15 November - 15 March), together the demand's ``annual_energy_mwh_th``;
- waste heat: ``heat_per_load_kw_th_per_kw`` x the process load, capped at ``max_kw_th``;
- ambient temperature: Liaocheng climate normals with a daily cycle
  (:mod:`sites.history.climate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from sites import columns
from sites.errors import DataError
from sites.history.climate import ambient_temperature_degc
from sites.history.extract import load_benchmark_profiles
from sites.history.series import SeriesKind, SeriesSpec, expected_series
from sites.history.solar import pv_per_kwp_at_site
from sites.schema import Site
from sites.time_step import HOURS_PER_STEP, STEPS_PER_DAY

YEAR = 2016
HEATING_BASE_DEGC = 18.0
HEATING_SEASON = ((11, 15), (3, 15))  # (month, day) start and end, inclusive
_MAX_SHIFT_DAYS = 14  # a day of a wanted kind is looked for this far around its date


@dataclass(frozen=True)
class SiteHistory:
    """A site's historical year: the frame, what each column is and where it comes from."""

    site_id: str
    frame: pd.DataFrame
    series: dict[str, SeriesSpec]
    provenance: dict[str, str] = field(default_factory=dict)

    def annual_summary(self) -> pd.DataFrame:
        """Per series: annual energy (MWh or MWh_th), peak, full-load hours, or mean (degC)."""
        rows = []
        for column, spec in self.series.items():
            values = self.frame[column]
            if spec.kind is SeriesKind.AMBIENT_TEMPERATURE:
                rows.append(
                    {
                        "series": column,
                        "unit": spec.unit,
                        "annual_energy_mwh": np.nan,
                        "peak": values.max(),
                        "mean": values.mean(),
                        "full_load_hours": np.nan,
                    }
                )
                continue
            energy_mwh = values.sum() * HOURS_PER_STEP / 1000.0
            rows.append(
                {
                    "series": column,
                    "unit": spec.unit,
                    "annual_energy_mwh": energy_mwh,
                    "peak": values.max(),
                    "mean": values.mean(),
                    "full_load_hours": energy_mwh * 1000.0 / spec.rating if spec.rating else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("series")


def history_index(timezone: str) -> pd.DatetimeIndex:
    return pd.date_range(f"{YEAR}-01-01", periods=366 * STEPS_PER_DAY, freq="15min", tz=timezone)


def load_history(site: Site) -> SiteHistory:
    """The bundled historical year of ``site`` (derived once per site and process)."""
    history = _derive_cached(site.model_dump_json())
    return SiteHistory(
        history.site_id, history.frame.copy(), history.series, dict(history.provenance)
    )


@lru_cache(maxsize=8)
def _derive_cached(site_json: str) -> SiteHistory:
    return derive_history(Site.model_validate_json(site_json))


def derive_history(site: Site) -> SiteHistory:
    profiles = load_benchmark_profiles()
    index = history_index(site.location.timezone)
    specs = expected_series(site)
    mapping = site.history.profiles
    data: dict[str, np.ndarray] = {}
    provenance: dict[str, str] = {}

    def profile(asset: str) -> pd.Series:
        name = mapping.get(asset)
        if name is None or name not in profiles.columns:
            raise DataError(
                f"{site.id}: history.profiles has {name!r} for asset '{asset}'; it must name "
                f"one of the benchmark columns {list(profiles.columns)}"
            )
        return profiles[name]

    loc = site.location
    for pv in site.assets.pv:
        per_kwp = pv_per_kwp_at_site(
            profile(pv.name),
            index,
            loc.latitude,
            loc.longitude,
            loc.altitude_m,
            pv.tilt_deg,
            pv.azimuth_deg,
        )
        data[columns.pv_kw(pv.name)] = np.minimum(per_kwp.to_numpy() * pv.peak_kw, pv.inverter_kva)
        provenance[columns.pv_kw(pv.name)] = (
            f"benchmark {mapping[pv.name]} clear-sky index on the park's clear sky "
            f"(tilt {pv.tilt_deg:g}, azimuth {pv.azimuth_deg:g}) x {pv.peak_kw:g} kWp, "
            f"clipped at {pv.inverter_kva:g} kVA"
        )
    for w in site.assets.wind:
        data[columns.wind_kw(w.name)] = profile(w.name).to_numpy() * w.total_rated_kw
        provenance[columns.wind_kw(w.name)] = (
            f"benchmark {mapping[w.name]} (per unit of rated power) x {w.total_rated_kw:g} kW"
        )
    day_map = chinese_day_map()
    for load in site.assets.electric_loads:
        shape = _remap_days(wall_clock_values(profile(load.name)), day_map)
        data[columns.load_kw(load.name)] = scale_to_peak_and_energy(
            shape, load.peak_kw, load.annual_energy_mwh * 1000.0
        )
        provenance[columns.load_kw(load.name)] = (
            f"benchmark {mapping[load.name]} on its wall clock, days re-ordered to China's 2016 "
            f"calendar, scaled to peak {load.peak_kw:g} kW and {load.annual_energy_mwh:g} MWh/a"
        )
    temperature = ambient_temperature_degc(index, seed=site.history.climate_seed).to_numpy()
    data[columns.AMBIENT_TEMPERATURE_DEGC] = temperature
    provenance[columns.AMBIENT_TEMPERATURE_DEGC] = (
        "Liaocheng climate normals with a daily cycle and a seeded synoptic anomaly "
        f"(seed {site.history.climate_seed})"
    )
    heating = heating_degree_shape(index, temperature)
    for demand in site.assets.heat_demands:
        energy_kwh = demand.annual_energy_mwh_th * 1000.0
        process = np.zeros(len(index))
        if demand.process_load is not None:
            process_load = data[columns.load_kw(demand.process_load)]
            process = process_load / process_load.sum() * energy_kwh * demand.process_share
        space = heating * energy_kwh * demand.space_heating_share
        data[columns.heat_demand_kw_th(demand.name)] = (process + space) / HOURS_PER_STEP
        provenance[columns.heat_demand_kw_th(demand.name)] = (
            f"{demand.process_share:.0%} following {demand.process_load or '-'}, "
            f"{demand.space_heating_share:.0%} following heating degree-hours (base "
            f"{HEATING_BASE_DEGC:g} degC, 15 Nov - 15 Mar); "
            f"{demand.annual_energy_mwh_th:g} MWh_th/a"
        )
    for stream in site.assets.waste_heat:
        load_kw = data[columns.load_kw(stream.process_load)]
        data[columns.waste_heat_kw_th(stream.name)] = np.minimum(
            load_kw * stream.heat_per_load_kw_th_per_kw, stream.max_kw_th
        )
        provenance[columns.waste_heat_kw_th(stream.name)] = (
            f"{stream.heat_per_load_kw_th_per_kw:g} kW_th per kW of {stream.process_load}, "
            f"at most {stream.max_kw_th:g} kW_th"
        )
    frame = pd.DataFrame({c: data[c] for c in specs}, index=index)
    return SiteHistory(site.id, frame, specs, provenance)


def wall_clock_values(profile: pd.Series) -> np.ndarray:
    """A source series (tz-aware, with clock changes) as 35,136 values on its wall clock."""
    naive = pd.Series(profile.to_numpy(), index=pd.DatetimeIndex(profile.index).tz_localize(None))
    naive = naive[~naive.index.duplicated(keep="first")]  # the repeated autumn hour
    full = pd.date_range(f"{YEAR}-01-01", periods=366 * STEPS_PER_DAY, freq="15min")
    return naive.reindex(full).interpolate(limit_direction="both").to_numpy()  # spring gap


def _day_kinds(dates: list[date], rest_days: set[date], work_days: set[date]) -> np.ndarray:
    """0 = working day, 1 = Saturday, 2 = Sunday or public holiday."""
    kinds = np.array([0 if d.weekday() < 5 else (1 if d.weekday() == 5 else 2) for d in dates])
    for i, d in enumerate(dates):
        if d in rest_days:
            kinds[i] = 2
        elif d in work_days:
            kinds[i] = 0
    return kinds


@lru_cache(maxsize=1)
def chinese_day_map() -> tuple[int, ...]:
    """For each day of the year, the source day whose kind matches China's calendar."""
    dates = list(pd.date_range(f"{YEAR}-01-01", periods=366, freq="D").date)
    german = _day_kinds(dates, set(holidays.Germany(years=YEAR)), set())
    china = holidays.China(years=YEAR)
    weekend_work = {d for d in china.weekend_workdays if d.year == YEAR}
    chinese = _day_kinds(dates, set(china), weekend_work)
    mapping = []
    for i, kind in enumerate(chinese):
        if german[i] == kind:
            mapping.append(i)
            continue
        candidates = [
            j
            for off in range(1, _MAX_SHIFT_DAYS + 1)
            for j in (i - off, i + off)
            if 0 <= j < len(dates) and german[j] == kind
        ]
        mapping.append(candidates[0] if candidates else i)
    return tuple(mapping)


def _remap_days(values: np.ndarray, day_map: tuple[int, ...]) -> np.ndarray:
    days = values.reshape(-1, STEPS_PER_DAY)
    return days[list(day_map)].reshape(-1)


def scale_to_peak_and_energy(shape: np.ndarray, peak_kw: float, energy_kwh: float) -> np.ndarray:
    """``a + b * shape`` reaching ``peak_kw`` at the shape's maximum and ``energy_kwh`` in total.

    Where that needs a negative base (the target is peakier than the shape), the shape is
    scaled to the energy alone and clipped at the peak.
    """
    unit = shape / shape.max()
    hours = len(unit) * HOURS_PER_STEP
    mean_target = energy_kwh / hours
    b = (peak_kw - mean_target) / (1.0 - unit.mean()) if unit.mean() < 1.0 else 0.0
    a = peak_kw - b
    if a < 0:
        return np.minimum(unit / unit.mean() * mean_target, peak_kw)
    return a + b * unit


def heating_degrees(temperature_degc: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """Heating degrees [K] per interval: below the base, inside the heating season only
    (month and day on the index's local clock, read with numpy: a forecast calls this on
    every issue)."""
    (m0, d0), (m1, d1) = HEATING_SEASON
    local = index.tz_localize(None) if index.tz is not None else index
    days = local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    month_day = month * 100 + day
    in_season = (month_day >= m0 * 100 + d0) | (month_day <= m1 * 100 + d1)
    return np.asarray(
        np.where(in_season, np.clip(HEATING_BASE_DEGC - temperature_degc, 0.0, None), 0.0)
    )


def heating_degree_shape(index: pd.DatetimeIndex, temperature_degc: np.ndarray) -> np.ndarray:
    """Heating degree-hours inside the heating season, normalised to sum to 1."""
    degrees = heating_degrees(temperature_degc, index)
    total = degrees.sum()
    if total <= 0:
        raise DataError("no heating degree-hours in the heating season; check the temperature")
    return np.asarray(degrees / total)
