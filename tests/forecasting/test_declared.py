"""The baselines of a park with no history, each against what the site declares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from forecasting import make_forecast
from forecasting.declared import (
    CLEAR_SKY_INDEX,
    DECLARED_METHODS,
    HOURS_PER_YEAR,
    rayleigh_mean_output_kw,
)
from forecasting.pv import clear_sky_cache
from sites import columns, load_bundled_site
from sites.history.climate import normal_temperature_degc
from sites.history.series import expected_series
from sites.schema import WindTurbine

SITE = load_bundled_site("chiping-aluminium")  # every kind of series
ISSUE = pd.Timestamp("2026-01-15 10:00", tz="Asia/Shanghai")
HORIZON = pd.Timedelta(hours=38)
EXACT = 1e-9  # the same arithmetic on both sides
RAYLEIGH_RTOL = 1e-3  # trapezoid rule on a 0.05 m/s grid, speeds cut at 30 m/s


@pytest.fixture(scope="module")
def forecast() -> pd.DataFrame:
    nothing = pd.DataFrame(
        {c: pd.Series(dtype=float) for c in expected_series(SITE)},
        index=pd.DatetimeIndex([], tz="Asia/Shanghai"),
    )
    made = make_forecast(SITE, nothing, ISSUE, HORIZON)
    for info in made.metadata.series:
        kind = expected_series(SITE)[info.column].kind
        assert info.method is DECLARED_METHODS[kind] and info.fallback
        assert info.reason is not None and "history too short: 0.00 days" in info.reason
    return made.frame


def test_loads_are_the_declared_annual_energy_spread_evenly(forecast: pd.DataFrame) -> None:
    for load in SITE.assets.electric_loads:
        p50 = forecast[columns.quantile(columns.load_kw(load.name), 50)]
        assert_allclose(p50, load.annual_energy_mwh * 1000 / HOURS_PER_YEAR, rtol=EXACT)


def test_pv_is_clear_sky_times_the_climatological_index(forecast: pd.DataFrame) -> None:
    index = pd.DatetimeIndex(forecast.index)
    for array in SITE.assets.pv:
        clear_kw = (
            clear_sky_cache(SITE.location, array.tilt_deg, array.azimuth_deg).per_kwp(index)
            * array.peak_kw
        )
        column = columns.pv_kw(array.name)
        p50 = forecast[columns.quantile(column, 50)].to_numpy()
        assert_allclose(p50, np.minimum(clear_kw * CLEAR_SKY_INDEX, array.inverter_kva), atol=EXACT)
        assert (p50[clear_kw == 0] == 0).all() and p50.max() > 0
        p90 = forecast[columns.quantile(column, 90)].to_numpy()
        assert (p90 <= min(array.inverter_kva, array.peak_kw) + EXACT).all()


def test_heat_follows_the_climate_normal_and_waste_heat_the_load(forecast: pd.DataFrame) -> None:
    index = pd.DatetimeIndex(forecast.index)
    temperature = forecast[columns.quantile(columns.AMBIENT_TEMPERATURE_DEGC, 50)]
    assert_allclose(temperature, normal_temperature_degc(index), atol=EXACT)
    for stream in SITE.assets.waste_heat:
        load = forecast[columns.quantile(columns.load_kw(stream.process_load), 50)]
        heat = forecast[columns.quantile(columns.waste_heat_kw_th(stream.name), 50)]
        expected = np.minimum(stream.heat_per_load_kw_th_per_kw * load, stream.max_kw_th)
        assert_allclose(heat, expected, rtol=EXACT)
    (demand,) = SITE.assets.heat_demands
    heat = forecast[columns.quantile(columns.heat_demand_kw_th(demand.name), 50)]
    process_kw_th = demand.process_share * demand.annual_energy_mwh_th * 1000 / HOURS_PER_YEAR
    # January: space heating on top of the process share, colder nights need more
    assert (heat > process_kw_th).all() and (heat <= demand.peak_kw_th).all()
    night, afternoon = heat[index.hour == 5].mean(), heat[index.hour == 14].mean()
    assert night > afternoon


def test_wind_is_the_power_curve_over_a_rayleigh_speed() -> None:
    # a linear curve P = 100 kW per m/s: the mean output is 100 x the mean speed
    curve = [{"wind_speed_m_per_s": v, "power_kw": 100.0 * v} for v in (0.0, 30.0)]
    turbine = WindTurbine(
        name="t", bus="b", power_curve=curve, rated_kw=3000, hub_height_m=100, count=2
    )
    assert_allclose(rayleigh_mean_output_kw(turbine, 5.0), 2 * 500.0, rtol=RAYLEIGH_RTOL)
