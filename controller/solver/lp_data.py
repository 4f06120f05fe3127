"""A compiled stage's LP as one affine map of its parameters, and its solution read back.

cvxpy compiles a DPP problem once into a tensor that maps the flattened parameter vector
to the problem data. Its ``get_problem_data`` applies that tensor again on every solve and
re-formats the result for the solver, and ``unpack_results`` walks the inversion chain back
to the variables and constraints: together several milliseconds for our LPs, every step.
:class:`ParametricLp` reads the tensor once and afterwards makes the very same
:class:`~controller.solver.highs.LpArrays` with one sparse product, the matrix structure fixed;
it puts HiGHS's columns and row duals back on the variables and named constraints with
index maps found once. ``tests/controller/test_parametric_lp.py`` holds both equal to
cvxpy's own path.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import cvxpy as cp
import cvxpy.settings as s
import numpy as np
import scipy.sparse as sp
from cvxpy.cvxcore.python import canonInterface
from cvxpy.reductions.solvers.conic_solvers.highs_conif import dims_to_solver_dict

from controller.solver.lp_arrays import LpArrays, lp_arrays
from sites.errors import MicrogridError


class LpMapError(MicrogridError):
    """The compiled problem has a form these maps do not cover (the planner then falls back
    to its rule-based plan, as for any solver failure)."""


@dataclass(frozen=True)
class _Rows:
    """Where one named constraint's duals are among the LP's rows."""

    constraint: cp.Constraint
    rows: np.ndarray
    signs: np.ndarray


@dataclass(frozen=True)
class ParametricLp:
    program: Any
    """cvxpy's compiled program (``ParamConeProg``): parameters, tensors, variable columns."""
    tensor: Any
    """(entries of A and b, parameters + 1): flattened parameters -> data entries."""
    cost_tensor: Any
    """(columns + 1, parameters + 1): flattened parameters -> costs and offset."""
    start: np.ndarray
    index: np.ndarray
    b_rows: np.ndarray
    n_rows: int
    n_eq: int
    col_lower: np.ndarray
    col_upper: np.ndarray
    duals: tuple[_Rows, ...]
    values: LinearValues

    @classmethod
    def compile(
        cls,
        problem: cp.Problem,
        constraints: dict[str, cp.Constraint],
        expressions: dict[str, cp.Expression],
    ) -> ParametricLp:
        """Compile ``problem`` for HiGHS (its parameters must hold values) and read the maps;
        ``constraints`` are those whose duals :meth:`save_solution` sets, ``expressions``
        (affine in the variables) those :meth:`evaluate` computes."""
        data, chain, inverse = problem.get_problem_data(cp.HIGHS)
        program = data[s.PARAM_PROB]
        if program.lb_tensor is not None or program.ub_tensor is not None or program.P is not None:
            raise LpMapError("parametric variable bounds or a quadratic objective")
        program.reduced_A.cache()
        index, indptr, shape = program.reduced_A.problem_data_index
        n_cols = program.x.size
        entries = int(indptr[n_cols])
        b_rows = np.asarray(index[entries:], dtype=np.int64)
        if len(np.unique(b_rows)) != len(b_rows):
            raise LpMapError("a right-hand side entry is stored twice")
        lb, ub = data[s.LOWER_BOUNDS], data[s.UPPER_BOUNDS]
        return cls(
            program=program,
            tensor=program.reduced_A.reduced_mat.tocsr(),
            cost_tensor=program.q.tocsr(),
            start=np.ascontiguousarray(indptr[: n_cols + 1], dtype=np.int32),
            index=np.ascontiguousarray(index[:entries], dtype=np.int32),
            b_rows=b_rows,
            n_rows=int(shape[0]),
            n_eq=int(dims_to_solver_dict(data[s.DIMS])[s.EQ_DIM]),
            col_lower=np.full(n_cols, -np.inf) if lb is None else np.asarray(lb, dtype=float),
            col_upper=np.full(n_cols, np.inf) if ub is None else np.asarray(ub, dtype=float),
            duals=_dual_rows(problem, chain, inverse, int(shape[0]), n_cols, constraints),
            values=LinearValues.compile(program, expressions),
        )

    def parameter_vector(self) -> np.ndarray:
        p = self.program
        return np.asarray(
            canonInterface.get_parameter_vector(
                p.total_param_size,
                p.param_id_to_col,
                p.param_id_to_size,
                lambda i: np.asarray(p.id_to_param[i].value),
            )
        )

    def arrays(self, theta: np.ndarray) -> LpArrays:
        """The LP for the parameter vector ``theta`` (:meth:`parameter_vector`), as
        ``highs_lp`` makes it of cvxpy's data."""
        flat = self.tensor @ theta
        entries = len(self.index)
        b = np.zeros(self.n_rows)
        b[self.b_rows] = flat[entries:]
        cost = np.asarray(self.cost_tensor @ theta).ravel()[:-1]
        return lp_arrays(
            cost,
            self.col_lower,
            self.col_upper,
            b,
            self.n_eq,
            self.start,
            self.index,
            -flat[:entries],
        )

    def evaluate(self, theta: np.ndarray, column_values: Any) -> dict[str, float]:
        """The value of every expression (the sum of its entries) at a solution."""
        return self.values.evaluate(theta, np.asarray(column_values, dtype=float))

    def _save_primal(self, column_values: Any) -> None:
        """Variable values straight from HiGHS's columns."""
        x = np.asarray(column_values, dtype=float)
        program = self.program
        for variable in program.variables:
            col = program.var_id_to_col[variable.id]
            variable.save_value(x[col : col + variable.size].reshape(variable.shape, order="F"))

    def save_solution(self, column_values: Any, row_duals: Any) -> None:
        """Variable values and the named constraints' duals (as cvxpy would report them)."""
        self._save_primal(column_values)
        y = np.asarray(row_duals, dtype=float)
        for found in self.duals:
            dual = found.signs * y[found.rows]
            found.constraint.save_dual_value(dual)


