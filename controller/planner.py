"""The planning entry point: forecast + measured state -> an immutable :class:`Plan`.

One step: prepare the arrays; take the rule-based dispatch as the operating point and run
the AC power flow there (voltages, losses); solve the staged LP; verify the plan with AC
power flow and, where it finds a violation, tighten that element's rows and re-solve
(at most ``max_ac_rounds`` times). A solver failure gives the rule-based dispatch instead.
Nothing raises for the data it is given: repairs and relaxations are in the plan's report.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.config import DEFAULT_CONFIG, DispatchConfig
from controller.fallback.relaxations import relaxations_from
from controller.fallback.rules import fallback_dispatch
from controller.inputs.dispatch_inputs import DispatchInputs, prepare
from controller.inputs.state import NO_PEAK_NOTE, MeasuredState, default_state
from controller.kinds import Solver
from controller.network.linear import injections_matrix, network_for
from controller.network.tightening import new_tightening, tighten, with_network
from controller.plans.dispatch import dispatch_frame
from controller.plans.kpi import compute_kpis
from controller.plans.plan import (
    NetworkSummary,
    Plan,
    PlanKind,
    PlanMetadata,
    PlanStatus,
)
from controller.plans.provenance import code_version, input_hash
from controller.solver.cache import DEFAULT_CACHE, ModelCache
from controller.solver.highs import RunFunction, run_highs
from controller.solver.solve import StageFailure, solve_model
from network_models import NetworkVerifier, Verification
from sites import Site
from sites.time_step import HOURS_PER_STEP

FALLBACK_ROUNDS = 6
FALLBACK_BACKOFF = 0.7  # six rounds reach 0.7^6 = 12 % of the flexible power
RELAXED_SLACK = 1e-3  # kW-eq: a network row whose slack exceeds this gave way in the plan


def _nan_min(values: np.ndarray) -> float:
    """The smallest number in ``values``, NaN if there is none (as pandas' ``Series.min``)."""
    return float(np.fmin.reduce(values, initial=np.nan))


def _nan_max(values: np.ndarray) -> float:
    """The largest number in ``values``, NaN if there is none (as pandas' ``Series.max``)."""
    return float(np.fmax.reduce(values, initial=np.nan))


def _summary(
    verification: Verification, frame: pd.DataFrame, rounds: int, notes: list[str]
) -> NetworkSummary:
    intervals = verification.interval_values
    ac_net = intervals["grid_import_kw"] - intervals["grid_export_kw"]
    planned = frame["grid_import_kw"].to_numpy() - frame["grid_export_kw"].to_numpy()
    violations = verification.violations
    elements = violations["element"].to_numpy()
    quantities = violations["quantity"].to_numpy()
    remaining = tuple(sorted({f"{e} {q}" for e, q in zip(elements, quantities, strict=True)}))
    return NetworkSummary(
        ok=verification.ok,
        violations=len(violations),
        rounds=rounds,
        vm_min_pu=_nan_min(intervals["vm_min_pu"]),
        vm_max_pu=_nan_max(intervals["vm_max_pu"]),
        max_line_loading_percent=_nan_max(intervals["max_line_loading_percent"]),
        max_trafo_loading_percent=_nan_max(intervals["max_trafo_loading_percent"]),
        losses_kwh=float(np.nansum(intervals["losses_kw"]) * HOURS_PER_STEP),
        max_import_error_kw=float(np.nanmax(np.abs(ac_net - planned))) if len(frame) else 0.0,
        tightened=tuple(dict.fromkeys(notes)),
        remaining=remaining,
    )


@dataclass(frozen=True)
class _Stamp:
    """What every plan of one call records, whichever way it was made."""

    site: Site
    kind: PlanKind
    version: int
    created_at: datetime
    forecast_issued_at: datetime | None
    input_hash: str
    started: float
    inputs: DispatchInputs
    forecast_fallbacks: Mapping[str, str]

    def metadata(
        self,
        status: PlanStatus,
        solver: Solver,
        terms: dict[str, float],
        summary: NetworkSummary,
        rounds: int,
        notes: tuple[str, ...] = (),
    ) -> PlanMetadata:
        a, inputs = self.site.assets, self.inputs
        return PlanMetadata(
            site_id=self.site.id,
            kind=self.kind,
            version=self.version,
            created_at=self.created_at,
            forecast_issued_at=self.forecast_issued_at,
            input_hash=self.input_hash,
            code_version=code_version(),
            solver=solver,
            status=status,
            solve_time_s=time.perf_counter() - self.started,
            objective_terms=terms,
            network=summary,
            ac_rounds=rounds,
            month_peak_import_kw=inputs.month_peak_import_kw,
            initial_battery_soc_kwh={
                b.name: float(v) for b, v in zip(a.batteries, inputs.battery_soc0_kwh, strict=True)
            },
            initial_storage_level_kwh_th={
                t.name: float(v)
                for t, v in zip(a.thermal_storage, inputs.storage_level0_kwh_th, strict=True)
            },
            notes=notes if inputs.month_peak_metered else (*notes, NO_PEAK_NOTE),
            forecast_fallbacks=self.forecast_fallbacks,
        )


def plan(
    site: Site,
    forecast: pd.DataFrame,
    state: MeasuredState | None = None,
    kind: PlanKind = PlanKind.DAY_AHEAD,
    committed: Plan | pd.DataFrame | None = None,
    *,
    config: DispatchConfig | None = None,
    forecast_issued_at: datetime | None = None,
    created_at: datetime | None = None,
    version_number: int = 1,
    forecast_fallbacks: Mapping[str, str] | None = None,
    run: RunFunction = run_highs,
    cache: ModelCache | None = None,
) -> Plan:
    """Plan the intervals of ``forecast`` (P50 columns; see
    :func:`controller.inputs.dispatch_inputs.prepare`).

    ``committed`` (intraday): the day-ahead plan or its connection-point schedule.
    ``forecast_fallbacks``: series of the forecast made by a fallback baseline, with why
    (``forecasting.ForecastMetadata.fallbacks``); the plan's metadata carries them.
    ``run`` and ``cache`` are for tests and benchmarks; ``created_at`` defaults to now (UTC).
    """
    started = time.perf_counter()
    config = config or DEFAULT_CONFIG
    state = state or default_state(site)
    cache = cache or DEFAULT_CACHE
    committed_frame = committed.frame if isinstance(committed, Plan) else committed
    inputs = prepare(site, forecast, state, kind, config, committed_frame)
    stamp = _Stamp(
        site,
        kind,
        version_number,
        created_at or datetime.now(UTC),
        forecast_issued_at,
        input_hash(site, forecast, state, kind, committed, config),
        started,
        inputs,
        dict(forecast_fallbacks or {}),
    )
    if inputs.n_steps == 0:
        return _empty_plan(stamp)

    linear, verifier = network_for(site)
    operating = dispatch_frame(site, inputs, fallback_dispatch(site, inputs))
    x0 = injections_matrix(linear, operating)
    ac0 = verifier.verify(operating)
    tightening = new_tightening(linear, inputs.n_steps)
    margin = config.flow_margin_fraction
    losses = ac0.interval_values["losses_kw"]
    inputs = with_network(site, inputs, linear, x0, ac0, tightening, losses, margin)

    rounds = 0
    try:
        while True:
            rows = tuple(int(r) for r in np.flatnonzero(tightening.screened))
            entry = cache.get(site, inputs.horizon, kind, config, linear, rows)
            result = solve_model(entry, inputs, config, run)
            frame = dispatch_frame(site, inputs, result.dispatch)
            verification = verifier.verify(frame)
            if verification.ok or rounds >= config.max_ac_rounds:
                break
            relaxed = np.zeros((linear.n_rows, inputs.n_steps), dtype=bool)
            slack = result.dispatch.slacks.get("network_limit")
            if slack is not None and len(rows):
                relaxed[list(rows)] = slack > RELAXED_SLACK
            if not tighten(
                site,
                linear,
                verification,
                tightening,
                config.ac_margin_fraction,
                frame["grid_import_kw"].to_numpy(),
                frame["grid_export_kw"].to_numpy(),
                relaxed,
            ):
                break
            rounds += 1
            losses = verification.interval_values["losses_kw"]
            inputs = with_network(site, inputs, linear, x0, ac0, tightening, losses, margin)
    except StageFailure as failure:
        return _fallback_plan(dataclasses.replace(stamp, inputs=inputs), verifier, str(failure))

    summary = _summary(verification, frame, rounds, tightening.notes)
    relaxations = relaxations_from(site, inputs, result.dispatch, linear, rows, verification)
    status = PlanStatus.RELAXED if relaxations else PlanStatus.OPTIMAL
    terms = dict(result.tier_values) | result.terms
    terms["solve_seconds"] = result.solve_seconds
    kpis = compute_kpis(site, frame, inputs.month_peak_import_kw)
    notes = (f"solver outcome: {result.outcome.value}", *result.notes)
    meta = dataclasses.replace(stamp, inputs=inputs).metadata(
        status, config.solver, terms, summary, rounds, notes
    )
    d = result.dispatch
    netted_kwh, netted_cny = _netted(d.grid_import_kw, d.grid_export_kw, frame)
    netted_note = (
        f"connection: {netted_kwh:,.1f} kWh booked both ways in the same intervals cancelled; "
        "the plan carries the net flow"
    )
    meta = dataclasses.replace(
        meta,
        connection_netted_kwh=netted_kwh,
        connection_netted_cny=netted_cny,
        notes=(*meta.notes, netted_note) if netted_kwh > NETTED_NOTE_KWH else meta.notes,
    )
    return Plan(meta, frame, kpis, relaxations, result.binding)


NETTED_NOTE_KWH = 0.01  # below 10 Wh over a horizon it is solver noise, not worth a note


def _netted(
    import_kw: np.ndarray, export_kw: np.ndarray, frame: pd.DataFrame
) -> tuple[float, float]:
    """Energy [kWh] the solution imports and exports in the same intervals, and what its cost
    counted for it [CNY] (``frame``: the plan's prices)."""
    both_kw = np.minimum(np.clip(import_kw, 0.0, None), np.clip(export_kw, 0.0, None))
    both_kw = np.nan_to_num(both_kw)
    margin = frame[pc.PRICE_CNY_PER_KWH].to_numpy() - frame[pc.EXPORT_PRICE_CNY_PER_KWH].to_numpy()
    return float(both_kw.sum() * HOURS_PER_STEP), float((both_kw * margin).sum() * HOURS_PER_STEP)


def rule_based_plan(
    site: Site,
    forecast: pd.DataFrame,
    state: MeasuredState,
    kind: PlanKind,
    reason: str,
    *,
    forecast_issued_at: datetime | None = None,
    created_at: datetime | None = None,
    version_number: int = 1,
    forecast_fallbacks: Mapping[str, str] | None = None,
) -> Plan:
    """The rule-based ``FALLBACK`` plan of ``forecast``, without the optimiser: what a park
    runs on when planning failed (``reason``) and no plan is in force."""
    config = DEFAULT_CONFIG
    inputs = prepare(site, forecast, state, kind, config, None)
    stamp = _Stamp(
        site,
        kind,
        version_number,
        created_at or datetime.now(UTC),
        forecast_issued_at,
        input_hash(site, forecast, state, kind, None, config),
        time.perf_counter(),
        inputs,
        dict(forecast_fallbacks or {}),
    )
    if inputs.n_steps == 0:
        return _empty_plan(stamp)
    _, verifier = network_for(site)
    return _fallback_plan(stamp, verifier, reason, "planning failed")


def _fallback_plan(
    stamp: _Stamp, verifier: NetworkVerifier, reason: str, what: str = "solver failed"
) -> Plan:
    """The rule-based dispatch, backed off (less heat-pump and battery power, renewables
    curtailed) in intervals where the AC check finds a line, transformer or voltage limit
    broken, until it holds or ``FALLBACK_ROUNDS`` are spent."""
    site, inputs = stamp.site, stamp.inputs
    flex = np.ones(inputs.n_steps)
    for _ in range(FALLBACK_ROUNDS + 1):
        dispatch = fallback_dispatch(site, inputs, flex)
        frame = dispatch_frame(site, inputs, dispatch)
        verification = verifier.verify(frame)
        violations = verification.violations
        network = violations[violations["element"] != "grid_connection"]
        if network.empty:
            break
        broken = pd.DatetimeIndex(frame.index).isin(pd.DatetimeIndex(network["interval"]))
        flex[broken] *= FALLBACK_BACKOFF
    relaxations = relaxations_from(site, inputs, dispatch, None, (), verification)
    summary = _summary(verification, frame, 0, [])
    kpis = compute_kpis(site, frame, inputs.month_peak_import_kw)
    meta = stamp.metadata(
        PlanStatus.FALLBACK, Solver.RULE_BASED, {}, summary, 0, (f"{what}: {reason}",)
    )
    return Plan(meta, frame, kpis, relaxations, ())


def _empty_plan(stamp: _Stamp) -> Plan:
    site, inputs = stamp.site, stamp.inputs
    frame = dispatch_frame(site, inputs, fallback_dispatch(site, inputs))
    nan = float("nan")
    summary = NetworkSummary(True, 0, 0, nan, nan, nan, nan, 0.0, 0.0)
    meta = stamp.metadata(
        PlanStatus.FALLBACK, Solver.NONE, {}, summary, 0, ("no interval to plan",)
    )
    relaxations = relaxations_from(site, inputs, None, None, (), None)
    kpis = compute_kpis(site, frame, inputs.month_peak_import_kw)
    return Plan(meta, frame, kpis, relaxations, ())
