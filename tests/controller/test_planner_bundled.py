"""Each bundled park on a summer and a winter day (the history as a perfect forecast):
the plan passes the invariant checker, the AC check, and matches an independently written
perfect-information LP of the same day."""

from __future__ import annotations

from typing import Any

import pytest
from dispatch_cases import history_forecast
from reference_lp import reference_day

from controller import columns as pc
from controller.config import DEFAULT_CONFIG, Objective
from controller.inputs.state import default_state
from controller.planner import plan
from controller.plans.check import check_plan
from controller.plans.plan import PlanStatus
from network_models.verify import NetworkVerifier
from sites import load_bundled_site

DAYS = {"summer": "2016-07-12", "winter": "2016-01-20"}
PARKS = ["chiping-aluminium", "gaotang-textile", "liaocheng-chemical"]
SPILL_TOL_KWH = DEFAULT_CONFIG.tolerances[Objective.RENEWABLES].absolute + 0.01
"""The renewables tier is held to its tolerance; both LPs use the same."""
REFERENCE_COST_ATOL_CNY = 5.0
"""Cost tier tolerance (1 CNY) + CO2 folded in (at most 1 CNY by construction) + what 1 kWh
of spill tolerance can be worth; on daily bills of 10^5 - 10^6 CNY."""


@pytest.mark.parametrize("season", DAYS)
@pytest.mark.parametrize("site_id", PARKS)
def test_bundled_park_plan_is_valid_and_matches_the_reference_lp(site_id: str, season: str) -> None:
    site = load_bundled_site(site_id)
    forecast = history_forecast(site, DAYS[season])
    state = default_state(site)
    result = plan(site, forecast, state)
    report = check_plan(site, result)
    assert report.ok, report
    assert result.status is PlanStatus.OPTIMAL, result.relaxations
    assert NetworkVerifier(site).verify(result.frame).ok
    assert result.metadata.network.ok

    frame = result.frame
    reference = reference_day(
        site,
        forecast,
        frame[pc.NETWORK_LOSSES_KW].to_numpy(),
        dict(state.battery_soc_kwh),
        dict(state.thermal_storage_level_kwh_th),
        state.month_peak_import_kw,
    )
    terms = result.metadata.objective_terms
    assert terms[Objective.RENEWABLES.value] == pytest.approx(
        reference.spill_kwh, abs=SPILL_TOL_KWH
    )
    network_bound = any(b.constraint.startswith("network") for b in result.binding)
    assert result.kpis.total_cost_cny >= reference.cost_cny - REFERENCE_COST_ATOL_CNY
    if not network_bound:
        assert result.kpis.total_cost_cny == pytest.approx(
            reference.cost_cny, abs=REFERENCE_COST_ATOL_CNY
        )
    # the optimiser's cost tier also counted what it booked both ways at the connection, which
    # the plan cancels (controller.plans.dispatch.net_connection_flows)
    netted = result.metadata.connection_netted_cny
    assert terms[Objective.COST.value] == pytest.approx(
        result.kpis.total_cost_cny + netted, abs=1e-3
    )


def _failing_solver(highs: Any) -> None:
    raise RuntimeError("injected solver failure")


@pytest.mark.parametrize("site_id", PARKS)
def test_bundled_park_fallback_respects_every_hard_limit(site_id: str) -> None:
    site = load_bundled_site(site_id)
    result = plan(site, history_forecast(site, DAYS["winter"]), run=_failing_solver)
    assert result.status is PlanStatus.FALLBACK
    assert check_plan(site, result).ok, check_plan(site, result)
    assert result.relaxations == ()  # heat met, SoC window, grid limits, AC network check
    assert NetworkVerifier(site).verify(result.frame).ok
