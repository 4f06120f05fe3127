"""One candidate of a sweep: its park replayed under the production controller, beside the
rule-based policy at the same size and the perfect-foresight bound; and the no-storage
baseline of a renewable build-out. Each returns a plain record (JSON-able) that the sweep
checkpoints."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from controller import code_version
from controller import columns as pc
from sim.forecaster import DEFAULT_REFIT_EVERY
from sim.policies import OptimiserPolicy, PerfectForesightPolicy, Policy, RuleBasedPolicy
from sim.replay import ReplayResult, replay
from sim.sizing.candidates import Candidate, scaled_truth, variant_site
from sim.sizing.forecasts import StoredForecasts, make_forecasts
from sites import Site, columns
from sites.time_step import HOURS_PER_STEP

PRODUCTION, RULE_BASED, PERFECT, NO_STORAGE = "production", "rule-based", "perfect", "no-storage"
CANDIDATE_POLICIES = (PRODUCTION, RULE_BASED, PERFECT)
KPI_FIELDS = (
    "total_cost_cny",
    "energy_cost_cny",
    "demand_charge_cny",
    "degradation_cost_cny",
    "fuel_cost_cny",
    "export_revenue_cny",
    "deviation_cost_cny",
    "lost_production_cny",
    "self_consumption_ratio",
    "export_ratio",
    "renewable_available_kwh",
    "renewable_used_on_site_kwh",
    "curtailed_kwh",
    "export_kwh",
    "import_kwh",
    "peak_import_kw",
    "co2_kg",
    "co2_avoided_kg",
    "battery_equivalent_full_cycles",
    "heat_unmet_kwh_th",
)


@dataclass(frozen=True)
class Period:
    start: pd.Timestamp
    end: pd.Timestamp
    intraday_every: pd.Timedelta

    @property
    def days(self) -> float:
        return float((self.end - self.start) / pd.Timedelta(days=1))

    def steps(self, truth: pd.DataFrame) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(truth.loc[self.start : self.end - pd.Timedelta(minutes=15)].index)

    def as_dict(self) -> dict[str, str]:
        return {
            "start": str(self.start),
            "end": str(self.end),
            "intraday_every": str(self.intraday_every),
            "refit_every": str(DEFAULT_REFIT_EVERY),
        }


def renewables_site(site: Site, candidate: Candidate) -> Site:
    """The park at the candidate's renewable build-out, without storage (what forecasts
    and the no-storage baseline depend on)."""
    tanks = tuple((t.name, 0.0) for t in site.assets.thermal_storage)
    return variant_site(site, Candidate(0.0, 0.0, tanks, *candidate.renewables))


def prepare_forecasts(
    site: Site,
    candidate: Candidate,
    truth: pd.DataFrame,
    period: Period,
    folder: str,
    submit: Callable[..., Any] | None = None,
) -> str:
    """The forecasts of the candidate's renewable build-out (made once per build-out; each
    fit's forecasts handed to ``submit`` where given, see :func:`make_forecasts`)."""
    bare = renewables_site(site, candidate)
    scaled = scaled_truth(site, truth, *candidate.renewables)
    steps = period.steps(scaled)
    make_forecasts(bare, scaled, steps, period.intraday_every, Path(folder), submit)
    return folder


def _summary(result: ReplayResult, site: Site, seconds: float) -> dict[str, Any]:
    kpis = result.kpis.as_dict()
    out: dict[str, Any] = {k: kpis[k] for k in KPI_FIELDS}
    out["meets_targets"] = bool(
        result.kpis.meets_self_consumption_target and result.kpis.meets_export_target
    )
    out["battery_discharged_kwh"] = float(
        sum(result.frame[columns.battery_discharge_kw(b.name)].sum() for b in site.assets.batteries)
        * HOURS_PER_STEP
    )
    out["thermal_discharged_kwh_th"] = float(
        sum(
            result.frame[pc.thermal_storage_discharge_kw_th(t.name)].sum()
            for t in site.assets.thermal_storage
            if pc.thermal_storage_discharge_kw_th(t.name) in result.frame.columns
        )
        * HOURS_PER_STEP
    )
    c = result.counters
    out["setpoints_not_followed"] = c.setpoints_not_followed
    out["network_violations"] = c.network_violations
    out["plans_made"] = c.plans_made
    out["run_time_s"] = seconds
    return out


def _replay(site: Site, truth: pd.DataFrame, policy: Policy, period: Period) -> dict[str, Any]:
    began = time.perf_counter()
    result = replay(site, truth, policy, period.start, period.end)
    return _summary(result, site, time.perf_counter() - began)


def evaluate_candidate(
    site: Site,
    candidate: Candidate,
    truth: pd.DataFrame,
    period: Period,
    forecasts: str,
    policies: tuple[str, ...] = CANDIDATE_POLICIES,
) -> dict[str, Any]:
    """Replay the candidate's park under each of ``policies`` (production always)."""
    variant = variant_site(site, candidate)
    scaled = scaled_truth(site, truth, *candidate.renewables)
    runs: dict[str, dict[str, Any]] = {}
    for name in policies:
        stored = StoredForecasts(variant, Path(forecasts))
        policy: Policy
        if name == PRODUCTION:
            policy = OptimiserPolicy(variant, stored, period.intraday_every)
        elif name == RULE_BASED:
            policy = RuleBasedPolicy(variant, stored)
        elif name == PERFECT:
            policy = PerfectForesightPolicy(variant, scaled, period.end)
        else:
            raise ValueError(f"policy: got {name!r}; accepted: {', '.join(CANDIDATE_POLICIES)}")
        runs[name] = _replay(variant, scaled, policy, period)
        runs[name]["forecasts_off_schedule"] = stored.off_schedule
    return {"candidate": candidate.as_dict(), "runs": runs, "code_version": code_version()}


def evaluate_baseline(
    site: Site, candidate: Candidate, truth: pd.DataFrame, period: Period, forecasts: str
) -> dict[str, Any]:
    """The no-storage park at the candidate's renewable build-out (rule-based, committing
    the rules' day-ahead dispatch as :func:`sim.run.make_policy` runs it)."""
    bare = renewables_site(site, candidate)
    scaled = scaled_truth(site, truth, *candidate.renewables)
    policy = RuleBasedPolicy(bare, StoredForecasts(bare, Path(forecasts)))
    policy.name = "no storage (rule-based)"
    return {
        "renewables": list(candidate.renewables),
        "runs": {NO_STORAGE: _replay(bare, scaled, policy, period)},
        "code_version": code_version(),
    }


def guarded(task: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run ``task``; an error comes back as a record (the sweep goes on without it)."""
    try:
        return {"ok": True, **task(*args, **kwargs)}
    except Exception as exc:  # a failing candidate must not sink the sweep
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


def discharged_per_year(record: Mapping[str, Any], days: float) -> tuple[float, float]:
    production = record["runs"][PRODUCTION]
    factor = 365.0 / days
    return (
        float(production["battery_discharged_kwh"]) * factor,
        float(production["thermal_discharged_kwh_th"]) * factor,
    )


__all__ = [
    "CANDIDATE_POLICIES",
    "Period",
    "evaluate_baseline",
    "evaluate_candidate",
    "guarded",
    "prepare_forecasts",
]
