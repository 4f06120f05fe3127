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
    """The solver that made a plan (``PlanMetadata.solver``): the optimiser's, also on a
    FALLBACK plan, which records the solver that failed."""

    HIGHS = "HIGHS"

    # shown as its value, as the plain string it replaced: a configuration's repr enters the
    # plan's input hash, which must not change with the type
    __repr__ = str.__repr__
