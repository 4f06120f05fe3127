"""The forecasts a sweep makes once are the refitting forecaster's, call for call, whether each
fit's forecasts are made in turn or in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from sim.forecaster import RefittingForecaster
from sim.sizing.forecasts import DONE, StoredForecasts, forecast_calls, make_forecasts
from sites import load_bundled_site
from sites.history.derive import load_history

SITE_ID = "gaotang-solar-textile"
# January's first days: series on their fallback refit daily, so the period has several fits
FROM, TO = "2016-01-08 00:00", "2016-01-10 00:00"
INTRADAY_EVERY = pd.Timedelta("12h")


def test_stored_forecasts_are_the_refitting_forecasters_in_turn_and_in_parallel(
    tmp_path: Path,
) -> None:
    site = load_bundled_site(SITE_ID)
    truth = load_history(site).frame
    zone = site.location.timezone
    steps = pd.DatetimeIndex(
        truth.loc[
            pd.Timestamp(FROM, tz=zone) : pd.Timestamp(TO, tz=zone) - pd.Timedelta("15min")
        ].index
    )
    in_turn = make_forecasts(site, truth, steps, INTRADAY_EVERY, tmp_path / "in-turn")
    with ThreadPoolExecutor(2) as pool:
        parallel = make_forecasts(
            site, truth, steps, INTRADAY_EVERY, tmp_path / "parallel", pool.submit
        )
    reference = RefittingForecaster(site)
    calls = forecast_calls(site, truth, steps, INTRADAY_EVERY)
    stored = [StoredForecasts(site, in_turn), StoredForecasts(site, parallel)]
    for call in calls:
        history = truth.iloc[: int(truth.index.searchsorted(call.issue))]
        expected = reference(call.issue, call.end, history)
        for forecasts in stored:
            pd.testing.assert_frame_equal(
                forecasts(call.issue, call.end, history), expected, check_freq=False
            )
    assert reference.fits >= 2  # the period crosses refits: several epochs
    assert all(s.off_schedule == 0 and s.served == len(calls) for s in stored)
    assert (in_turn / DONE).read_text() == (parallel / DONE).read_text()
