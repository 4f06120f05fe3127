"""Running a comparison of policies over one period: the engine behind ``microgrid simulate``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from sim.forecaster import PrefetchingForecaster
from sim.merit import merit_table, monthly_costs
from sim.policies import (
    OptimiserPolicy,
    PerfectForesightPolicy,
    Policy,
    RuleBasedPolicy,
)
from sim.replay import ReplayResult, replay
from sim.report import kpi_table, write_outputs
from sites import DataError, Site

POLICIES = ("production", "day-ahead", "rule-based", "no-storage", "perfect")


@dataclass(frozen=True)
class RunResult:
    results: dict[str, ReplayResult]
    """By run name (``production``, ``perfect``, ...), in the order run."""
    table: pd.DataFrame
    """KPIs: one column per policy."""
    merit: pd.DataFrame
    """Regret, share of perfect and storage value captured: one column per run name."""
    monthly: pd.DataFrame
    """Total cost per calendar month (rows) and run name (columns)."""
    written: dict[str, Path]


def make_policy(
    name: str, site: Site, truth: pd.DataFrame, end: pd.Timestamp, intraday_every: pd.Timedelta
) -> tuple[Site, Policy]:
    if name == "production":
        return site, OptimiserPolicy(site, PrefetchingForecaster(site, truth), intraday_every)
    if name == "day-ahead":
        # the plans alone, open loop: no re-plans and no real-time import ceiling
        forecaster = PrefetchingForecaster(site, truth)
        return site, OptimiserPolicy(site, forecaster, None, peak_guard=False)
    if name == "rule-based":
        return site, RuleBasedPolicy(site, PrefetchingForecaster(site, truth))
    if name == "no-storage":
        bare = site.without_storage()
        policy = RuleBasedPolicy(bare, PrefetchingForecaster(bare, truth))
        policy.name = "no storage (rule-based)"
        return bare, policy
    if name == "perfect":
        return site, PerfectForesightPolicy(site, truth, end)
    raise DataError(f"policy: got {name!r}; accepted: {', '.join(POLICIES)}")


def run_policies(
    site: Site,
    truth: pd.DataFrame,
    start: str,
    end: str,
    policies: list[str],
    intraday_every: pd.Timedelta,
    out: Path,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> RunResult:
    """Replay [``start``, ``end``) of ``truth`` (the park's history) under each policy."""
    zone = site.location.timezone
    t0, t1 = pd.Timestamp(start, tz=zone), pd.Timestamp(end, tz=zone)
    if truth.empty or not truth.index[0] <= t0 < t1 <= truth.index[-1] + pd.Timedelta(minutes=15):
        if truth.empty:
            raise DataError("--history: the history is empty; a replay needs the days it replays")
        raise DataError(
            f"--from/--to: got {start}..{end}; the history covers "
            f"{truth.index[0]:%Y-%m-%d}..{truth.index[-1]:%Y-%m-%d}"
        )
    results = {}
    for name in dict.fromkeys(policies):
        run_site, policy = make_policy(name, site, truth, t1, intraday_every)
        reporter = (progress or _bar)(policy.name)
        results[name] = replay(run_site, truth, policy, t0, t1, reporter)
    merit, monthly = merit_table(results), monthly_costs(site, results)
    written = write_outputs(site, results, out, merit, monthly)
    return RunResult(results, kpi_table(list(results.values())), merit, monthly, written)


def _bar(label: str) -> Callable[[int, int], None]:
    bars: list[Any] = []  # the one progress bar, created on the first update

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=label, unit="interval", mininterval=1.0))
        bars[0].update(1)
        if done == total:
            bars[0].close()

    return update