def _dual_rows(
    problem: cp.Problem,
    chain: Any,
    inverse: Any,
    n_rows: int,
    n_cols: int,
    constraints: dict[str, cp.Constraint],
) -> tuple[_Rows, ...]:
    """Each constraint's rows and signs, found by passing row numbers 1..m as HiGHS's duals
    through cvxpy's own inversion once: every dual comes back as +-(its row + 1)."""
    tags = np.arange(1, n_rows + 1, dtype=float)
    results = {
        "solution": SimpleNamespace(col_value=np.zeros(n_cols), row_dual=tags),
        "info": SimpleNamespace(
            objective_function_value=0.0,
            ipm_iteration_count=0,
            crossover_iteration_count=0,
            pdlp_iteration_count=0,
            qp_iteration_count=0,
            simplex_iteration_count=0,
        ),
        "model_status": "kOptimal",
        "run_time": 0.0,
    }
    problem.unpack_results(results, chain, inverse)
    found = []
    for name, constraint in constraints.items():
        tagged = np.asarray(constraint.dual_value, dtype=float)
        rows = np.abs(tagged).round().astype(np.int64) - 1
        in_range = rows.size == 0 or (rows.min() >= 0 and rows.max() < n_rows)
        if not in_range or not np.allclose(np.abs(tagged), rows + 1, rtol=0, atol=1e-9):
            raise LpMapError(f"constraint {name}: a dual is not one row's")
        found.append(_Rows(constraint, rows, np.sign(tagged)))
    return tuple(found)


@dataclass(frozen=True)
class LinearValues:
    """Affine expressions of a compiled program's variables, evaluated straight from a
    solution vector instead of walking cvxpy's expression trees. Each expression is compiled
    once on its own; its cost tensor (parameters -> coefficients of its variables, and the
    offset) is re-indexed to the host program's parameters and columns, and all of them are
    stacked, so one sparse product gives every coefficient."""

    names: tuple[str, ...]
    tensor: Any
    """(sum over expressions of their columns + 1, host parameters + 1)."""
    gather: np.ndarray
    """Per tensor row: the host column it multiplies, or the index of a constant 1."""
    starts: np.ndarray
    """First tensor row of each expression."""

    @classmethod
    def compile(cls, host: Any, expressions: dict[str, cp.Expression]) -> LinearValues:
        n_host = host.x.size
        blocks, gathers, starts, row = [], [], [], 0
        for name, expression in expressions.items():
            program = _compiled_objective(expression)
            tensor = program.q.tocoo()
            to_host = np.empty(program.total_param_size + 1, dtype=np.int64)
            for pid, col in program.param_id_to_col.items():
                size = program.param_id_to_size.get(pid, 1)  # the constant column: 1
                if pid not in host.param_id_to_col:
                    raise LpMapError(f"expression {name}: a parameter the problem does not hold")
                to_host[col : col + size] = host.param_id_to_col[pid] + np.arange(size)
            gather = np.full(program.x.size + 1, n_host, dtype=np.int64)  # last: the offset
            for variable in program.variables:
                if variable.id not in host.var_id_to_col:
                    raise LpMapError(f"expression {name}: a variable the problem does not hold")
                col = program.var_id_to_col[variable.id]
                gather[col : col + variable.size] = host.var_id_to_col[variable.id] + np.arange(
                    variable.size
                )
            blocks.append((tensor.row + row, to_host[tensor.col], tensor.data))
            gathers.append(gather)
            starts.append(row)
            row += len(gather)
        rows, cols, data = (np.concatenate(parts) for parts in zip(*blocks, strict=True))
        stacked = sp.csr_matrix((data, (rows, cols)), shape=(row, host.total_param_size + 1))
        return cls(tuple(expressions), stacked, np.concatenate(gathers), np.asarray(starts))

    def evaluate(self, theta: np.ndarray, x: np.ndarray) -> dict[str, float]:
        coefficients = self.tensor @ theta
        terms = coefficients * np.append(x, 1.0)[self.gather]
        return dict(zip(self.names, np.add.reduceat(terms, self.starts).tolist(), strict=True))


def _compiled_objective(expression: cp.Expression) -> Any:
    """cvxpy's compiled program of ``minimise sum(expression)``, for its cost tensor."""
    scalar = expression if expression.size == 1 else cp.sum(expression)
    data, _, _ = cp.Problem(cp.Minimize(scalar)).get_problem_data(cp.HIGHS)
    program = data[s.PARAM_PROB]
    if program.P is not None:
        raise LpMapError("an expression that is not affine")
    return program
