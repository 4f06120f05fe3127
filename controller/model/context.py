"""The problem under construction: parameters fed from inputs, variables, named constraints,
soft-constraint slacks, and the pieces that balances and objective terms are summed from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from controller.config import DispatchConfig
from controller.inputs.dispatch_inputs import HOURS_PER_STEP, DispatchInputs
from controller.inputs.layout import Layout
from controller.kinds import PlanKind
from controller.network.linear import LinearNetwork
from sites import Site

Feed = Callable[[DispatchInputs], np.ndarray | float]


@dataclass(frozen=True)
class Slack:
    """A soft constraint's slack: what gave way, in which unit, at which price."""

    variable: cp.Variable
    unit: str
    penalty: float
    per_interval: bool
    """True for (..., horizon) slacks of power or level; False for horizon totals."""
    energy_factor: float
    """kWh per unit of slack per interval (0.25 for kW slacks, 1 for kWh slacks)."""


@dataclass
class ModelContext:
    site: Site
    layout: Layout
    horizon: int
    kind: PlanKind
    config: DispatchConfig
    linear: LinearNetwork
    network_rows: tuple[int, ...]
    """Rows of ``linear`` the model holds (screened in or tightened)."""
    dt: float = HOURS_PER_STEP
    params: dict[str, cp.Parameter] = field(default_factory=dict)
    feeds: dict[str, Feed] = field(default_factory=dict)
    variables: dict[str, cp.Variable] = field(default_factory=dict)
    constraints: dict[str, cp.Constraint] = field(default_factory=dict)
    inequalities: set[str] = field(default_factory=set)
    slacks: dict[str, Slack] = field(default_factory=dict)
    electric_in: list[cp.Expression] = field(default_factory=list)
    electric_out: list[cp.Expression] = field(default_factory=list)
    heat_in: dict[int, list[cp.Expression]] = field(default_factory=dict)
    heat_pump_source: dict[int, list[cp.Expression]] = field(default_factory=dict)
    injections: dict[str, cp.Expression] = field(default_factory=dict)
    terms: dict[str, cp.Expression] = field(default_factory=dict)

    def param(self, name: str, shape: tuple[int, ...], feed: Feed, **kw: bool) -> cp.Parameter:
        p = cp.Parameter(shape, name=name, **kw)
        self.params[name] = p
        self.feeds[name] = feed
        return p

    def active(self) -> cp.Parameter:
        """1 in real intervals, 0 in padding: ratings are multiplied by it."""
        if "active" not in self.params:
            return self.param("active", (self.horizon,), lambda i: i.active, nonneg=True)
        return self.params["active"]

    def terminal(self) -> cp.Parameter:
        """One-hot on the last interval."""
        if "terminal_mask" not in self.params:
            return self.param(
                "terminal_mask", (self.horizon,), lambda i: i.terminal_mask, nonneg=True
            )
        return self.params["terminal_mask"]

    def var(self, name: str, shape: tuple[int, ...]) -> cp.Variable:
        v = cp.Variable(shape, name=name, nonneg=True)
        self.variables[name] = v
        return v

    def add(self, name: str, constraint: cp.Constraint, inequality: bool = True) -> None:
        if name in self.constraints:
            raise ValueError(f"constraint name {name!r} used twice")
        self.constraints[name] = constraint
        if inequality:
            self.inequalities.add(name)

    def slack(
        self,
        name: str,
        shape: tuple[int, ...],
        unit: str,
        penalty: float,
        energy_factor: float,
        per_interval: bool = True,
    ) -> cp.Variable:
        v = self.var(f"slack_{name}", shape)
        self.slacks[name] = Slack(v, unit, penalty, per_interval, energy_factor)
        return v

    def add_term(self, name: str, expression: cp.Expression) -> None:
        self.terms[name] = self.terms[name] + expression if name in self.terms else expression
