"""Per-interval connection limits (a utility's target exchange profile): held where they can
be, the import side relaxed through the named slack ``grid_import_limit`` where it cannot."""

from __future__ import annotations

import numpy as np
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller import columns as pc
from controller.inputs.state import MeasuredState, default_state
from controller.planner import plan
from controller.plans.plan import PlanStatus

TOL_KW = 1.0


def test_per_interval_limits_hold_and_the_rest_of_the_day_keeps_the_connections() -> None:
    site = site_from(base_mapping())
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 9) & (hours < 15), 1900.0, 0.0)
    fc = forecast(site, index, pv_roof_kw=pv, load_plant_kw=800.0)
    free = plan(site, fc)
    window = index[(hours >= 10) & (hours < 12)]  # PV would export about 1.1 MW here
    assert float(free.frame.loc[window, pc.GRID_EXPORT_KW].max()) > 500.0
    limits = tuple((t, 10_000.0, 300.0) for t in window)
    state = MeasuredState(**{**default_state(site).__dict__, "grid_limits_kw": limits})
    held = plan(site, fc, state)
    # curtailing may cost the self-consumption target; no connection limit gives way
    assert not [r for r in held.relaxations if r.constraint.startswith("grid_")]
    assert float(held.frame.loc[window, pc.GRID_EXPORT_KW].max()) <= 300.0 + TOL_KW
    outside = index[hours >= 13]
    assert float(held.frame.loc[outside, pc.GRID_EXPORT_KW].max()) > 300.0


def test_an_import_limit_the_park_cannot_keep_is_relaxed_and_named() -> None:
    raw = base_mapping()
    raw["assets"]["batteries"] = []
    raw["assets"]["pv"] = []
    site = site_from(raw)
    index = day_index()
    fc = forecast(site, index, load_plant_kw=1000.0)
    window = index[:8]
    limits = tuple((t, 600.0, 0.0) for t in window)
    state = MeasuredState(**{**default_state(site).__dict__, "grid_limits_kw": limits})
    result = plan(site, fc, state)
    assert result.status is PlanStatus.RELAXED
    over = [r for r in result.relaxations if r.constraint.startswith("grid_import_limit")]
    assert over and over[0].amount == pytest.approx(400.0, abs=10.0)
    assert set(over[0].intervals) == set(window)
