"""The kinds, statuses and solvers of a plan: plain enums, importable without numpy or pandas (the
command line's options take them). `controller.plans.plan` re-exports both."""

from __future__ import annotations

from enum import StrEnum


class PlanKind(StrEnum):
    DAY_AHEAD = "day-ahead"
    INTRADAY = "intraday"


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"
    """Solved; every constraint held; the AC check found no violation."""
    RELAXED = "relaxed"
    """Solved with soft constraints giving way (see ``Plan.relaxations``)."""
    FALLBACK = "fallback"
    """The solver failed or timed out: rule-based self-consumption dispatch within hard limits."""


class Solver(StrEnum):
    """What made a plan's dispatch (``PlanMetadata.solver``)."""

    HIGHS = "HIGHS"
    """The optimiser (``DispatchConfig.solver``)."""
    RULE_BASED = "rule-based"
    """The fallback rules (a FALLBACK plan)."""
    NONE = "none"
    """Nothing: a plan with no interval to plan."""

    # shown as its value, as the plain string it replaced: a configuration's repr enters the
    # plan's input hash, which must not change with the type
    __repr__ = str.__repr__
