"""The bundled historical years: complete, physical, and true to each park's ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sites import bundled_sites, columns, load_bundled_site
from sites.history.derive import chinese_day_map, load_history, scale_to_peak_and_energy
from sites.history.series import SeriesKind

ENERGY_RTOL = 1e-6  # scaling is exact up to floating point
PV_FLH_RANGE = (1000.0, 1500.0)  # rooftop fixed-tilt PV in western Shandong, kWh/kWp a year
WIND_FLH_RANGE = (1500.0, 3000.0)  # inland wind sites


@pytest.fixture(scope="module", params=[s.id for s in bundled_sites()])
def history(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return load_history(load_bundled_site(request.param))


def test_history_is_a_full_regular_local_year(history) -> None:  # type: ignore[no-untyped-def]
    frame = history.frame
    assert len(frame) == 35_136
    assert str(frame.index.tz) == "Asia/Shanghai"
    assert (np.diff(frame.index.asi8) == 15 * 60 * 10**9).all()
    assert frame.index[0] == pd.Timestamp("2016-01-01 00:00", tz="Asia/Shanghai")
    assert not frame.isna().any().any()
    assert list(frame.columns) == list(history.series)
    for column, spec in history.series.items():
        if spec.non_negative:
            assert frame[column].min() >= 0, column
    assert set(history.provenance) == set(frame.columns)


def test_ratings_and_annual_energies_hold(history) -> None:  # type: ignore[no-untyped-def]
    site = load_bundled_site(history.site_id)
    frame = history.frame
    for load in site.assets.electric_loads:
        series = frame[columns.load_kw(load.name)]
        assert series.max() <= load.peak_kw * (1 + ENERGY_RTOL)
        assert series.sum() * 0.25 / 1000 == pytest.approx(load.annual_energy_mwh, rel=ENERGY_RTOL)
    for demand in site.assets.heat_demands:
        heat = frame[columns.heat_demand_kw_th(demand.name)]
        assert heat.sum() * 0.25 / 1000 == pytest.approx(
            demand.annual_energy_mwh_th, rel=ENERGY_RTOL
        )
        assert heat.max() <= demand.peak_kw_th
    for pv in site.assets.pv:
        assert frame[columns.pv_kw(pv.name)].max() <= pv.inverter_kva * (1 + ENERGY_RTOL)
    for stream in site.assets.waste_heat:
        assert frame[columns.waste_heat_kw_th(stream.name)].max() <= stream.max_kw_th


def test_full_load_hours_are_plausible(history) -> None:  # type: ignore[no-untyped-def]
    summary = history.annual_summary()
    for column, spec in history.series.items():
        if spec.kind is SeriesKind.PV:
            assert PV_FLH_RANGE[0] < summary.loc[column, "full_load_hours"] < PV_FLH_RANGE[1]
        if spec.kind is SeriesKind.WIND:
            assert WIND_FLH_RANGE[0] < summary.loc[column, "full_load_hours"] < WIND_FLH_RANGE[1]


def test_space_heating_only_in_heating_season() -> None:
    site = load_bundled_site("gaotang-textile")
    history = load_history(site)
    heat = history.frame[columns.heat_demand_kw_th("dyeing_hot_water")]
    winter = heat["2016-01"].mean()
    summer = heat["2016-07"].mean()
    assert winter > summer * 1.05  # the 10 % space-heating share lifts winter


def test_chinese_calendar_reorders_days() -> None:
    """Spring Festival 2016 (8 Feb, a Monday) must look like a Sunday in the load history."""
    day_map = chinese_day_map()
    spring_festival = pd.Timestamp("2016-02-08").dayofyear - 1
    source = pd.Timestamp("2016-01-01") + pd.Timedelta(days=day_map[spring_festival])
    assert source.dayofweek == 6  # a German Sunday stands in
    workday_saturday = pd.Timestamp("2016-02-06").dayofyear - 1  # adjusted working day
    assert (pd.Timestamp("2016-01-01") + pd.Timedelta(days=day_map[workday_saturday])).dayofweek < 5
    ordinary = pd.Timestamp("2016-03-09").dayofyear - 1
    assert day_map[ordinary] == ordinary


def test_history_is_not_shared_between_callers() -> None:
    site = load_bundled_site("gaotang-textile")
    first = load_history(site)
    first.frame.iloc[:, 0] = -1.0
    assert load_history(site).frame.iloc[:, 0].min() >= 0


def test_affine_scaling_hits_peak_and_energy() -> None:
    shape = np.array([0.5, 1.0, 0.75, 0.25])
    scaled = scale_to_peak_and_energy(shape, peak_kw=100.0, energy_kwh=80.0)  # mean 80 kW
    assert scaled.max() == pytest.approx(100.0)
    assert scaled.sum() * 0.25 == pytest.approx(80.0)
