"""Solving a compiled dispatch model on new data: the lexicographic stages.

Priority (``DispatchConfig.priority``, default renewables, cost, CO2) is lexicographic:
stage 1 minimises the soft-constraint penalties plus the first tier; every later stage holds
what came before within its tolerance (``tier <= optimum + max(abs, rel x |optimum|)``) and
minimises the next tier. The last tier, CO2, is folded into the stage before it with the
weight ``w = tol / CO2_max``: if x* minimises cost + w CO2 and x_c minimises cost alone,
cost(x*) - cost(x_c) <= w (CO2(x_c) - CO2(x*)) <= w CO2_max = tol, so cost moves by at most its
tolerance and, among plans that close to the cheapest, CO2 is minimised.

The renewables stage also counts battery throughput at ``storage_cycle_weight`` (so that
burning surplus in charge/discharge losses does not count as using it); only the spill
itself is held afterwards, so later stages may cycle the battery for money.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from controller.config import DispatchConfig, Objective
from controller.inputs.dispatch_inputs import DispatchInputs
from controller.model.build import DispatchModel
from controller.model.objective import BIG_CAP, co2_upper_bound_kg, tier_offset
from controller.plans.dispatch import Dispatch
from controller.plans.plan import Binding
from controller.solver.cache import CachedModel
from controller.solver.extract import binding, extract
from controller.solver.highs import (
    FEASIBLE_SOLUTION,
    HIGHS_STATUS,
    HotLp,
    RunFunction,
    SolveOutcome,
    highs_results,
    map_status,
    milp_arrays,
    new_highs,
    pass_lp,
    run_highs,
)
from controller.solver.lp_data import ParametricLp

VIOLATION_ATOL = 1e-3  # penalty units (CNY-equivalent): 1e-6 kWh of a physical limit


class StageFailure(Exception):
    """A stage ended without a usable solution (caught by the planner: fallback)."""

    def __init__(self, stage: str, outcome: SolveOutcome, detail: str = "") -> None:
        self.stage, self.outcome = stage, outcome
        super().__init__(f"stage {stage}: {outcome.value} {detail}".strip())


@dataclass(frozen=True)
class SolveResult:
    dispatch: Dispatch
    tier_values: dict[str, float]
    terms: dict[str, float]
    binding: tuple[Binding, ...]
    outcome: SolveOutcome
    solve_seconds: float
    stage_seconds: tuple[float, ...]
    notes: tuple[str, ...] = ()
    """How the solve went where it left its usual path."""


def load_parameters(model: DispatchModel, inputs: DispatchInputs) -> None:
    ctx = model.ctx
    for name, parameter in ctx.params.items():
        value = np.asarray(ctx.feeds[name](inputs), dtype=float)
        if parameter.is_nonneg():
            value = np.clip(value, 0.0, None)
        if not np.isfinite(value).all():  # prepare() repairs data; this is the safety net
            raise StageFailure("data", SolveOutcome.SOLVER_ERROR, f"{name} is not finite")
        # shape and sign are ensured here, so cvxpy's own validation is skipped (it costs
        # more than the rest of loading the data)
        parameter.save_value(value.reshape(parameter.shape))


def _scalar(expression: cp.Expression) -> float:
    """The value of a scalar expression after a solve (0 for an expression without one)."""
    value = expression.value
    return 0.0 if value is None else float(np.asarray(value, dtype=float).sum())


VIOLATIONS = "violations"


def _tier_key(tier: Objective) -> str:
    return f"tier {tier.value}"


def _term_key(name: str) -> str:
    return f"term {name}"


def _expressions(model: DispatchModel) -> dict[str, cp.Expression]:
    """The scalars a solve reports, by key: each tier, each term, the violation penalty."""
    found = {_tier_key(t): e for t, e in model.tiers.items()}
    found |= {_term_key(name): e for name, e in model.ctx.terms.items()}
    found[VIOLATIONS] = model.violations
    return found


def _tolerance(config: DispatchConfig, tier: Objective, value: float) -> float:
    tol = config.tolerances[tier]
    return max(tol.absolute, tol.relative * abs(value))


def _set_caps(
    model: DispatchModel,
    config: DispatchConfig,
    stage_index: int,
    inputs: DispatchInputs,
    values: Mapping[str, float],
) -> None:
    """Hold what stage ``stage_index`` just optimised (``values``: its solution's scalars)."""
    stage = model.stages[stage_index]
    if stage_index == 0:
        value = values[VIOLATIONS]
        model.caps["violations"].value = value + max(VIOLATION_ATOL, 1e-6 * abs(value))
    model_value = values[_tier_key(stage.tier)]
    full = model_value + tier_offset(stage.tier, inputs)
    model.caps[stage.tier.value].value = model_value + _tolerance(config, stage.tier, full)


def _run_highs_stages(
    entry: CachedModel, inputs: DispatchInputs, config: DispatchConfig, run: RunFunction
) -> tuple[SolveOutcome, list[float], dict[str, float]]:
    """Each stage as its own HiGHS run. With ``config.warm_start`` each stage keeps its HiGHS
    instance between solves of this compiled problem (the next intraday step, or the next
    day) and hands it only what changed, so it starts from its last optimal basis; when
    that start does not end optimal, the stage is run again from scratch with presolve.
    Without it, every stage starts from scratch. (A stage's optimum is a poor start for the
    *next stage*: its objective leaves most variables free.)"""
    model = entry.model
    seconds: list[float] = []
    values: dict[str, float] = {}
    for k, stage in enumerate(model.stages):
        _prepare_stage(model, config, k, inputs, values)
        lp = entry.lps.get(k)
        if lp is None:
            # a form the maps do not cover raises LpMapError: cvxpy's own path then solves it
            lp = ParametricLp.compile(stage.problem, model.ctx.constraints, _expressions(model))
            entry.lps[k] = lp
        hot = entry.solvers.get(k) if config.warm_start else None
        warm = hot is not None
        if hot is None:
            hot = HotLp(config)
        theta = lp.parameter_vector()
        hot.load(lp.arrays(theta))
        t0 = time.perf_counter()
        try:
            run(hot.highs)
            if warm and hot.highs.getModelStatus().name != "kOptimal":
                hot.restart()
                run(hot.highs)
        except (RuntimeError, ValueError, ArithmeticError) as exc:
            entry.solvers.clear()
            raise StageFailure(stage.tier.value, SolveOutcome.SOLVER_ERROR, str(exc)) from exc
        seconds.append(time.perf_counter() - t0)
        status = HIGHS_STATUS.get(hot.highs.getModelStatus().name, cp.SOLVER_ERROR)
        stage_outcome = map_status(status)
        if not stage_outcome.usable:
            entry.solvers.clear()
            raise StageFailure(stage.tier.value, stage_outcome)
        if config.warm_start:
            entry.solvers[k] = hot
        x = hot.values()
        values = lp.evaluate(theta, x)
        if k == len(model.stages) - 1:
            lp.save_solution(x, hot.row_duals())
    return SolveOutcome.SOLVED, seconds, values


def _prepare_stage(
    model: DispatchModel,
    config: DispatchConfig,
    k: int,
    inputs: DispatchInputs,
    values: dict[str, float],
) -> None:
    """Before stage ``k``: the caps that hold the earlier tiers' optima (``values``), and the
    weight of a tier folded into this one."""
    stage = model.stages[k]
    if k > 0:
        _set_caps(model, config, k - 1, inputs, values)
    if stage.folded is not None:
        bound = co2_upper_bound_kg(model.ctx, inputs)
        model.fold_weight.value = _tolerance(config, stage.tier, 0.0) / bound


def _run_milp_stages(
    model: DispatchModel, inputs: DispatchInputs, config: DispatchConfig, run: RunFunction
) -> tuple[SolveOutcome, list[float], dict[str, float]]:
    """A model with binaries (CHP commitment): each stage compiled by cvxpy and run by HiGHS's
    branch and bound, with the time limit per stage. The compiled parametric LP and the
    warm-started instances of the LP path do not take integer columns, so nothing is kept
    between solves. A stage stopped by the time limit with an incumbent uses it (reported as
    ``solved_inaccurate``: feasible, optimality not proven); without one the stage fails and
    the planner falls back to its rules. Duals of a MIP mean nothing: no binding report."""
    seconds: list[float] = []
    outcome = SolveOutcome.SOLVED
    values: dict[str, float] = {}
    for k, stage in enumerate(model.stages):
        _prepare_stage(model, config, k, inputs, values)
        data, chain, inverse = stage.problem.get_problem_data(cp.HIGHS)
        lp, integer = milp_arrays(data)
        highs = new_highs(config)
        pass_lp(highs, lp, integer)
        t0 = time.perf_counter()
        try:
            run(highs)
        except (RuntimeError, ValueError, ArithmeticError) as exc:
            raise StageFailure(stage.tier.value, SolveOutcome.SOLVER_ERROR, str(exc)) from exc
        seconds.append(time.perf_counter() - t0)
        results = highs_results(highs)
        stage_outcome = map_status(HIGHS_STATUS.get(results["model_status"], cp.SOLVER_ERROR))
        if (
            stage_outcome is SolveOutcome.TIME_LIMIT
            and results["info"].primal_solution_status == FEASIBLE_SOLUTION
        ):
            stage_outcome = SolveOutcome.INACCURATE
            results["model_status"] = "kOptimal"  # so that cvxpy reads the incumbent back
        if not stage_outcome.usable:
            raise StageFailure(stage.tier.value, stage_outcome)
        if stage_outcome is SolveOutcome.INACCURATE:
            outcome = stage_outcome
        stage.problem.unpack_results(results, chain, inverse)
        values = {key: _scalar(e) for key, e in _expressions(model).items()}
    return outcome, seconds, values


def _run_cvxpy_stages(
    model: DispatchModel, inputs: DispatchInputs, config: DispatchConfig
) -> tuple[SolveOutcome, list[float], dict[str, float]]:
    """Any other solver cvxpy knows, one stage problem after the other."""
    seconds: list[float] = []
    outcome = SolveOutcome.SOLVED
    values: dict[str, float] = {}
    for k, stage in enumerate(model.stages):
        _prepare_stage(model, config, k, inputs, values)
        t0 = time.perf_counter()
        try:
            stage.problem.solve(solver=config.solver)
        except (cp.error.SolverError, ValueError, ArithmeticError) as exc:
            raise StageFailure(stage.tier.value, SolveOutcome.SOLVER_ERROR, str(exc)) from exc
        seconds.append(time.perf_counter() - t0)
        stage_outcome = map_status(stage.problem.status)
        if not stage_outcome.usable:
            raise StageFailure(stage.tier.value, stage_outcome)
        if stage_outcome is SolveOutcome.INACCURATE:
            outcome = stage_outcome
        values = {key: _scalar(e) for key, e in _expressions(model).items()}
    return outcome, seconds, values


def solve_model(
    entry: CachedModel,
    inputs: DispatchInputs,
    config: DispatchConfig,
    run: RunFunction = run_highs,
) -> SolveResult:
    """Run the stages on new data. Raises :class:`StageFailure` if any stage fails.

    A problem for HiGHS takes the fast path (:func:`_run_highs_stages` for an LP,
    :func:`_run_milp_stages` with binaries), which reads cvxpy's compiled problem past its
    public interface. Should that path fail in itself (a compiled
    form its maps do not cover, or a cvxpy whose internals moved: any exception but a
    stage's own verdict), the stages run again on cvxpy's own path, the compiled problem
    keeps to that path from then on, and the result says so in its notes. Anything that
    fails on cvxpy's own path is a :class:`StageFailure`: the planner then plans by its
    rules."""
    model = entry.model
    with entry.lock:
        start = time.perf_counter()
        load_parameters(model, inputs)
        notes: tuple[str, ...] = ()
        if config.solver.upper() == "HIGHS" and entry.fast_path_error is None:
            mixed = model.stages[0].problem.is_mixed_integer()
            try:
                outcome, stage_seconds, values = _reset_and(
                    model,
                    lambda: (
                        _run_milp_stages(model, inputs, config, run)
                        if mixed
                        else _run_highs_stages(entry, inputs, config, run)
                    ),
                )
                dispatch, bound = _read(model, inputs)
            except StageFailure:
                raise
            except Exception as exc:  # any failure of the fast path's own code
                entry.fast_path_error = f"{type(exc).__name__}: {exc}"
                entry.lps.clear()
                entry.solvers.clear()
                outcome, stage_seconds, values, dispatch, bound = _own_path(model, inputs, config)
        else:
            outcome, stage_seconds, values, dispatch, bound = _own_path(model, inputs, config)
        if entry.fast_path_error is not None:
            notes = (f"solved on cvxpy's own path: the fast path failed ({entry.fast_path_error})",)
        tier_values = {t.value: values[_tier_key(t)] + tier_offset(t, inputs) for t in model.tiers}
        terms = {name: values[_term_key(name)] for name in model.ctx.terms}
        terms["violation_penalty"] = values[VIOLATIONS]
        return SolveResult(
            dispatch,
            tier_values,
            terms,
            bound,
            outcome,
            time.perf_counter() - start,
            tuple(stage_seconds),
            notes,
        )


_Stages = tuple[SolveOutcome, list[float], dict[str, float]]


def _reset_and(model: DispatchModel, stages: Callable[[], _Stages]) -> _Stages:
    """Run ``stages`` from open caps (no tier held yet, nothing folded)."""
    for cap in model.caps.values():
        cap.value = BIG_CAP
    model.fold_weight.value = 0.0
    return stages()


def _read(model: DispatchModel, inputs: DispatchInputs) -> tuple[Dispatch, tuple[Binding, ...]]:
    return extract(model, inputs), binding(model, inputs)


def _own_path(
    model: DispatchModel, inputs: DispatchInputs, config: DispatchConfig
) -> tuple[SolveOutcome, list[float], dict[str, float], Dispatch, tuple[Binding, ...]]:
    """The stages on cvxpy's own path (its solve, its inversion of the solution); any failure
    there is a :class:`StageFailure`."""
    try:
        outcome, seconds, values = _reset_and(
            model, lambda: _run_cvxpy_stages(model, inputs, config)
        )
        dispatch, bound = _read(model, inputs)
    except StageFailure:
        raise
    except Exception as exc:
        raise StageFailure(
            "cvxpy", SolveOutcome.SOLVER_ERROR, f"{type(exc).__name__}: {exc}"
        ) from exc
    return outcome, seconds, values, dispatch, bound
