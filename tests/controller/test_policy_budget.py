"""The annual policy targets as a budget: what the year so far is ahead of or behind them
moves what a plan may export."""

from __future__ import annotations

import numpy as np
from dispatch_cases import base_mapping, day_index, forecast, heat_mapping, site_from

from controller import columns as pc
from controller.inputs.state import MeasuredState, RenewableTally
from controller.planner import plan
from controller.plans.check import check_plan

YEAR_KWH = 3.0e6  # renewables available in the year so far
ENERGY_TOL_KWH = 1.0  # the renewables tier's tolerance (controller.config)


def _export_kwh(tally: RenewableTally) -> float:
    site = site_from(base_mapping())
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.clip(1800 * np.sin(np.pi * (hours - 6) / 12), 0, None)
    fc = forecast(site, index, pv_roof_kw=pv, load_plant_kw=np.full(96, 400.0))
    result = plan(site, fc, MeasuredState(renewables_year_to_date=tally))
    assert check_plan(site, result).ok, check_plan(site, result)
    return float(result.frame[pc.GRID_EXPORT_KW].sum() * 0.25)


def test_a_year_ahead_of_the_export_target_may_export_more_and_one_behind_less() -> None:
    on_target = _export_kwh(RenewableTally(YEAR_KWH, 0.8 * YEAR_KWH, 0.2 * YEAR_KWH, 0.5))
    ahead = _export_kwh(RenewableTally(YEAR_KWH, 0.9 * YEAR_KWH, 0.1 * YEAR_KWH, 0.5))
    behind = _export_kwh(RenewableTally(YEAR_KWH, 0.75 * YEAR_KWH, 0.25 * YEAR_KWH, 0.5))
    assert behind + ENERGY_TOL_KWH < on_target < ahead - ENERGY_TOL_KWH


SHARE_TOL = 1e-3


def _share(target: float | None) -> float:
    raw = heat_mapping()
    raw["assets"]["pv"] = base_mapping()["assets"]["pv"]
    raw["policy"] = {"min_renewable_share_of_consumption": target}
    site = site_from(raw)
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.clip(1800 * np.sin(np.pi * (hours - 6) / 12), 0, None)
    fc = forecast(
        site,
        index,
        pv_roof_kw=pv,
        load_plant_kw=np.full(96, 900.0),
        **{"heat_demand_hot_water_kw_th": 1500.0},
    )
    result = plan(site, fc)
    assert check_plan(site, result).ok, check_plan(site, result)
    return result.kpis.renewable_share_of_consumption


def test_a_renewable_share_target_moves_heat_off_the_grid() -> None:
    """Heat from the gas boiler instead of the heat pumps lowers the park's electricity
    consumption, so a minimum renewable share of consumption is reached that way."""
    free = _share(None)
    target = free + 0.05
    held = _share(target)
    assert held >= target - SHARE_TOL
