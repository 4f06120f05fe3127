"""Forecasting speed: fitting on a year of history, and a 48-hour forecast once fitted.

For each bundled park: the median of ``FIT_REPEATS`` fits on its whole historical year, and the
median of ``PREDICT_REPEATS`` 48-hour forecasts from issue times spread over the year (each
with the year's history passed in, as a replay would). Budgets: fit under 30 s per park,
forecast under 200 ms.

``--skill`` also runs the full-year rolling-origin backtest of every park (several minutes a
park) and checks the acceptance criteria: every series' day-ahead (12-36 h) P50 beats
persistence, daily persistence and seasonal naive on MAE, and its P10-P90 coverage lies in
70-90 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date

import pandas as pd

from forecasting import fit
from forecasting.backtest import run_backtest
from sites import bundled_sites
from sites.history.derive import load_history

FIT_BUDGET_S = 30.0
PREDICT_BUDGET_S = 0.2
FIT_REPEATS = 3
PREDICT_REPEATS = 40
HORIZON = pd.Timedelta(hours=48)
SKILL_SPAN = (date(2016, 2, 1), date(2016, 12, 30))  # January is the first fit's history
COVERAGE_RANGE = (0.70, 0.90)
DAY_AHEAD = "day-ahead 12-36 h"


def bench_speed() -> bool:
    ok = True
    print(f"{'park':22s} {'series':>6s} {'fit s (median)':>15s} {'48 h forecast ms (median)':>26s}")
    for site in bundled_sites():
        history = load_history(site).frame
        fit_times = []
        for _ in range(FIT_REPEATS):
            start = time.perf_counter()
            models = fit(site, history)
            fit_times.append(time.perf_counter() - start)
        first, last = history.index[0] + pd.Timedelta(days=40), history.index[-1] - HORIZON
        issues = pd.date_range(first, last, periods=PREDICT_REPEATS).floor("15min")
        models.predict(issues[0], HORIZON, history)  # first call fills the clear-sky cache
        predict_times = []
        for issue in issues:
            start = time.perf_counter()
            models.predict(issue, HORIZON, history)
            predict_times.append(time.perf_counter() - start)
        fit_s, predict_s = statistics.median(fit_times), statistics.median(predict_times)
        ok &= fit_s < FIT_BUDGET_S and predict_s < PREDICT_BUDGET_S
        print(f"{site.id:22s} {len(models.series):6d} {fit_s:15.1f} {1000 * predict_s:26.0f}")
    verdict = "within" if ok else "OVER"
    print(f"{verdict} budget: fit < {FIT_BUDGET_S:g} s, forecast < {1000 * PREDICT_BUDGET_S:g} ms")
    return ok


def bench_skill() -> bool:
    ok = True
    for site in bundled_sites():
        start = time.perf_counter()
        result = run_backtest(site, load_history(site).frame, *SKILL_SPAN, progress=True)
        table = result.table[result.table["bucket"] == DAY_AHEAD].set_index("series")
        skills = table.filter(like="skill_")
        low, high = COVERAGE_RANGE
        failing = table.index[
            (skills <= 0).any(axis=1) | (table["coverage"] < low) | (table["coverage"] > high)
        ]
        ok &= len(failing) == 0
        print(f"\n{site.id}: {result.origins} origins, {time.perf_counter() - start:.0f} s")
        print((table[[*skills.columns, "coverage"]] * 100).round(1).to_string())
        print("all series pass" if len(failing) == 0 else f"FAILING: {list(failing)}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skill", action="store_true", help="also run the full-year check")
    args = parser.parse_args()
    ok = bench_speed()
    if args.skill:
        ok &= bench_skill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
