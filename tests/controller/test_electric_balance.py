"""The electric balance is written once (controller.plans.check) and holds plans and
replayed actuals alike."""

from __future__ import annotations

import numpy as np
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller import electric_balance_error_kw, plan
from controller.plans.check import POWER_ATOL_KW, check_plan
from sim.replay import energy_balance_error_kw
from sites import columns

SHIFT_KW = 10.0
"""A load changed by this much after planning: the balance must be off by exactly that."""


def test_a_plan_balances_and_a_changed_load_does_not() -> None:
    site = site_from(base_mapping())
    index = day_index()
    made = plan(site, forecast(site, index, load_plant_kw=1000.0))
    assert check_plan(site, made).ok
    error = electric_balance_error_kw(site, made.frame)
    assert np.abs(error).max() < POWER_ATOL_KW
    assert np.array_equal(energy_balance_error_kw(site, made.frame), error)
    changed = made.frame.copy()
    load = columns.load_kw(site.assets.electric_loads[0].name)
    changed[load] += SHIFT_KW
    np.testing.assert_allclose(
        electric_balance_error_kw(site, changed), error - SHIFT_KW, atol=1e-9
    )
    report = check_plan(site, type(made)(made.metadata, changed, made.kpis, (), ()))
    assert not report.ok
    assert any("electric balance" in problem for problem in report.problems)
