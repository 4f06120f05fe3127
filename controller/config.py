"""Dispatch settings: objective priority, penalties, tolerances, intraday rules, solver.

A controller-side object with defaults, so a park's YAML needs no dispatch section; pass a
different :class:`DispatchConfig` to :func:`controller.planner.plan` to change them for a park.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from controller.kinds import Solver


class Objective(StrEnum):
    """The three objective tiers, each a quantity over the horizon."""

    RENEWABLES = "renewable_spill_kwh"
    """Available renewable energy not used on site: curtailment plus export [kWh]."""
    COST = "cost_cny"
    """Energy, demand charge, degradation and fuel minus export revenue (+ intraday, the
    deviation from the committed schedule at the tariff's deviation price) [CNY]."""
    CO2 = "co2_kg"
    """Grid import times the grid factor plus fuel emissions [kg]."""


@dataclass(frozen=True)
class Penalties:
    """Prices of the soft constraints that let an infeasible problem give a plan all the same.

    Physical limits cost ``1e3`` per kWh (or kWh_th, kWh-equivalent for network rows, which
    are scaled to kW at their most sensitive injection): one unit of slack lets at most a few
    units of renewable energy more be used (round-trip efficiency, COP), so a limit never
    gives way for renewables or money. Policy targets cost 10 per kWh: above the renewable
    spill they are measured in, below every physical limit.
    """

    heat_unmet_per_kwh_th: float = 1e3
    grid_import_limit_per_kwh: float = 1e3
    battery_soc_window_per_kwh: float = 1e3
    thermal_storage_level_per_kwh_th: float = 1e3
    network_per_kwh: float = 1e3
    terminal_storage_per_kwh: float = 1e2
    """End-of-horizon storage below its start: cheaper than physics, dearer than policy."""
    self_consumption_target_per_kwh: float = 10.0
    export_target_per_kwh: float = 10.0


@dataclass(frozen=True)
class TierTolerance:
    """How far a later stage may move an earlier tier's optimum: max(abs, rel x |value|)."""

    absolute: float
    relative: float = 1e-6


def _default_tolerances() -> dict[Objective, TierTolerance]:
    return {
        # 1 kWh in a day of tens of MWh: far below forecast error, above solver noise.
        Objective.RENEWABLES: TierTolerance(1.0),
        # 1 CNY on a bill of 10^5-10^6 CNY a day.
        Objective.COST: TierTolerance(1.0),
        Objective.CO2: TierTolerance(1.0),
    }


@dataclass(frozen=True)
class DispatchConfig:
    """Everything a planning step may be tuned by (defaults suit the bundled parks)."""

    priority: tuple[Objective, ...] = (Objective.RENEWABLES, Objective.COST, Objective.CO2)
    """Lexicographic order. Each tier but the last two is solved alone and then held within
    its tolerance; the last tier is folded into the one before it with the weight
    tolerance / upper bound, which moves that tier by at most its tolerance (see
    :mod:`controller.solver.solve`)."""
    tolerances: dict[Objective, TierTolerance] = field(default_factory=_default_tolerances)
    penalties: Penalties = Penalties()
    storage_cycle_weight: float = 0.1
    """Weight of battery throughput [per kWh] in the renewables tier. Charging and
    discharging in the same interval would 'use' surplus by burning it in losses (at most
    1 - eta_c eta_d ~ 10 % of the energy charged, 0.05 per kWh of throughput); storing
    surplus for later avoids spill of at least 0.5 per kWh of throughput. Any weight between
    those counts burning as no use and storing as use."""
    enforce_policy_targets: bool = True
    keep_storage_level: bool = True
    """Batteries and tanks end the horizon at least as full as they start (soft)."""
    deviation_band_fraction: float = 0.05
    """Intraday: no penalty within this share of the committed connection-point power ..."""
    deviation_band_min_kw: float = 200.0
    """... or within this many kW, whichever is larger."""
    waste_heat_quantile: int = 10
    """The quantile of a waste-heat stream's forecast the plan counts on (10: its P10; 50:
    the median). Heat pumps planned on the median take more of the stream than it truly
    gives about half the time; a demand sharing the stream then runs short of heat."""
    peak_margin_scale: float = 1.0
    """The plan keeps its import this many forecast bands below the month's peak allowance
    (one band: the root sum of squares of the loads' P90 - P50 and the renewables' P50 -
    P10), so that forecast error does not set a new peak; 0 plans right up to it."""
    network_margin_scale: float = 1.0
    """Network rows (branch flows, bus voltages) keep this many forecast bands below their
    limits: the root sum of squares, over the loads, PV, wind and heat demands (as the
    electric draw that meets them), of each one's sensitivity times its P90 - P50 or P50 -
    P10 (whichever brings the row nearer its limit), so that the
    true loads and weather do not overload what the plan held at its limit; 0 plans right up
    to the limits."""
    demand_charge_share: float = 1.0
    """The share of a month's demand charge per kW of peak the plan weighs against its
    energy: 1 for a real plan. A plan over d days of a D-day month that sets the month's
    peak for what those days alone would earn uses d / D (the month's target chosen from
    less than a month of history, :mod:`controller.peak_target`)."""
    max_ac_rounds: int = 3
    ac_margin_fraction: float = 0.005
    """Extra tightening beyond the AC error observed, as a share of the limit."""
    flow_margin_fraction: float = 0.005
    """Branch flow rows hold each branch this share of its rating below it from the start.
    The rows are linear about the rule-based dispatch and under-estimate the AC loading of a
    plan that moves far from it: in a replay of chiping-aluminium from 2016-01-20 with
    15-minute re-planning, by 0.2 % on average and 0.5 % at most, and two plans in three
    needed an AC tightening round (a second solve) for that alone."""
    solver: Solver = Solver.HIGHS
    warm_start: bool = True
    """Start each solve from the previous optimal basis of the same compiled problem."""
    time_limit_s: float = 20.0
    horizon_bucket_steps: int = 16
    """Horizons are padded to a multiple of this, so one compiled problem serves every
    intraday step of the same bucket (4 h)."""

    def deviation_band_kw(self, committed_net_kw: np.ndarray) -> np.ndarray:
        """Tolerance band around a committed connection-point power (import - export, kW):
        the planner's intraday penalty starts outside it, and a replay's adherence is
        measured against it. NaN where nothing was committed."""
        committed = np.asarray(committed_net_kw, dtype=float)
        band = np.maximum(
            self.deviation_band_fraction * np.abs(committed), self.deviation_band_min_kw
        )
        return np.where(np.isnan(committed), np.nan, band)


DEFAULT_CONFIG = DispatchConfig()
