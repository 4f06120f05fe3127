"""The kinds and statuses of a plan: plain enums, importable without numpy or pandas (the
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
