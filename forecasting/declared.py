"""Forecasts from what the site declares: the baselines of a park with no history yet.

A new park has its site file and nothing measured. Each series then gets a baseline that
needs no history (the forecast's metadata names it, per series):

- **PV**: the array's pvlib clear-sky output (its tilt and azimuth, the same clear-sky
  model as the fitted PV model) x kWp x ``CLEAR_SKY_INDEX``, the climatological share of
  clear-sky irradiation that reaches the ground; never above the inverter rating. The band
  runs from no sun to clear sky.
- **Wind**: the turbine group's mean output: its power curve (windpowerlib library curve or
  the site's own) averaged over a Rayleigh distribution of the hub-height wind speed, whose
  mean is ``MEAN_WIND_SPEED_10M_M_PER_S`` carried to hub height with the Hellman exponent
  ``HELLMAN_EXPONENT``. The band runs from standstill to the group's rating.
- **Electric load**: the declared annual energy spread evenly over the year
  (``annual_energy_mwh`` / 8,760 h), band +- ``LOAD_BAND_SHARE_OF_PEAK`` of the peak.
- **Heat demand**: the process share of the declared annual heat spread evenly, the
  space-heating share in proportion to the heating degrees (base 18 degC, heating season)
  of the climate-normal temperature; never above the declared peak.
- **Waste heat**: the stream's declared ``heat_per_load_kw_th_per_kw`` x the process load's
  baseline, capped at ``max_kw_th``.
- **Ambient temperature**: the climate normal (seasonal mean and mean daily cycle,
  :func:`sites.history.climate.normal_temperature_degc`), band
  +- ``TEMPERATURE_BAND_DEGC``.

As soon as a day of history exists, the fitted models or their daily-persistence fallback
take over (:mod:`forecasting.fitting`); these baselines also fill any interval where a model
and daily persistence both have nothing to go on (a measurement gap longer than the
forecaster's look-back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from forecasting.models import Method
from forecasting.quantiles import QuantileTable, band_table
from forecasting.timeline import Pairs, Panel
from forecasting.wind import power_curve_kw
from sites import columns
from sites.history.climate import normal_temperature_degc
from sites.history.derive import heating_degrees
from sites.history.series import SeriesKind, SeriesSpec
from sites.schema import PVArray, Site, WindTurbine
from sites.time_step import HOURS_PER_STEP

CLEAR_SKY_INDEX = 0.67
"""Annual ground irradiation over clear-sky irradiation on the North China Plain: about
1,400 kWh/m2 a year measured in western Shandong against about 2,100 kWh/m2 under clear
skies at 36-37 degrees north (an engineering estimate; the fitted model replaces it)."""
MEAN_WIND_SPEED_10M_M_PER_S = 2.8
"""Annual mean wind speed at 10 m of the inland North China Plain (engineering estimate)."""
HELLMAN_EXPONENT = 0.2  # inland terrain with buildings and trees: rougher than open land
RAYLEIGH_SPEEDS_M_PER_S = np.linspace(0.0, 30.0, 601)
HOURS_PER_YEAR = 8760.0
LOAD_BAND_SHARE_OF_PEAK = 0.25
HEAT_BAND_SHARE_OF_PEAK = 0.25
TEMPERATURE_BAND_DEGC = 5.0
"""About 1.3 standard deviations of the day-to-day weather around the normal (3-4 degC)."""

DECLARED_METHODS = {
    SeriesKind.PV: Method.PV_CLEAR_SKY_CLIMATOLOGY,
    SeriesKind.WIND: Method.WIND_POWER_CURVE_CLIMATOLOGY,
    SeriesKind.LOAD: Method.LOAD_DECLARED_ENERGY,
    SeriesKind.HEAT_DEMAND: Method.HEAT_DECLARED_ENERGY,
    SeriesKind.WASTE_HEAT: Method.WASTE_HEAT_DECLARED_RATIO,
    SeriesKind.AMBIENT_TEMPERATURE: Method.TEMPERATURE_CLIMATE_NORMAL,
}


def rayleigh_mean_output_kw(turbine: WindTurbine, mean_speed_m_per_s: float) -> float:
    """Mean output [kW] of the turbine group over a Rayleigh distribution of wind speed."""
    speeds, power_kw = power_curve_kw(turbine)
    v = RAYLEIGH_SPEEDS_M_PER_S
    sigma = mean_speed_m_per_s / np.sqrt(np.pi / 2.0)
    density = v / sigma**2 * np.exp(-(v**2) / (2.0 * sigma**2))
    output = np.interp(v, speeds, power_kw, left=0.0, right=0.0)
    mean = float(np.trapezoid(output * density, v) / np.trapezoid(density, v))
    return mean * turbine.count


def hub_mean_speed_m_per_s(hub_height_m: float) -> float:
    return MEAN_WIND_SPEED_10M_M_PER_S * (hub_height_m / 10.0) ** HELLMAN_EXPONENT


@cache
def _annual_heating_degree_steps(timezone: str) -> float:
    """Heating degrees summed over the 15-minute steps of a climate-normal (non-leap) year."""
    year = pd.date_range("2015-01-01", periods=365 * 96, freq="15min", tz=timezone)
    return float(heating_degrees(normal_temperature_degc(year), year).sum())


@dataclass(frozen=True)
class DeclaredModel:
    """A series forecast from the site's declaration alone (see the module docstring)."""

    site: Site
    spec: SeriesSpec
    upper: float

    @property
    def method(self) -> Method:
        return DECLARED_METHODS[self.spec.kind]

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        if self.spec.kind is SeriesKind.PV:
            array = self._pv()
            return np.asarray(panel.clear_sky[self.spec.column][pairs.target] * array.peak_kw)
        return np.ones(len(pairs))

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        target = pairs.target
        times = panel.index[target]
        kind, asset = self.spec.kind, self.spec.asset
        a = self.site.assets
        n = len(times)
        if kind is SeriesKind.PV:
            array = self._pv()
            clear = panel.clear_sky[self.spec.column][target] * array.peak_kw
            return np.asarray(np.minimum(clear * CLEAR_SKY_INDEX, self.upper))
        if kind is SeriesKind.WIND:
            turbine = next(w for w in a.wind if w.name == asset)
            mean = rayleigh_mean_output_kw(turbine, hub_mean_speed_m_per_s(turbine.hub_height_m))
            return np.full(n, mean)
        if kind is SeriesKind.LOAD:
            load = next(x for x in a.electric_loads if x.name == asset)
            return np.full(n, min(load.annual_energy_mwh * 1000.0 / HOURS_PER_YEAR, load.peak_kw))
        if kind is SeriesKind.AMBIENT_TEMPERATURE:
            return normal_temperature_degc(times)
        if kind is SeriesKind.WASTE_HEAT:
            stream = next(x for x in a.waste_heat if x.name == asset)
            load_kw = upstream[columns.load_kw(stream.process_load)]
            return np.asarray(
                np.minimum(stream.heat_per_load_kw_th_per_kw * load_kw, stream.max_kw_th)
            )
        demand = next(x for x in a.heat_demands if x.name == asset)
        annual_kwh_th = demand.annual_energy_mwh_th * 1000.0
        process_kw_th = demand.process_share * annual_kwh_th / HOURS_PER_YEAR
        temperature = upstream.get(columns.AMBIENT_TEMPERATURE_DEGC)
        if temperature is None:
            temperature = normal_temperature_degc(times)
        degrees = heating_degrees(np.asarray(temperature), times)
        total = _annual_heating_degree_steps(self.site.location.timezone)
        space_kwh_th = demand.space_heating_share * annual_kwh_th * degrees / total
        return np.asarray(
            np.minimum(process_kw_th + space_kwh_th / HOURS_PER_STEP, demand.peak_kw_th)
        )

    def band(self) -> QuantileTable:
        """P10/P90 offsets around P50, in units of :meth:`scale`."""
        kind = self.spec.kind
        if kind is SeriesKind.PV:
            return band_table(-CLEAR_SKY_INDEX, 1.0 - CLEAR_SKY_INDEX)
        if kind is SeriesKind.AMBIENT_TEMPERATURE:
            return band_table(-TEMPERATURE_BAND_DEGC, TEMPERATURE_BAND_DEGC)
        rating = self.spec.rating or 0.0
        if kind is SeriesKind.WIND:
            return band_table(-rating, rating)  # clipped to [0, rating] by the band's bounds
        share = LOAD_BAND_SHARE_OF_PEAK if kind is SeriesKind.LOAD else HEAT_BAND_SHARE_OF_PEAK
        return band_table(-share * rating, share * rating)

    def _pv(self) -> PVArray:
        return next(x for x in self.site.assets.pv if x.name == self.spec.asset)


def description(spec: SeriesSpec) -> str:
    """What the declared baseline of ``spec`` is, for the forecast's metadata."""
    return {
        SeriesKind.PV: f"clear-sky output x climatological clear-sky index {CLEAR_SKY_INDEX}",
        SeriesKind.WIND: "power curve over a climatological Rayleigh wind speed "
        f"({MEAN_WIND_SPEED_10M_M_PER_S} m/s at 10 m, Hellman {HELLMAN_EXPONENT})",
        SeriesKind.LOAD: "declared annual energy spread evenly (annual_energy_mwh / 8,760 h)",
        SeriesKind.HEAT_DEMAND: "declared annual heat: process share even, space heating by "
        "heating degrees of the climate normal",
        SeriesKind.WASTE_HEAT: "declared heat per kW x the process load's baseline",
        SeriesKind.AMBIENT_TEMPERATURE: "climate normal: seasonal mean and mean daily cycle",
    }[spec.kind]
