"""The LP read from cvxpy's parameter tensor is cvxpy's own LP, and so is the solution read
back: the fast path changes no number."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from dispatch_cases import history_forecast

from controller.config import DEFAULT_CONFIG
from controller.fallback.rules import fallback_dispatch
from controller.inputs.dispatch_inputs import prepare
from controller.inputs.layout import Layout
from controller.inputs.state import default_state
from controller.model.objective import BIG_CAP
from controller.network.linear import injections_matrix, network_for
from controller.network.tightening import new_tightening, with_network
from controller.plans.dispatch import dispatch_frame
from controller.plans.plan import PlanKind
from controller.solver.cache import ModelCache
from controller.solver.highs import HotLp, highs_lp, highs_results, new_highs, pass_lp
from controller.solver.lp_arrays import LpArrays
from controller.solver.lp_data import ParametricLp
from controller.solver.solve import load_parameters
from sites import bundled_sites

SUM_RTOL = 1e-12  # the same products summed in another order
SUM_ATOL = 1e-9  # terms that are zero up to round-off of sums of thousands of products
OBJECTIVE_RTOL = 1e-9  # two simplex optima of one LP (HiGHS's optimality tolerance is 1e-7
OBJECTIVE_ATOL = 1e-6  # on each reduced cost; the objectives agree far closer)

CASES = [
    (site.id, day, kind)
    for site in bundled_sites()
    if not Layout(site).committed_chp  # a MILP goes to HiGHS's branch and bound, not this path
    for day, kind in (("2016-07-15", PlanKind.DAY_AHEAD), ("2016-01-20", PlanKind.INTRADAY))
]


def _assert_same_lp(ours: LpArrays, cvxpys: LpArrays) -> None:
    for field in LpArrays.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(ours, field), getattr(cvxpys, field), err_msg=field)


@pytest.mark.parametrize(("site_id", "day", "kind"), CASES)
def test_arrays_and_solution_are_cvxpys(site_id: str, day: str, kind: PlanKind) -> None:
    site = next(s for s in bundled_sites() if s.id == site_id)
    forecast = history_forecast(site, day).iloc[9:]  # a horizon that needs padding
    inputs = prepare(site, forecast, default_state(site), kind, DEFAULT_CONFIG)
    linear, verifier = network_for(site)
    operating = dispatch_frame(site, inputs, fallback_dispatch(site, inputs))
    ac = verifier.verify(operating)
    tightening = new_tightening(linear, inputs.n_steps)
    tightening.screened[::7] = True  # some network rows, so that the model holds them
    x0 = injections_matrix(linear, operating)
    losses = ac.intervals["losses_kw"].to_numpy()
    inputs = with_network(
        site, inputs, linear, x0, ac, tightening, losses, DEFAULT_CONFIG.flow_margin_fraction
    )
    rows = tuple(int(r) for r in np.flatnonzero(tightening.screened))
    model = ModelCache().get(site, inputs.horizon, kind, DEFAULT_CONFIG, linear, rows).model
    load_parameters(model, inputs)
    for cap in model.caps.values():
        cap.value = BIG_CAP
    stage = model.stages[-1]
    expressions = {n: e for n, e in model.ctx.terms.items()} | {"violations": model.violations}
    lp = ParametricLp.compile(stage.problem, model.ctx.constraints, expressions)

    for factor in (1.0, 1.1):  # new data after compiling goes through the map as well
        model.ctx.params["price"].value = model.ctx.params["price"].value * factor
        model.caps["violations"].value = BIG_CAP / factor
        data, chain, inverse = stage.problem.get_problem_data(cp.HIGHS)
        _assert_same_lp(lp.arrays(lp.parameter_vector()), highs_lp(data))

    highs = new_highs(DEFAULT_CONFIG)  # the LP as cvxpy hands it over, rows and all
    pass_lp(highs, lp.arrays(lp.parameter_vector()))
    highs.run()
    results = highs_results(highs)
    assert results["model_status"] == "kOptimal"
    stage.problem.unpack_results(results, chain, inverse)
    variables = {n: np.array(v.value) for n, v in model.ctx.variables.items()}
    duals = {n: np.array(c.dual_value) for n, c in model.ctx.constraints.items()}
    for v in model.ctx.variables.values():
        v.value = None
    solution = results["solution"]
    lp.save_solution(solution.col_value, solution.row_dual)
    for name, variable in model.ctx.variables.items():
        np.testing.assert_array_equal(variable.value, variables[name], err_msg=name)
    for name, constraint in model.ctx.constraints.items():
        np.testing.assert_array_equal(constraint.dual_value, duals[name], err_msg=name)
    assert any(np.abs(d).max() > 0 for d in duals.values() if d.size)  # duals were compared
    values = lp.evaluate(lp.parameter_vector(), solution.col_value)
    for name, expression in expressions.items():
        expected = float(np.sum(expression.value))
        assert values[name] == pytest.approx(expected, rel=SUM_RTOL, abs=SUM_ATOL), name
    assert any(abs(v) > 1.0 for v in values.values())

    # the solver the planner keeps (single-entry rows as column bounds) reaches the same
    # optimum: the same objective, up to the round-off of another pivot sequence
    hot = HotLp(DEFAULT_CONFIG)
    hot.load(lp.arrays(lp.parameter_vector()))
    hot.highs.run()
    assert hot.highs.getModelStatus().name == "kOptimal"
    assert hot.lp is not None and hot.lp.shape[0] < highs.getLp().num_row_  # rows were folded
    objective = hot.highs.getInfo().objective_function_value
    expected = results["info"].objective_function_value
    assert objective == pytest.approx(expected, rel=OBJECTIVE_RTOL, abs=OBJECTIVE_ATOL)
    assert len(hot.row_duals()) == len(solution.row_dual)
