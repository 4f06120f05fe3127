"""Closed-loop replay speed and memory for the largest park, over a year.

Replays 2016-01-08 to 2017-01-01 (the first week trains the first forecasts) once with
15-minute intraday re-planning and once with hourly re-planning (production policy:
forecasts made ahead in a second process, day-ahead at the gate, intraday plans with AC
verification, plant, AC verification of the actuals), and prints the measured time of each,
per interval and scaled to a full year of 35,136 intervals, how long the replay waited for
forecasts, the CPU time of the replay process and the steal share of the machine (CPU time
the hypervisor gave to other guests), and the peak memory of the replay process and of the
forecasting process.
``--week`` replays a week per setting instead (a few minutes) and prints the first interval
(which waits for the first forecast fit), the first day (which also compiles the models each
horizon length needs), the rate after it, and a year extrapolated from them.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.forecaster import PrefetchingForecaster
from sim.policies import OptimiserPolicy
from sim.replay import replay
from sites import bundled_sites
from sites.history.derive import load_history

YEAR_INTERVALS = 35_136
STEPS_PER_DAY = 96
DAYS = 7
START = "2016-06-06"
YEAR_FROM, YEAR_TO = "2016-01-08", "2017-01-01"  # the first week trains the first forecasts


def _clock(times: list[float]) -> Callable[[int, int], None]:
    """A progress callback that appends the time each interval was done to ``times``."""

    def note(done: int, total: int) -> None:
        times.append(time.perf_counter())

    return note


def _cpu_times() -> list[int] | None:
    """The machine's CPU time counters in clock ticks (user, nice, system, idle, iowait, irq,
    softirq, steal), or None where the system does not expose them."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    return [int(x) for x in stat.read_text().split("\n", 1)[0].split()[1:9]]


def _machine_line(before: list[int] | None, cpu_before: float, seconds: float) -> str:
    """What the replay had of the machine: its own CPU time, and the share of CPU time the
    hypervisor gave to other guests (steal), which slows a run down without showing in it."""
    cpu = time.process_time() - cpu_before
    line = f"  replay process CPU time {cpu:.1f} s ({100 * cpu / seconds:.0f} % of the wall time)"
    after = _cpu_times()
    if before is not None and after is not None:
        spent = [b - a for a, b in zip(before, after, strict=True)]
        line += f"; steal {100 * spent[7] / max(sum(spent), 1):.1f} % of the machine's CPU time"
    return line


def _print_extrapolation(
    header: str, done: list[float], began: float, seconds: float, n: int
) -> None:
    """A week's figures and the year they extrapolate to."""
    first_s, first_day_s = done[0] - began, done[STEPS_PER_DAY - 1] - began
    steady = (n - STEPS_PER_DAY) / (done[-1] - done[STEPS_PER_DAY - 1])
    closing_s = seconds - (done[-1] - began)  # AC check of every actual, KPIs
    year_s = first_day_s + (YEAR_INTERVALS - STEPS_PER_DAY) / steady
    year_s += closing_s * YEAR_INTERVALS / n
    print(
        f"{header}; first interval (first fit and plan) {first_s:.1f} s, first day (compiling "
        f"the day's models) {first_day_s:.1f} s, after it {steady:.1f} intervals/s "
        f"({1000 / steady:.1f} ms each), closing checks {closing_s:.1f} s; a year: "
        f"{year_s / 60:.1f} min (extrapolated: the first day + the rest at the rate after it "
        f"+ the closing checks in proportion; later refits run ahead in the forecasting "
        f"process)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--week",
        action="store_true",
        help=f"replay {DAYS} days from {START} per setting and extrapolate a year from them "
        f"(a few minutes) instead of replaying {YEAR_FROM} to {YEAR_TO} (about 15 min on two "
        "cores)",
    )
    year = not parser.parse_args().week
    site = max(bundled_sites(), key=lambda s: sum(x.peak_kw for x in s.assets.electric_loads))
    truth = load_history(site).frame
    zone = site.location.timezone
    if year:
        start, end = pd.Timestamp(YEAR_FROM, tz=zone), pd.Timestamp(YEAR_TO, tz=zone)
        print(f"site: {site.id}; replay {start:%Y-%m-%d} to {end:%Y-%m-%d} per setting")
    else:
        start = pd.Timestamp(START, tz=zone)
        end = start + pd.Timedelta(days=DAYS)
        print(f"site: {site.id}; replay {start:%Y-%m-%d} + {DAYS} days per setting")
    for every in (pd.Timedelta(minutes=15), pd.Timedelta(hours=1)):
        forecaster = PrefetchingForecaster(site, truth)
        policy = OptimiserPolicy(site, forecaster, every)
        done: list[float] = []
        ticks, cpu_began = _cpu_times(), time.process_time()
        began = time.perf_counter()
        result = replay(site, truth, policy, start, end, _clock(done))
        seconds = time.perf_counter() - began
        n = len(result.frame)
        header = (
            f"intraday every {every}: {n} intervals in {seconds:.1f} s ({n / seconds:.1f} "
            f"intervals/s, {result.counters.plans_made} plans, {forecaster.fits} forecast fits)"
        )
        if year:
            print(
                f"{header}; measured: {seconds / 60:.1f} min, {1000 * seconds / n:.1f} ms per "
                f"interval; scaled to {YEAR_INTERVALS:,} intervals: "
                f"{seconds * YEAR_INTERVALS / n / 60:.1f} min"
            )
        else:
            _print_extrapolation(header, done, began, seconds, n)
        waits = forecaster.waits_s
        print(
            f"  the replay waited {waits[0]:.1f} s for the first forecast and "
            f"{sum(waits[1:]):.1f} s for the {len(waits) - 1} after it"
        )
        print(_machine_line(ticks, cpu_began, seconds))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: replay process {peak_mb:,.0f} MB, forecasting process {child_mb:,.0f} MB")


if __name__ == "__main__":
    main()
