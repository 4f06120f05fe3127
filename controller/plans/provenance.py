"""Provenance of a plan: which code made it, from which inputs.

The input hash is stored with every plan, so its value must not change: frames enter it as
``pandas.util.hash_pandas_object(frame, index=True)``, computed from the arrays by
:func:`controller.plans.row_hash.frame_row_hashes`; a committed plan's are computed once per plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pandas as pd

from controller.config import DispatchConfig
from controller.inputs.dispatch_inputs import per_site, site_json
from controller.inputs.state import MeasuredState
from controller.plans.plan import Plan, PlanKind
from controller.plans.row_hash import frame_row_hashes
from forecasting import code_version
from sites import Site


@per_site
def _site_digest(site: Site) -> hashlib._Hash:
    """The hash state after the site's configuration (its JSON is the costly part; a Site
    is frozen, so it is computed once per Site object)."""
    return hashlib.sha256(site_json(site).encode())


def _inputs_digest(
    site: Site, frames: tuple[Plan | pd.DataFrame | None, ...], with_columns: bool
) -> hashlib._Hash:
    """The hash state after the site's configuration and each frame's rows (a Plan's are
    computed once per plan), with the frame's column names where ``with_columns``."""
    digest = _site_digest(site).copy()
    for frame in frames:
        if frame is None:
            continue
        hashes = frame.row_hashes if isinstance(frame, Plan) else frame_row_hashes(frame)
        if with_columns:
            digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(hashes.tobytes())
    return digest


def input_hash(
    site: Site,
    forecast: pd.DataFrame,
    state: MeasuredState,
    kind: PlanKind,
    committed: Plan | pd.DataFrame | None,
    config: DispatchConfig,
) -> str:
    """The inputs of one plan: site, forecast, measured state, kind, commitment, settings."""
    digest = _inputs_digest(site, (forecast, committed), with_columns=True)
    digest.update(repr(sorted(state.battery_soc_kwh.items())).encode())
    digest.update(repr(sorted(state.thermal_storage_level_kwh_th.items())).encode())
    digest.update(repr(state.month_peak_import_kw).encode())
    digest.update(repr(state.month_peak_target_kw).encode())
    digest.update(repr(state.renewables_year_to_date).encode())
    digest.update(repr(state.grid_limits_kw).encode())
    digest.update(kind.value.encode())
    digest.update(repr(config).encode())
    return digest.hexdigest()


def replay_input_hash(site: Site, truth: pd.DataFrame, settings: Mapping[str, str]) -> str:
    """The inputs of one replay: site, the replayed history (``truth``) and the run's
    settings."""
    digest = _inputs_digest(site, (truth,), with_columns=False)
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()


__all__ = ["code_version", "frame_row_hashes", "input_hash", "replay_input_hash"]
