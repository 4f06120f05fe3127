"""Storage sizing sweep speed on Dask: throughput with 1 and with 2 workers, and a sweep's wall
time, on the largest park at hourly re-planning.

By default: 6 battery sizes over one day (production controller and the no-storage baseline:
7 tasks; an even number of candidates, so that 2 workers can split them evenly: with 5, one
worker replays 3 while the other replays 2 and the cheap baseline, and the ratio cannot
exceed about 5/3), the period's forecasts made once, before the timed runs, and shared by
both; first on a local cluster of 1 worker, then of 2. Prints candidates per minute of each,
their ratio (target: 2 workers >= 1.7x of 1 on 2 cores), and where the wall time went: the
cluster's start and close (paid once whatever the workers), the tasks' own replay time, and
the ratio those task times would allow on 2 workers with nothing else in the way (the
longest-first schedule of the measured task times). Then the sizing LP's solve time over the
same day and over a week.
``--full`` (or ``BENCH_SIZING_FULL=1``) instead times the 16-candidate full-year sweep
(2016-01-08 to 2017-01-01, 4 battery sizes x 2 durations x 2 thermal store sizes, with the
rule-based policy and the perfect-foresight bound at each size) on a cluster of one worker per
core (target: under 30 minutes on 2 cores). It takes hours on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.sizing.candidates import CandidateGrid
from sim.sizing.economics import SizingEconomics
from sim.sizing.evaluate import CANDIDATE_POLICIES, NO_STORAGE, PRODUCTION, Period
from sim.sizing.lp import SizeLimits, solve_sizing_lp
from sim.sizing.sweep import SweepResult, run_sweep
from sites import Site, bundled_sites
from sites.history.derive import load_history

DAY_FROM, DAY_TO = "2016-06-06", "2016-06-07"
YEAR_FROM, YEAR_TO = "2016-01-08", "2017-01-01"
FULL_TARGET_MIN = 30.0
RATIO_TARGET = 1.7


class _Quiet:
    def update(self, n: int) -> None:
        return None

    def close(self) -> None:
        return None


def _load() -> str:
    """How busy the machine was: a ratio measured while other work takes the cores says
    little about the code."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _largest() -> Site:
    return max(bundled_sites(), key=lambda s: sum(x.peak_kw for x in s.assets.electric_loads))


def _period(site: Site, start: str, end: str) -> Period:
    zone = site.location.timezone
    return Period(pd.Timestamp(start, tz=zone), pd.Timestamp(end, tz=zone), pd.Timedelta("1h"))


WEEK_TO = "2016-06-13"
SIZES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def _energies(site: Site, shares: tuple[float, ...] = SIZES) -> list[float]:
    now = sum(b.capacity_kwh for b in site.assets.batteries)
    return [now * f for f in shares]


def short(site: Site) -> None:
    truth = load_history(site).frame
    period = _period(site, DAY_FROM, DAY_TO)
    candidates = CandidateGrid(battery_kwh=_energies(site)).candidates(site)
    with tempfile.TemporaryDirectory(prefix="bench-sizing-") as folder:
        shared = Path(folder) / "forecasts-warm"
        began = time.perf_counter()
        run_sweep(
            site,
            truth,
            candidates[:1],
            period,
            shared,
            (PRODUCTION,),
            workers=1,
            progress=lambda _: _Quiet(),
        )
        print(
            f"{site.id}, {DAY_FROM} (1 day, hourly re-planning), {len(candidates)} candidates "
            f"(production + no-storage); forecasts and one warm-up candidate: "
            f"{time.perf_counter() - began:.1f} s"
        )
        rates = {}
        one: list[float] = []
        for workers in (1, 2):
            out = Path(folder) / f"workers-{workers}"
            shutil.copytree(shared / "forecasts", out / "forecasts")
            result: SweepResult = run_sweep(
                site,
                truth,
                candidates,
                period,
                out,
                (PRODUCTION,),
                workers=workers,
                progress=lambda _: _Quiet(),
            )
            assert not result.failures, result.failures
            rates[workers] = len(result.ran) / result.wall_time_s * 60
            tasks = _task_seconds(result)
            print(
                f"{workers} worker(s): sweep wall time {result.wall_time_s:.1f} s, "
                f"{rates[workers]:.2f} candidates/min; cluster start "
                f"{result.cluster_start_s:.1f} s, close {result.cluster_close_s:.1f} s; "
                f"tasks' replays {sum(tasks):.1f} s (longest {max(tasks):.1f} s); {_load()}"
            )
            if workers == 1:
                one = tasks
        ratio = rates[2] / rates[1]
        verdict = "meets" if ratio >= RATIO_TARGET else "misses"
        allowed = sum(one) / _makespan(one, 2)
        print(
            f"2 workers / 1 worker: {ratio:.2f}x ({verdict} the {RATIO_TARGET}x target; "
            f"{os.cpu_count()} cores); the 1-worker run's task times allow {allowed:.2f}x on 2 "
            "workers, before the cluster's start and close"
        )
    lp(site, truth)


