"""Provenance of a plan: which code made it, from which inputs."""

from __future__ import annotations

import hashlib

import pandas as pd

from controller.config import DispatchConfig
from controller.plan import PlanKind
from controller.state import MeasuredState
from forecasting.frame import code_version
from sites import Site


def input_hash(
    site: Site,
    forecast: pd.DataFrame,
    state: MeasuredState,
    kind: PlanKind,
    committed: pd.DataFrame | None,
    config: DispatchConfig,
) -> str:
    digest = hashlib.sha256()
    digest.update(site.model_dump_json().encode())
    for frame in (forecast, committed):
        if frame is not None:
            digest.update(",".join(map(str, frame.columns)).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(repr(sorted(state.battery_soc_kwh.items())).encode())
    digest.update(repr(sorted(state.thermal_storage_level_kwh_th.items())).encode())
    digest.update(repr(state.month_peak_import_kw).encode())
    digest.update(kind.value.encode())
    digest.update(repr(config).encode())
    return digest.hexdigest()


__all__ = ["code_version", "input_hash"]
