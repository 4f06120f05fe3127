"""The simulator: the plant model, closed-loop replay of a park's history, baselines, storage
sizing sweeps, reports. The public API is in ``__all__``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sites.lazy_api import lazy_api

if TYPE_CHECKING:
    from sim.merit import monthly_storage_value_captured
    from sim.plant import Plant, PlantState
    from sim.replay import replay
    from sim.run import run_policies
    from sim.sizing.candidates import CandidateGrid, parse_values
    from sim.sizing.economics import (
        Annualisation,
        SizingEconomics,
        park_with_sizing,
        read_economics,
    )
    from sim.sizing.evaluate import PERFECT, PRODUCTION, RULE_BASED, Period
    from sim.sizing.report import write_outputs
    from sim.sizing.search import around_optimum, lp_limits, lp_promises, solve_optimum
    from sim.sizing.sweep import run_sweep

_HOME: dict[str, str] = {
    "Annualisation": "sim.sizing.economics",
    "around_optimum": "sim.sizing.search",
    "lp_limits": "sim.sizing.search",
    "lp_promises": "sim.sizing.search",
    "solve_optimum": "sim.sizing.search",
    "CandidateGrid": "sim.sizing.candidates",
    "PERFECT": "sim.sizing.evaluate",
    "PRODUCTION": "sim.sizing.evaluate",
    "Period": "sim.sizing.evaluate",
    "Plant": "sim.plant",
    "PlantState": "sim.plant",
    "RULE_BASED": "sim.sizing.evaluate",
    "SizingEconomics": "sim.sizing.economics",
    "monthly_storage_value_captured": "sim.merit",
    "park_with_sizing": "sim.sizing.economics",
    "parse_values": "sim.sizing.candidates",
    "read_economics": "sim.sizing.economics",
    "replay": "sim.replay",
    "run_policies": "sim.run",
    "run_sweep": "sim.sizing.sweep",
    "write_outputs": "sim.sizing.report",
}
"""Each public name and the module that defines it: imported when the name is first read,
so that importing one light module of the package does not load the whole of it."""

__all__ = [
    "Annualisation",
    "CandidateGrid",
    "PERFECT",
    "PRODUCTION",
    "Period",
    "Plant",
    "PlantState",
    "RULE_BASED",
    "SizingEconomics",
    "around_optimum",
    "lp_limits",
    "lp_promises",
    "monthly_storage_value_captured",
    "park_with_sizing",
    "parse_values",
    "read_economics",
    "replay",
    "run_policies",
    "run_sweep",
    "solve_optimum",
    "write_outputs",
]


__getattr__, __dir__ = lazy_api(__name__, _HOME, globals(), __all__)