def _task_seconds(result: SweepResult) -> list[float]:
    """Each task's replay time (a candidate's policies together; the baselines)."""
    seconds = [
        sum(float(run["run_time_s"]) for run in record["runs"].values())
        for record in result.records.values()
    ]
    seconds += [float(b["runs"][NO_STORAGE]["run_time_s"]) for b in result.baselines.values()]
    return seconds


def _makespan(seconds: list[float], workers: int) -> float:
    """The longest-first schedule's makespan (each task to the least busy worker)."""
    busy = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        busy[busy.index(min(busy))] += s
    return max(busy)


def lp(site: Site, truth: pd.DataFrame) -> None:
    """The sizing LP's solve time (sizes as variables, up to 4x the present) over the day
    and over a week."""
    energy = sum(b.capacity_kwh for b in site.assets.batteries)
    power = sum(b.discharge_kw for b in site.assets.batteries)
    limits = SizeLimits(
        4 * energy, 4 * power, {t.name: 4 * t.capacity_kwh_th for t in site.assets.thermal_storage}
    )
    for end in (DAY_TO, WEEK_TO):
        period = _period(site, DAY_FROM, end)
        began = time.perf_counter()
        found = solve_sizing_lp(site, truth, period.start, period.end, SizingEconomics(), limits)
        print(
            f"sizing LP {DAY_FROM} to {end} ({period.days:g} days): {found.candidate.label} in "
            f"{time.perf_counter() - began:.1f} s (with the period's arrays and losses); {_load()}"
        )


def full(site: Site) -> None:
    truth = load_history(site).frame
    period = _period(site, YEAR_FROM, YEAR_TO)
    energies = _energies(site, (0.5, 1.0, 1.5, 2.0))
    tanks = [t.capacity_kwh_th for t in site.assets.thermal_storage][:1]
    grid = CandidateGrid(
        battery_kwh=energies,
        duration_h=[1.0, 2.0],
        tank_kwh_th=[tanks[0] * 0.5, tanks[0]] if tanks else [],
    )
    candidates = grid.candidates(site)[:16]
    with tempfile.TemporaryDirectory(prefix="bench-sizing-year-") as folder:
        result = run_sweep(site, truth, candidates, period, Path(folder), CANDIDATE_POLICIES)
    minutes = result.wall_time_s / 60
    verdict = "meets" if minutes < FULL_TARGET_MIN else "misses"
    print(
        f"{site.id}, {YEAR_FROM} to {YEAR_TO} hourly, {len(candidates)} candidates "
        f"({len(result.failures)} failed), {os.cpu_count()} cores: {minutes:.1f} min "
        f"({verdict} the {FULL_TARGET_MIN:.0f}-minute target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the 16-candidate full year")
    args = parser.parse_args()
    site = _largest()
    if args.full or os.environ.get("BENCH_SIZING_FULL") == "1":
        full(site)
    else:
        short(site)


if __name__ == "__main__":
    main()
