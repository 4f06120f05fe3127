"""The month's peak allowance and the forecast margin under it, on a park small enough to
plan by hand: the plan keeps the margin below the allowance, or as battery charge the
batteries' local controller can shed to hold the import ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import DEEP_VALLEY, base_mapping, day_index, flat_prices, forecast, site_from

from controller import columns as pc
from controller.inputs.state import MeasuredState
from controller.planner import plan
from controller.plans.plan import PlanStatus
from sites import columns

POWER_TOL_KW = 0.5  # solver tolerances scaled to kW rows, far below anything metered
RATE = 30.0  # CNY/kW a month
LOAD_KW, MARGIN_KW = 1000.0, 300.0


def _plan(
    allowance_kw: float, battery: bool = True, soc_kwh: float = 200.0
) -> tuple[pd.DataFrame, float, np.ndarray]:
    """A flat 1 MW load whose P90 lies 300 kW above its P50, deep-valley prices 10:00-15:00
    and a battery at ``soc_kwh`` (200 kWh: empty) or none: (plan frame, demand charge, valley
    mask)."""
    raw = base_mapping()
    if not battery:
        raw["assets"]["batteries"] = []
    raw["tariff"]["band_prices_cny_per_kwh"] = flat_prices(DEEP_VALLEY)
    raw["tariff"]["demand_charge_cny_per_kw_month"] = RATE
    site = site_from(raw)
    index = day_index()
    fc = forecast(site, index, load_plant_kw=LOAD_KW)
    fc[columns.quantile(columns.load_kw("plant"), 90)] = LOAD_KW + MARGIN_KW
    soc = {"bess": soc_kwh} if battery else {}
    state = MeasuredState(soc, month_peak_import_kw=allowance_kw)
    made = plan(site, fc, state)
    assert made.status is PlanStatus.OPTIMAL
    hours = index.hour
    valley = np.asarray((hours >= 10) & (hours < 15))
    return made.frame, made.metadata.objective_terms["demand_charge_cny"], valley


def test_planned_charge_covers_the_margin_up_to_the_allowance() -> None:
    """Allowance 1,400 kW: in the valley the battery charges 400 kW, the import reaches the
    allowance, and a load 300 kW above plan would be met by charging less; no demand charge
    is added."""
    frame, demand_charge, valley = _plan(1400.0)
    grid_import = frame[pc.GRID_IMPORT_KW].to_numpy()
    charge = frame[columns.battery_charge_kw("bess")].to_numpy()
    assert grid_import.max() == pytest.approx(1400.0, abs=POWER_TOL_KW)
    assert charge[valley].max() == pytest.approx(400.0, abs=POWER_TOL_KW)
    firm = grid_import - charge  # what the batteries could not shed
    assert (firm + MARGIN_KW <= 1400.0 + POWER_TOL_KW).all()
    assert demand_charge == pytest.approx(0.0, abs=RATE * POWER_TOL_KW)


def test_an_almost_empty_battery_keeps_what_defends_the_peak() -> None:
    """Allowance 1,200 kW: the load and its margin (1,300 kW) exceed it, so in every interval
    the battery holds 100 kW it could shed (net charge it could forgo, or discharge power with
    the energy for it at the interval's start). With 30 kWh above its minimum it can from the
    first interval on (100 kW for 15 minutes takes 26.3 kWh), and pays no demand charge."""
    frame, demand_charge, _ = _plan(1200.0, soc_kwh=230.0)
    b = base_mapping()["assets"]["batteries"][0]
    soc_min = b["soc_min_fraction"] * b["capacity_kwh"]
    soc = frame[pc.battery_soc_kwh("bess")].to_numpy()
    held = np.concatenate([[230.0], soc[:-1]]) - soc_min  # at each interval's start
    charge = frame[columns.battery_charge_kw("bess")].to_numpy()
    discharge = frame[columns.battery_discharge_kw("bess")].to_numpy()
    # the local controller nets the setpoints, then discharges up to its rating and the
    # energy held at the interval's start
    room = np.minimum(b["discharge_kw"], held * b["discharge_efficiency"] / 0.25)
    over = frame[pc.GRID_IMPORT_KW].to_numpy() + MARGIN_KW - 1200.0
    assert (over <= charge - discharge + room + POWER_TOL_KW).all()
    assert demand_charge == pytest.approx(0.0, abs=RATE * POWER_TOL_KW)


def test_an_empty_battery_cannot_defend_the_first_interval_and_does_not_pretend_to() -> None:
    """An empty battery has nothing to discharge in the first interval, and charging raises
    the import as much as it could be shed: the plan pays for the 100 kW, and never charges
    and discharges at once to make charge it could forgo (the local controller nets the two,
    so that would defend nothing)."""
    frame, demand_charge, _ = _plan(1200.0)
    charge = frame[columns.battery_charge_kw("bess")].to_numpy()
    discharge = frame[columns.battery_discharge_kw("bess")].to_numpy()
    assert not ((charge > POWER_TOL_KW) & (discharge > POWER_TOL_KW)).any()
    assert demand_charge == pytest.approx(RATE * 100.0, abs=RATE * POWER_TOL_KW)


def test_without_a_battery_the_margin_stays_below_the_allowance_or_is_paid() -> None:
    """No battery, allowance 1,200 kW: the plan pays for the 100 kW the load and its margin
    lie above it, and no more."""
    frame, demand_charge, _ = _plan(1200.0, battery=False)
    assert demand_charge == pytest.approx(RATE * 100.0, abs=RATE * POWER_TOL_KW)
    assert frame[pc.GRID_IMPORT_KW].max() == pytest.approx(LOAD_KW, abs=POWER_TOL_KW)
