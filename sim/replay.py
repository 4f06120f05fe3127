"""Closed-loop replay: the simulator owns the clock and the true history; policies decide.

At every interval the policy gets the measured state and the history strictly before now,
returns the interval's setpoints, and the plant applies them to the true conditions. At the
end every interval's actual injections are verified with the batched AC power flow; its
losses and grid exchange are what the park really drew.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from controller import (
    Adherence,
    Kpis,
    MeasuredState,
    RenewableTally,
    adherence_of,
    code_version,
    compute_kpis,
    delivered_in_open_windows,
    electric_balance_error_kw,
    replay_input_hash,
    year_fraction_left,
)
from controller import columns as pc
from network_models import NetworkVerifier, Verification
from sim.plant import HOURS, Plant, PlantState
from sim.policies import Policy
from sites import Site, columns

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReplayCounters:
    setpoints_not_followed: int
    boiler_backup_kwh_th: float
    heat_unmet_kwh_th: float
    heat_dumped_kwh_th: float
    grid_limit_violations: int
    peak_guard_kwh: float
    """Battery energy the local controller moved off its setpoints to hold the import
    ceiling (see :mod:`sim.plant`)."""
    heat_pump_shed_kwh: float
    """Heat-pump input the demand limiter handed to fuel boilers to hold the import ceiling
    (see :mod:`sim.plant`)."""
    network_violations: int
    intervals_not_converged: int
    plans_made: int
    plans_failing_check: int
    not_followed_by_setpoint: dict[str, int] = field(default_factory=dict)
    """How often each setpoint column was not followed."""


@dataclass(frozen=True)
class ReplayResult:
    site_id: str
    policy: str
    frame: pd.DataFrame
    """Per interval: actual flows (plan column names), available renewables, truth."""
    kpis: Kpis
    counters: ReplayCounters
    verification: Verification
    adherence: Adherence | None = None
    """Connection-point flow against the committed day-ahead schedule (policies that commit)."""
    provenance: dict[str, str] = field(default_factory=dict)


def inputs_hash(site: Site, truth: pd.DataFrame, settings: dict[str, str]) -> str:
    """:func:`controller.replay_input_hash`: the one definition of input hashes."""
    return replay_input_hash(site, truth, settings)


def replay(
    site: Site,
    truth: pd.DataFrame,
    policy: Policy,
    start: pd.Timestamp,
    end: pd.Timestamp,
    progress: Progress | None = None,
) -> ReplayResult:
    """Replay ``[start, end)`` of ``truth`` (the site's history frame) under ``policy``."""
    started = time.perf_counter()
    plant = Plant(site)
    state = PlantState.initial(site)
    steps = pd.DatetimeIndex(truth.loc[start : end - pd.Timedelta(minutes=15)].index)
    truth_rows = {
        now: {str(c): float(v) for c, v in row.items()} for now, row in truth.loc[steps].iterrows()
    }
    start_pos = int(truth.index.searchsorted(steps[0]))
    rows: list[dict[str, float]] = []
    not_followed = 0
    missed: Counter[str] = Counter()
    backup = unmet = dumped = guarded = shed = 0.0
    grid_violations = 0
    month_peak = 0.0
    month = steps[0].month
    year = _YearTally(site, steps[0])
    policy.begin(steps)
    # One thread for the loop: its arrays are small, and idle BLAS/OpenMP workers waiting
    # for work take the second core from the forecasting process.
    try:
        with threadpool_limits(1):
            for k, now in enumerate(steps):
                if now.month != month:
                    month, month_peak = now.month, 0.0
                state.batch_delivered_kwh = delivered_in_open_windows(
                    site, now, state.batch_delivered_kwh
                )
                measured = MeasuredState(
                    dict(state.battery_soc_kwh),
                    dict(state.tank_level_kwh_th),
                    month_peak,
                    renewables_year_to_date=year.tally(now),
                    chp_on={name: kw > 0.0 for name, kw in state.chp_kw.items()},
                    batch_delivered_kwh=state.batch_delivered_kwh,
                    shift_backlog_kwh=dict(state.shift_backlog_kwh),
                    shift_recent_kwh={
                        name: tuple(recent) for name, recent in state.shift_recent_kwh.items()
                    },
                    hydrogen_level_kg=dict(state.hydrogen_level_kg),
                )
                history = truth.iloc[: start_pos + k]  # strictly before now
                current = truth_rows[now]
                wanted = policy.setpoints(now, measured, history, current)
                result = plant.step(state, wanted, current)
                month_peak = max(month_peak, result.actual[pc.GRID_IMPORT_KW])
                year.add(current, result.actual)
                not_followed += len(result.not_followed)
                missed.update(result.not_followed)
                backup += result.boiler_backup_kwh_th
                unmet += result.heat_unmet_kwh_th
                dumped += result.heat_dumped_kwh_th
                guarded += result.peak_guard_kwh
                shed += result.heat_pump_shed_kwh
                grid_violations += int(result.grid_limit_violation)
                rows.append(result.actual)
                if progress is not None:
                    progress(k + 1, len(steps))
    finally:
        policy.finish()
    frame = pd.DataFrame(rows, index=steps)
    frame = _with_truth(site, frame, truth.loc[steps])
    verification = NetworkVerifier(site).verify(frame)
    frame = _with_ac(frame, verification)
    outside = policy.deviation_outside_band_kw(frame)
    adherence = None
    if outside is not None:
        frame[pc.DEVIATION_OUTSIDE_BAND_KW] = outside
        adherence = adherence_of(outside)
    kpis = compute_kpis(site, frame)
    counters = ReplayCounters(
        setpoints_not_followed=not_followed,
        boiler_backup_kwh_th=backup,
        heat_unmet_kwh_th=unmet,
        heat_dumped_kwh_th=dumped,
        grid_limit_violations=grid_violations,
        peak_guard_kwh=guarded,
        heat_pump_shed_kwh=shed,
        network_violations=int((verification.violations["element"] != "grid_connection").sum()),
        intervals_not_converged=int((~verification.intervals["converged"]).sum()),
        plans_made=policy.decisions.plans,
        plans_failing_check=policy.decisions.plans_failing_check,
        not_followed_by_setpoint=dict(sorted(missed.items())),
    )
    settings = {"policy": policy.name, "start": str(start), "end": str(end)}
    provenance = {
        "code_version": code_version(),
        "inputs_hash": inputs_hash(site, truth.loc[steps], settings),
        "run_time_s": f"{time.perf_counter() - started:.1f}",
        **settings,
    }
    return ReplayResult(
        site.id,
        policy.name,
        frame,
        kpis,
        counters,
        verification,
        adherence,
        provenance,
    )


class _YearTally:
    """The measured renewable energy of the calendar year so far (from the replay's start)."""

    def __init__(self, site: Site, start: pd.Timestamp) -> None:
        self.available_columns = [columns.pv_kw(x.name) for x in site.assets.pv] + [
            columns.wind_kw(x.name) for x in site.assets.wind
        ]
        self._begin_year(start)

    def _begin_year(self, now: pd.Timestamp) -> None:
        self.year = now.year
        self.available = self.used = self.export = 0.0

    def tally(self, now: pd.Timestamp) -> RenewableTally:
        if now.year != self.year:
            self._begin_year(now)
        return RenewableTally(self.available, self.used, self.export, year_fraction_left(now))

    def add(self, truth: dict[str, float], actual: dict[str, float]) -> None:
        available = sum(max(truth[c], 0.0) for c in self.available_columns) * HOURS
        produced = sum(actual[c] for c in self.available_columns) * HOURS
        export = actual[pc.GRID_EXPORT_KW] * HOURS
        self.available += available
        self.used += max(produced - export, 0.0)
        self.export += export


def _with_truth(site: Site, frame: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    extra = {}
    for pv in site.assets.pv:
        extra[pc.pv_available_kw(pv.name)] = truth[columns.pv_kw(pv.name)]
        extra[pc.pv_curtailed_kw(pv.name)] = (
            truth[columns.pv_kw(pv.name)] - frame[columns.pv_kw(pv.name)]
        )
    for w in site.assets.wind:
        extra[pc.wind_available_kw(w.name)] = truth[columns.wind_kw(w.name)]
        extra[pc.wind_curtailed_kw(w.name)] = (
            truth[columns.wind_kw(w.name)] - frame[columns.wind_kw(w.name)]
        )
    for d in site.assets.heat_demands:
        extra[columns.heat_demand_kw_th(d.name)] = truth[columns.heat_demand_kw_th(d.name)]
    for s in site.assets.waste_heat:
        extra[pc.waste_heat_available_kw_th(s.name)] = truth[columns.waste_heat_kw_th(s.name)]
    extra[columns.AMBIENT_TEMPERATURE_DEGC] = truth[columns.AMBIENT_TEMPERATURE_DEGC]
    return frame.assign(**extra)


def _with_ac(frame: pd.DataFrame, verification: Verification) -> pd.DataFrame:
    """The grid exchange the AC power flow found (balance plus network losses)."""
    ac = verification.intervals
    out = frame.copy()
    out["plant_grid_import_kw"] = frame[pc.GRID_IMPORT_KW]
    out["plant_grid_export_kw"] = frame[pc.GRID_EXPORT_KW]
    out[pc.GRID_IMPORT_KW] = ac["grid_import_kw"].to_numpy()
    out[pc.GRID_EXPORT_KW] = ac["grid_export_kw"].to_numpy()
    out[pc.NETWORK_LOSSES_KW] = ac["losses_kw"].to_numpy()
    return out


def energy_balance_error_kw(site: Site, frame: pd.DataFrame) -> np.ndarray:
    """Per interval: (sources) - (uses + losses) of electricity [kW]; zero when conserved
    (the plans' own balance, :func:`controller.electric_balance_error_kw`)."""
    return electric_balance_error_kw(site, frame)


__all__ = ["HOURS", "ReplayCounters", "ReplayResult", "energy_balance_error_kw", "replay"]
