"""Compiled dispatch problems, kept per site, horizon bucket, kind, settings and rows."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from controller.config import DispatchConfig
from controller.inputs.dispatch_inputs import structure_json
from controller.kinds import PlanKind
from controller.model.build import DispatchModel, build_model
from controller.network.linear import LinearNetwork
from controller.solver.highs import HotLp
from controller.solver.lp_data import ParametricLp
from sites import Site

MODEL_CACHE_SIZE = 32
DATA_ONLY = {"demand_charge_share": 1.0, "peak_margin_scale": 1.0, "network_margin_scale": 1.0}
"""Settings that only scale the data a compiled problem is given (see
:func:`controller.inputs.dispatch_inputs.prepare`), not its structure: problems that differ in them
alone are one compiled problem (the month's target is chosen daily with a new share in a month
without history)."""


@dataclass
class CachedModel:
    model: DispatchModel
    lock: threading.Lock
    lps: dict[int, ParametricLp] = field(default_factory=dict)
    """Each stage's LP data as a map of the parameters, read once from the compiled stage."""
    solvers: dict[int, HotLp] = field(default_factory=dict)
    """Each stage's HiGHS instance, holding its last optimal basis: the next solve starts
    from it (see :class:`controller.solver.highs.HotLp`)."""
    fast_path_error: str | None = None
    """Why the fast path failed on this problem, once it has: its solves then take cvxpy's
    own path (:func:`controller.solver.solve.solve_model`)."""


class ModelCache:
    """Compiled problems per (site, horizon, kind, config, network rows), least recent out."""

    def __init__(self, size: int = MODEL_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, CachedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        site: Site,
        horizon: int,
        kind: PlanKind,
        config: DispatchConfig,
        linear: LinearNetwork,
        rows: tuple[int, ...],
    ) -> CachedModel:
        key = hashlib.sha256(
            "|".join(
                [
                    structure_json(site),
                    str(horizon),
                    kind.value,
                    repr(_structure(config)),
                    repr(rows),
                ]
            ).encode()
        ).hexdigest()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        model = build_model(site, horizon, kind, config, linear, rows)
        entry = CachedModel(model, threading.Lock())
        with self._lock:
            self._entries[key] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


DEFAULT_CACHE = ModelCache()


def _structure(config: DispatchConfig) -> DispatchConfig:
    """``config`` with the data-only settings at their defaults (the cache key)."""
    return dataclasses.replace(config, **DATA_ONLY)  # type: ignore[arg-type]
