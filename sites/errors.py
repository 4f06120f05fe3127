"""Errors of the whole project: one base class, one subclass per kind of failure.

They live in ``sites`` because it is the package every other one imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MicrogridError(Exception):
    """Base of every error this project raises on purpose."""


class DataError(MicrogridError):
    """Time-series data (history, measurements, forecasts) that cannot be used as given."""


class InfeasiblePlanError(MicrogridError):
    """A planning problem that no dispatch can satisfy, even with its soft limits."""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a site file: where, what was there, and what is accepted."""

    file: str
    field: str
    value: Any
    rule: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: got {_short(self.value)}: {self.rule}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SiteConfigError(MicrogridError):
    """A site description that does not validate; carries every problem, not only the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in site configuration:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
