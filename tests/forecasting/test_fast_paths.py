"""The shortcuts a forecast takes give the numbers of the plain computations, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]

from forecasting.lags import SimilarDays
from forecasting.load import BOOSTING, SHORT_BOOSTING
from forecasting.medians import nanmedian_rows
from forecasting.trees import FastBooster
from sites.history.derive import HEATING_BASE_DEGC, heating_degrees


@pytest.mark.parametrize("settings", [BOOSTING, SHORT_BOOSTING])
def test_fast_booster_predicts_what_the_booster_does(settings: dict[str, object]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the learnt side
    y = np.nan_to_num(x[:, 0]) * 3 + np.sin(np.nan_to_num(x[:, 1])) + rng.normal(size=3000)
    booster = HistGradientBoostingRegressor(**settings).fit(x, y)
    test = rng.normal(size=(500, 6)) * 2
    test[rng.random(test.shape) < 0.1] = np.nan
    test[:3, 2] = [np.inf, -np.inf, 0.0]
    fast = FastBooster(booster)
    assert fast.predict(test).tobytes() == booster.predict(test).tobytes()
    assert fast.predict(test[:1]).tobytes() == booster.predict(test[:1]).tobytes()


def test_a_walk_that_disagrees_with_the_booster_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 3))
    booster = HistGradientBoostingRegressor(**BOOSTING).fit(x, x[:, 0] + rng.normal(size=500))

    def wrong_walk(*args: object) -> None:
        out = args[-1]
        assert isinstance(out, np.ndarray)
        out[:] = 0.0  # as a changed private signature might leave it

    monkeypatch.setattr("forecasting.trees._predict_from_raw_data", wrong_walk)
    fast = FastBooster(booster)
    assert fast.predict(x).tobytes() == booster.predict(x).tobytes()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "UTC"])
def test_heating_degrees_read_the_season_on_the_local_calendar(zone: str) -> None:
    index = pd.date_range("2015-10-01", "2017-04-01", freq="45min", tz=zone)
    temperature = np.random.default_rng(1).normal(10.0, 12.0, len(index))
    temperature[::13] = np.nan
    month_day = index.month * 100 + index.day  # the season from 15 Nov to 15 Mar, by pandas
    in_season = (month_day >= 1115) | (month_day <= 315)
    expected = np.where(in_season, np.clip(HEATING_BASE_DEGC - temperature, 0.0, None), 0.0)
    assert heating_degrees(temperature, index).tobytes() == expected.tobytes()


def test_the_latest_similar_day_is_its_median_of_one() -> None:
    rng = np.random.default_rng(2)
    x = rng.choice([0.0, -0.0, 1.5, np.nan, np.inf, 7.25], 40 * 96)
    kind = np.repeat(rng.integers(0, 3, 40), 96)
    target = np.arange(30 * 96, 32 * 96)
    origin = np.full(len(target), 30 * 96 + 5)
    days = SimilarDays(x, kind, origin, target, 28)
    ok = days.candidate & (days.rank <= 1)
    expected = np.full(len(target), np.nan)
    have = ok.any(axis=1)
    expected[have] = nanmedian_rows(np.where(ok, days.values, np.nan)[have])
    assert days.median(1).tobytes() == expected.tobytes()
