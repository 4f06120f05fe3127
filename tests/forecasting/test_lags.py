"""Features read only what was observed before the origin, whatever comes after."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.anomaly import ClimatologySettings, fit_climatology_blend
from forecasting.baselines import (
    Baseline,
    anchored_fallback_forecast,
    baseline_forecast,
    fallback_forecast,
)
from forecasting.calendar import calendar_arrays
from forecasting.lags import last_valid, periodic_lag, similar_days, window_mean
from forecasting.timeline import make_pairs

DAYS = 30
STEPS = DAYS * 96


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(STEPS)
    return 10 + np.sin(2 * np.pi * t / 96) + rng.normal(0, 0.3, STEPS)


def _poisoned(x: np.ndarray, origin: int) -> np.ndarray:
    out = x.copy()
    out[origin:] = np.random.default_rng(2).permutation(out[origin:]) * 1e6
    return out


@pytest.mark.parametrize("origin", [10 * 96, 10 * 96 + 37, 20 * 96 + 95])
def test_features_ignore_everything_from_the_origin_on(series: np.ndarray, origin: int) -> None:
    index = pd.date_range("2016-03-01", periods=STEPS, freq="15min", tz="Asia/Shanghai")
    cal = calendar_arrays(index)
    poisoned = _poisoned(series, origin)
    target = origin + np.arange(192)
    o = np.full(len(target), origin)
    for x in (series, poisoned):
        assert np.isfinite(periodic_lag(x, o, target, 96)).all()
    for f in (
        lambda x: periodic_lag(x, o, target, 96),
        lambda x: periodic_lag(x, o, target, 7 * 96),
        lambda x: last_valid(x, o, 96),
        lambda x: window_mean(x, o, 96),
        lambda x: similar_days(x, cal.kind, o, target, 3, 28),
        lambda x: fallback_forecast(x, o, target),
        lambda x: anchored_fallback_forecast(x, o, target, 32.0),
        *(lambda x, b=b: baseline_forecast(b, x, o, target) for b in Baseline),
    ):
        np.testing.assert_array_equal(f(series), f(poisoned))


def test_climatology_blend_ignores_the_future(series: np.ndarray) -> None:
    index = pd.date_range("2016-03-01", periods=STEPS, freq="15min", tz="Asia/Shanghai")
    cal = calendar_arrays(index)
    settings = ClimatologySettings(14, False, 5, 0, 1, False)
    train = make_pairs(np.arange(7 * 96, 20 * 96, 8), 192, 20 * 96)
    model = fit_climatology_blend(series, cal, train, settings)
    origin = 22 * 96 + 40
    pairs = make_pairs(np.array([origin]), 192, STEPS)
    np.testing.assert_array_equal(
        model.forecast(series, cal, pairs), model.forecast(_poisoned(series, origin), cal, pairs)
    )


def test_daily_persistence_looks_back_whole_days() -> None:
    x = np.arange(4 * 96, dtype=float)
    origin = np.array([2 * 96 + 40] * 3)
    target = origin + np.array([0, 60, 96 + 10])  # lead 0, 15 h and 26.5 h
    np.testing.assert_array_equal(periodic_lag(x, origin, target, 96), target - [96, 96, 192])


def test_the_fallback_starts_from_the_last_value_and_fades_to_yesterday() -> None:
    """Yesterday the load ran at 100 kW all day; today it dropped to 40 kW at 10:00. Forecast
    at 11:00, the fallback starts from 40 kW and returns to yesterday's 100 kW as e^(-lead /
    decay); daily persistence alone would say 100 kW from the first interval."""
    x = np.full(2 * 96, 100.0)
    x[96 + 40 :] = 40.0
    origin = 96 + 44
    lead = np.arange(48)  # to 23:00: yesterday's value at each target is still 100 kW
    decay = 32.0
    o = np.full(len(lead), origin)
    got = anchored_fallback_forecast(x, o, origin + lead, decay)
    np.testing.assert_allclose(got, 100.0 - 60.0 * np.exp(-lead / decay))
    assert got[0] == pytest.approx(40.0)
    np.testing.assert_array_equal(fallback_forecast(x, o, origin + lead), 100.0)
