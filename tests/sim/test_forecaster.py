"""Forecasts made ahead in a second process are the forecasts the loop would have made."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from processes import gone_within

from forecasting.api import fit
from sim.forecaster import Call, PrefetchingForecaster, RefittingForecaster
from sim.policies import OptimiserPolicy
from sim.replay import replay
from sites import load_bundled_site
from sites.history.derive import load_history

SITE = load_bundled_site("gaotang-textile")
TRUTH = load_history(SITE).frame
ZONE = SITE.location.timezone
START = pd.Timestamp("2016-03-09 20:00", tz=ZONE)  # the gate (10:00) falls inside the day
END = START + pd.Timedelta(hours=24)
INTRADAY_EVERY = pd.Timedelta(hours=4)
AHEAD = 32  # forecasts the second process may make ahead in the test of its ending
FILL_S = 25.0  # start, one fit (~8 s) and AHEAD short forecasts, with room for a busy machine
CHILD_EXIT_S = 30.0  # the child notices within a second or, if still fitting, after the fit


def test_a_forecast_cut_to_a_shorter_end_equals_the_shorter_forecast() -> None:
    now = pd.Timestamp("2016-03-10 13:15", tz=ZONE)
    history = TRUTH.loc[: now - pd.Timedelta(minutes=15)]
    models = fit(SITE, history, until=now)
    furthest = now.normalize() + pd.Timedelta(days=2)
    long = models.predict(now, furthest - now, history).frame
    for end in (now.normalize() + pd.Timedelta(days=1), furthest - pd.Timedelta(hours=5)):
        short = models.predict(now, end - now, history).frame
        pd.testing.assert_frame_equal(long.iloc[: len(short)], short, check_exact=True)


def test_prefetched_replay_makes_the_same_decisions_as_the_forecaster_in_the_loop() -> None:
    in_loop = OptimiserPolicy(SITE, RefittingForecaster(SITE), INTRADAY_EVERY)
    ahead = OptimiserPolicy(SITE, PrefetchingForecaster(SITE, TRUTH), INTRADAY_EVERY)
    expected = replay(SITE, TRUTH, in_loop, START, END)
    got = replay(SITE, TRUTH, ahead, START, END)
    pd.testing.assert_frame_equal(got.frame, expected.frame, check_exact=True)
    assert got.counters == expected.counters
    assert ahead.forecaster.fits == in_loop.forecaster.fits == 1  # type: ignore[attr-defined]


def test_models_on_their_fallback_are_fitted_again_every_day() -> None:
    """A week of history is too short for a model: every series runs on daily persistence,
    and the models are fitted again a day later (not a week later), each time on the history
    before the issue time. (A full history keeps one fit for a day: the test above.)"""
    forecaster = RefittingForecaster(SITE)
    first = pd.Timestamp("2016-01-08", tz=ZONE)  # the history begins on 1 January
    for hours, fits in ((0, 1), (12, 1), (24, 2), (30, 2), (48, 3)):
        now = first + pd.Timedelta(hours=hours)
        forecaster(now, now + pd.Timedelta(hours=1), TRUTH.loc[: now - pd.Timedelta(1)])
        assert forecaster.fits == fits, hours
        assert forecaster.models is not None
        assert forecaster.models.trained_until <= now
    assert all(s.fallback_reason for s in forecaster.models.series)


def test_a_call_off_the_schedule_is_answered_in_this_process() -> None:
    forecaster = PrefetchingForecaster(SITE, TRUTH)
    forecaster.expect([Call(START, START + pd.Timedelta(hours=6))])
    try:
        off = START + pd.Timedelta(hours=1)
        frame = forecaster(off, off + pd.Timedelta(hours=2), TRUTH.loc[: off - pd.Timedelta(1)])
    finally:
        forecaster.close()
    assert frame.index[0] == off and len(frame) == 8
    assert forecaster.local.fits == 1


def test_a_call_beyond_the_end_it_was_made_to_is_answered_in_this_process() -> None:
    forecaster = PrefetchingForecaster(SITE, TRUTH)
    forecaster.expect([Call(START, START + pd.Timedelta(hours=2))])
    try:
        frame = forecaster(
            START, START + pd.Timedelta(hours=6), TRUTH.loc[: START - pd.Timedelta(1)]
        )
    finally:
        forecaster.close()
    assert frame.index[0] == START and len(frame) == 24
    assert forecaster.local.fits == 1


def test_a_failure_in_the_forecasting_process_is_raised_in_the_replay() -> None:
    broken = TRUTH.iloc[:200].assign(load_auxiliaries_kw="n/a")  # not numbers: no fit
    forecaster = PrefetchingForecaster(SITE, broken)
    first = TRUTH.index[200]
    forecaster.expect([Call(first, first + pd.Timedelta(hours=6))])
    with pytest.raises(Exception, match="history columns: must all be numeric"):
        forecaster(first, first + pd.Timedelta(hours=6), broken)
    forecaster.close()


def test_the_forecasting_process_ends_when_the_replay_is_gone(tmp_path: Path) -> None:
    # A replay killed while the second process waits for room on the queue must not leave
    # that process behind.
    script = tmp_path / "replay.py"
    script.write_text(
        "import os, sys, time\n"
        "import pandas as pd\n"
        "from sim.forecaster import Call, PrefetchingForecaster\n"
        "from sites import load_bundled_site\n"
        "from sites.history.derive import load_history\n"
        "if __name__ == '__main__':\n"
        "    site = load_bundled_site('gaotang-textile')\n"
        "    truth = load_history(site).frame\n"
        "    start = pd.Timestamp('2016-03-09', tz=site.location.timezone)\n"
        "    step = pd.Timedelta(minutes=15)\n"
        f"    calls = [Call(start + k * step, start + (k + 1) * step) for k in range({AHEAD + 8})]"
        "\n"
        f"    forecaster = PrefetchingForecaster(site, truth, ahead={AHEAD})\n"
        "    forecaster.expect(calls)\n"
        "    print(forecaster._process.pid, flush=True)\n"
        "    time.sleep(600)\n",
        encoding="utf-8",
    )
    replay_process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    )
    assert replay_process.stdout is not None
    child = int(replay_process.stdout.readline())
    time.sleep(FILL_S)  # the child fits, forecasts and fills the queue
    replay_process.kill()
    replay_process.wait()
    assert gone_within(child, CHILD_EXIT_S)
