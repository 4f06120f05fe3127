"""The forecast contract: shape, bounds, quantile order, metadata, errors, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import HORIZON, ISSUE, TZ

from forecasting import ForecastModels, Method, WeatherForecast, make_forecast
from forecasting.pv import ClearSkyCache
from sites import columns, load_bundled_site
from sites.columns import quantile
from sites.errors import DataError
from sites.history.derive import load_history
from sites.history.series import SeriesKind, expected_series
from sites.schema import Site

BOUND_ATOL = 1e-9  # kW: clipping is exact up to floating point


def check_contract(site: Site, frame: pd.DataFrame, issue: pd.Timestamp) -> None:
    index = pd.DatetimeIndex(frame.index)
    assert str(index.tz) == TZ
    assert index[0] == issue.ceil("15min")
    assert len(index) == HORIZON / pd.Timedelta(minutes=15)
    assert (np.diff(index.asi8) == 15 * 60 * 10**9).all()
    specs = expected_series(site)
    assert list(frame.columns) == [quantile(c, q) for c in specs for q in (10, 50, 90)]
    assert np.isfinite(frame.to_numpy()).all()
    caps = {columns.pv_kw(a.name): a.inverter_kva for a in site.assets.pv}
    caps |= {columns.wind_kw(w.name): w.total_rated_kw for w in site.assets.wind}
    for column, spec in specs.items():
        p10, p50, p90 = (frame[quantile(column, q)].to_numpy() for q in (10, 50, 90))
        assert (p10 <= p50).all() and (p50 <= p90).all(), column
        if spec.non_negative:
            assert p10.min() >= 0.0, column
        if column in caps:
            assert p90.max() <= caps[column] + BOUND_ATOL, column
    for array in site.assets.pv:
        sun = ClearSkyCache(site.location, array.tilt_deg, array.azimuth_deg).per_kwp(index)
        night = frame.loc[sun == 0.0, quantile(columns.pv_kw(array.name), 90)]
        assert len(night) > 0 and (night == 0.0).all()


def test_forecast_frame_and_metadata(
    site: Site, history: pd.DataFrame, models: ForecastModels
) -> None:
    forecast = models.predict(ISSUE, HORIZON, history)
    check_contract(site, forecast.frame, ISSUE)
    assert forecast.site_id == site.id and forecast.issued_at == ISSUE
    meta = forecast.metadata
    assert [s.column for s in meta.series] == list(expected_series(site))
    assert not meta.fallbacks
    assert meta.info(columns.load_kw("rolling_mill")).method is Method.LOAD_GRADIENT_BOOSTING
    assert meta.info(columns.pv_kw("pv_roof_east")).method is Method.PV_CLEAR_SKY_INDEX
    assert meta.out_of_sample and meta.trained_until <= ISSUE
    assert isinstance(meta.code_version, str) and meta.code_version
    assert meta.quality.findings == ()
    # reusable: the same models give the same forecast again
    pd.testing.assert_frame_equal(models.predict(ISSUE, HORIZON, history).frame, forecast.frame)


def _poison(history: pd.DataFrame, issue: pd.Timestamp, how: str) -> pd.DataFrame:
    poisoned = history.copy()
    future = poisoned.index >= issue
    if how == "nan":
        poisoned.loc[future] = np.nan
    else:
        rng = np.random.default_rng(0)
        poisoned.loc[future] = poisoned.loc[future].to_numpy()[rng.permutation(future.sum())]
    return poisoned


@pytest.mark.parametrize("how", ["nan", "shuffle"])
def test_no_look_ahead_with_fitted_models(
    history: pd.DataFrame, models: ForecastModels, how: str
) -> None:
    clean = models.predict(ISSUE, HORIZON, history).frame
    poisoned = models.predict(ISSUE, HORIZON, _poison(history, ISSUE, how)).frame
    pd.testing.assert_frame_equal(clean, poisoned, check_exact=True)


def test_no_look_ahead_when_fitting_inside() -> None:
    site = load_bundled_site("gaotang-textile")  # fewer series than the shared park: quicker
    history = load_history(site).frame
    issue = pd.Timestamp("2016-01-28 16:00", tz=TZ)  # four weeks: every model, none fallen back
    short = history[history.index < issue + pd.Timedelta(days=3)]
    clean = make_forecast(site, short, issue, HORIZON)
    assert not clean.metadata.fallbacks
    poisoned = make_forecast(site, _poison(short, issue, "shuffle"), issue, HORIZON)
    pd.testing.assert_frame_equal(clean.frame, poisoned.frame, check_exact=True)


def test_an_off_grid_issue_time_uses_only_complete_intervals(
    history: pd.DataFrame, models: ForecastModels
) -> None:
    issue = ISSUE + pd.Timedelta(minutes=7)
    clean = models.predict(issue, HORIZON, history).frame
    assert clean.index[0] == ISSUE + pd.Timedelta(minutes=15)
    poisoned = history.copy()
    poisoned.loc[poisoned.index >= ISSUE] = 1e9  # the 10:00 interval is still running at 10:07
    pd.testing.assert_frame_equal(clean, models.predict(issue, HORIZON, poisoned).frame)


def test_the_callers_frames_are_not_modified(history: pd.DataFrame, models: ForecastModels) -> None:
    before = history.copy()
    weather = _weather(ISSUE)
    weather_before = weather.copy()
    models.predict(ISSUE, HORIZON, history, weather)
    pd.testing.assert_frame_equal(history, before, check_exact=True)
    pd.testing.assert_frame_equal(weather, weather_before, check_exact=True)


def test_a_short_history_falls_back_to_the_baseline_and_says_so(
    site: Site, history: pd.DataFrame
) -> None:
    issue = pd.Timestamp("2016-01-06 10:00", tz=TZ)
    forecast = make_forecast(site, history, issue, HORIZON)
    check_contract(site, forecast.frame, issue)
    fallbacks = forecast.metadata.fallbacks
    assert set(fallbacks) == set(expected_series(site))
    assert all("history too short" in reason for reason in fallbacks.values())
    info = forecast.metadata.info(columns.load_kw("casting_line"))
    assert info.fallback and info.method is Method.BASELINE_DAILY_PERSISTENCE


def test_bad_history_is_reported_and_still_gives_a_valid_forecast(
    site: Site, history: pd.DataFrame, models: ForecastModels
) -> None:
    bad = history[history.index < ISSUE].copy()
    load = columns.load_kw("rolling_mill")
    bad = bad.drop(bad.index[-200:-150])  # a gap of 12.5 h
    bad.iloc[-20:, bad.columns.get_loc(load)] = bad.iloc[-20, bad.columns.get_loc(load)]
    bad = pd.concat([bad, bad.iloc[[-5]]])  # a duplicated timestamp
    forecast = models.predict(ISSUE, HORIZON, bad)
    check_contract(site, forecast.frame, ISSUE)
    counts = {(f.column, str(f.issue)) for f in forecast.metadata.quality.findings}
    assert ("*", "missing timestamp") in counts
    assert ("*", "duplicate timestamp") in counts
    assert (load, "frozen sensor") in counts


def _weather(issue: pd.Timestamp) -> pd.DataFrame:
    index = pd.date_range(issue.floor("h"), periods=50, freq="h", tz=TZ)
    hour = index.hour.to_numpy()
    ghi = np.clip(800 * np.sin(np.pi * (hour - 6) / 12), 0, None)
    return pd.DataFrame(
        {
            "ghi_w_per_m2": ghi,
            "ambient_temperature_degc": 5 + 5 * np.sin(np.pi * (hour - 9) / 12),
            "wind_speed_m_per_s": np.linspace(2, 14, 50),
        },
        index=index,
    )


def test_a_weather_forecast_drives_pv_wind_and_temperature(
    site: Site, history: pd.DataFrame, models: ForecastModels
) -> None:
    weather = _weather(ISSUE)
    forecast = models.predict(ISSUE, HORIZON, history, WeatherForecast(weather, wind_height_m=10))
    check_contract(site, forecast.frame, ISSUE)
    methods = {s.column: s.method for s in forecast.metadata.series}
    specs = expected_series(site)
    for column, spec in specs.items():
        if spec.kind is SeriesKind.PV:
            assert methods[column] is Method.PV_PHYSICAL_WEATHER
        if spec.kind is SeriesKind.WIND:
            assert methods[column] is Method.WIND_POWER_CURVE
    assert methods[columns.AMBIENT_TEMPERATURE_DEGC] is Method.TEMPERATURE_WEATHER
    wind = forecast.p50(columns.wind_kw("wind_park")).to_numpy()
    assert wind[0] < wind[-1]  # the wind picks up through the day
    with pytest.raises(DataError, match="cloud_cover"):
        models.predict(ISSUE, HORIZON, history, weather.assign(cloud_cover=0.5))
    with pytest.raises(DataError, match="must cover"):
        models.predict(ISSUE, HORIZON, history, weather.iloc[:10])


def test_wrong_inputs_are_refused_with_the_field_named(
    site: Site, history: pd.DataFrame, models: ForecastModels
) -> None:
    with pytest.raises(DataError, match="issue_time"):
        models.predict(ISSUE.tz_localize(None), HORIZON, history)
    with pytest.raises(DataError, match="horizon"):
        models.predict(ISSUE, pd.Timedelta(days=8), history)
    with pytest.raises(DataError, match="history.index"):
        make_forecast(site, history.tz_localize(None), ISSUE, HORIZON)
    other = site.model_copy(update={"id": "another-park"})
    with pytest.raises(DataError, match="models"):
        make_forecast(other, history, ISSUE, HORIZON, models=models)
