"""Dispatch optimiser timings for the largest bundled park (chiping-aluminium).

Prints:
- cold plan: the first plan in a fresh process (network model and sensitivities, cvxpy
  compile of both stage problems, solve, AC check), and the part of it that is compile +
  solve;
- day-ahead re-solve: median over further days of the compiled problem's re-solve (both
  lexicographic stages, parameters in, solution out) and of the whole planning step
  (preparation, operating point and AC checks included);
- intraday step: every 15 minutes from 00:15 to 23:45 of one day against the day-ahead
  commitment, each step's forecast perturbed (5 % noise, fixed seed) as a fresh forecast
  would be; medians over the steps that re-use a compiled problem, and how many compiled;
- AC-tightening rounds over all these plans.

History values serve as the forecast. Not a test: it prints, it does not assert.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from controller.inputs.state import MeasuredState, default_state
from controller.network.linear import network_for
from controller.planner import plan
from controller.plans.plan import Plan, PlanKind
from controller.solver.cache import DEFAULT_CACHE
from sites import Site, columns, load_bundled_site
from sites.history.derive import load_history
from sites.history.series import expected_series

SITE = "chiping-aluminium"
COLD_DAY = "2016-07-12"
DAYS = ["2016-01-20", "2016-03-15", "2016-05-10", "2016-07-13", "2016-09-05", "2016-11-22"]
INTRADAY_DAY = "2016-07-12"
NOISE = 0.05
TARGET_INTRADAY_MS = 30.0
TARGET_COLD_S = 1.0


def forecast_of(site: Site, history: pd.DataFrame, day: str) -> pd.DataFrame:
    return history.loc[day].rename(
        columns={c: columns.quantile(c, 50) for c in expected_series(site)}
    )


def state_before(site: Site, day_ahead: Plan, at: pd.Timestamp) -> MeasuredState:
    frame = day_ahead.frame
    before = frame[frame.index < at]
    return MeasuredState(
        {
            b.name: float(before[f"battery_{b.name}_soc_kwh"].iloc[-1])
            for b in site.assets.batteries
        },
        {
            t.name: float(before[f"thermal_storage_{t.name}_level_kwh_th"].iloc[-1])
            for t in site.assets.thermal_storage
        },
        month_peak_import_kw=float(before["grid_import_kw"].max()),
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    site = load_bundled_site(SITE)
    history = load_history(site).frame
    rounds: list[int] = []

    t0 = time.perf_counter()
    network_for(site)
    network_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cold = plan(site, forecast_of(site, history, COLD_DAY), default_state(site))
    cold_s = time.perf_counter() - t0
    rounds.append(cold.metadata.ac_rounds)
    cold_solve = cold.metadata.objective_terms["solve_seconds"]
    print(
        f"park {SITE}: {len(site.assets.pv)} PV arrays, {len(site.assets.wind)} wind, "
        f"{len(site.assets.batteries)} battery, {len(site.assets.heat_pumps)} heat pump, "
        f"{len(site.assets.thermal_storage)} tank, {len(site.assets.boilers)} boiler"
    )
    print(
        f"cold plan, first in the process (day-ahead, 96 intervals): {ms(network_s + cold_s)}"
        f"  (target < {TARGET_COLD_S:.0f} s)"
    )
    print(f"  of which network model + sensitivities:                 {ms(network_s)}")
    print(f"  of which compile + solve (both stages):                 {ms(cold_solve)}")

    solve_s, total_s = [], []
    for day in DAYS:
        t0 = time.perf_counter()
        result = plan(site, forecast_of(site, history, day), default_state(site))
        total_s.append(time.perf_counter() - t0)
        solve_s.append(result.metadata.objective_terms["solve_seconds"])
        rounds.append(result.metadata.ac_rounds)
    print(
        f"day-ahead re-solve, median of {len(DAYS)} days:   {ms(statistics.median(solve_s))}"
        f"   whole planning step {ms(statistics.median(total_s))}"
    )

    day_ahead = plan(site, forecast_of(site, history, INTRADAY_DAY), default_state(site))
    base = forecast_of(site, history, INTRADAY_DAY)
    rng = np.random.default_rng(7)
    flows = [c for c in base.columns if not c.startswith("ambient")]
    step_solve, step_total, compiled = [], [], 0
    for step in range(1, 96):
        forecast = base.iloc[step:].copy()
        forecast[flows] = forecast[flows] * (
            1 + NOISE * rng.standard_normal((len(forecast), len(flows)))
        )
        forecast[flows] = forecast[flows].clip(lower=0)
        entries = len(DEFAULT_CACHE._entries)
        state = state_before(site, day_ahead, pd.DatetimeIndex(forecast.index)[0])
        t0 = time.perf_counter()
        result = plan(site, forecast, state, PlanKind.INTRADAY, day_ahead)
        elapsed = time.perf_counter() - t0
        rounds.append(result.metadata.ac_rounds)
        if len(DEFAULT_CACHE._entries) > entries:
            compiled += 1
            continue
        step_solve.append(result.metadata.objective_terms["solve_seconds"])
        step_total.append(elapsed)
    print(
        f"intraday step re-solve, median of {len(step_solve)} steps: "
        f"{ms(statistics.median(step_solve))}"
        f"   whole planning step {ms(statistics.median(step_total))}"
        f"  (target re-solve < {TARGET_INTRADAY_MS:.0f} ms)"
    )
    print(f"  {compiled} further steps compiled a new horizon bucket (not in the medians)")
    print(
        f"AC-tightening rounds over {len(rounds)} plans: total {sum(rounds)}, max {max(rounds)}, "
        f"plans needing any {sum(r > 0 for r in rounds)}"
    )


if __name__ == "__main__":
    main()
