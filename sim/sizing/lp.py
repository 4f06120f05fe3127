"""The perfect-foresight sizing LP: the storage sizes as continuous decision variables, with
the planner's physics over the whole period, as REopt and PyPSA size.

One problem over the period (no month windows, no re-planning), knowing the true loads,
weather and heat demand. It is assembled from the planner's own building blocks
(:mod:`controller.model`) for everything whose size is fixed (grid connection, PV, wind,
loads, heat pumps, waste heat, boilers, CHP, the heat and electric balances, the policy
targets over the period), fed with the planner's own prepared arrays
(:func:`controller.inputs.prepare` of the period's truth, expected network losses from the
AC power flow of the rule-based dispatch); the batteries and the thermal stores are added
here with their sizes as variables:

- battery: total energy ``E`` [kWh] and power ``P`` [kW], split over the park's batteries
  in proportion to their present capacities and ratings, as
  :func:`sim.sizing.candidates.variant_site` splits a candidate; the SoC window, the start
  and the end level are the site's fractions of the capacity (hard: the LP starts inside
  the window); charge / rating + discharge / rating <= 1 as in the planner;
- thermal store: capacity ``C`` [kWh_th] per tank, with its charge and discharge rates per
  kWh_th of capacity and its standing loss as the site gives them.

The objective is a year's cost: the period's energy, degradation, fuel and export terms
scaled by 365 / days, the demand charge (billed per calendar month on its own peak, one
variable per billing month) by 12 / the billing months the period touches (each month billed
whole, as the KPIs bill it), plus the annualised cost of the sizes from the sizing economics
(capex, fixed O&M, replacements within the analysis period, salvage: the level annual
payment, linear in each size). Soft limits keep the planner's penalties.

What differs from the planner: one cost objective (the planner minimises spill first, then
cost); the targets hold over the whole period (the annual targets where it is a year); the
network's branch and voltage rows are left out (their screening depends on the sizes; the
closed loop and its AC check hold them); a battery's cycle life is not in the LP (its
replacement by years is); a CHP with a minimum load keeps its binaries (a MILP); periods
longer than a month are solved on hourly means where the park allows (:mod:`sim.sizing.coarse`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np
import numpy_financial as npf
import pandas as pd

from controller import (
    DEFAULT_CONFIG,
    DispatchConfig,
    DispatchInputs,
    Layout,
    NetworkData,
    PlanKind,
    as_forecast,
    billing_months,
    default_state,
    dispatch_frame,
    fallback_dispatch,
    network_for,
    new_highs,
    prepare,
)
from controller.model.context import ModelContext
from controller.model.electric import (
    add_electric_balance,
    add_grid_connection,
    add_loads,
    add_pv,
    add_wind,
)
from controller.model.generation import add_chp
from controller.model.heat import (
    add_boiler,
    add_heat_balance,
    add_heat_pump,
    add_waste_heat,
    heat_to,
)
from controller.model.objective import add_policy_targets, violation_expression
from sim.sizing.candidates import Candidate
from sim.sizing.coarse import coarsenable, hourly
from sim.sizing.economics import Annualisation, Investment, SizingEconomics, _cost_flows
from sites import DataError, Site

LP_TIME_LIMIT_S = 600.0
"""A week solves in seconds; a loaded machine must not cut it short."""
LP_TIME_LIMIT_S_PER_DAY = 20.0
"""A longer period's limit grows with it: a year took 1,663 s (interior point, on two cores
shared with a year replay), past the 600 s a week needs at most."""
LONG_PERIOD_DAYS = 31
"""Periods longer than a month are solved on hourly means where the park allows
(:mod:`sim.sizing.coarse`), by HiGHS's interior point method (with crossover, so the solution
is a vertex as the simplex's is): on 15-minute intervals a year ran out of 600 s with the
default simplex; a month took 8.0 s with the interior point method and 9.7 s without, to the
same optimum."""
SIZING_CONFIG = dataclasses.replace(DEFAULT_CONFIG, horizon_bucket_steps=1)
"""The planner's settings, with the horizon exactly the period (no padding)."""


@dataclass(frozen=True)
class SizeLimits:
    """Upper bounds of the sizes the LP may choose (and sizes it must take, where fixed)."""

    battery_kwh: float = 0.0
    battery_kw: float = 0.0
    tank_kwh_th: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """Per tank name; a tank not named may not be built (0)."""


@dataclass(frozen=True)
class UnitCosts:
    """Annualised cost of one unit of each size [CNY per unit and year]."""

    battery_per_kwh: float
    battery_per_kw: float
    thermal_per_kwh_th: float


def _annualised(economics: SizingEconomics, item: Investment) -> float:
    n, rate = economics.analysis_years, economics.discount_rate
    _, _, flows = _cost_flows(getattr(economics, item.technology), item, n)
    return float(-npf.pmt(rate, n, npf.npv(rate, flows)))


def unit_costs(economics: SizingEconomics) -> UnitCosts:
    """The annualised cost per kWh, per kW and per kWh_th: what
    :func:`sim.sizing.economics.appraise` counts for a size, divided by it (linear: the
    replacement years do not depend on the size where the cycle life is left out)."""
    return UnitCosts(
        battery_per_kwh=_annualised(economics, Investment("battery", energy_kwh=1.0)),
        battery_per_kw=_annualised(economics, Investment("battery", power_kw=1.0)),
        thermal_per_kwh_th=_annualised(economics, Investment("thermal", energy_kwh=1.0)),
    )


@dataclass(frozen=True)
class SizingSolution:
    """The LP's sizes and what it promised with them."""

    status: str
    battery_kwh: float
    battery_kw: float
    tank_kwh_th: tuple[tuple[str, float], ...]
    annual_cost_cny: float
    """The objective: operating cost of a year plus the sizes' annualised cost."""
    annualised_storage_cost_cny: float
    operating_cost_cny: float
    """The period's own cost (energy + demand charge + degradation + fuel - export), as the
    KPIs count it."""
    demand_charge_cny: float
    """Its demand-charge part (each billing month on its own peak)."""
    annual_operating_cost_cny: float
    self_consumption_ratio: float
    export_ratio: float
    battery_discharged_kwh: float
    thermal_discharged_kwh_th: float
    battery_equivalent_full_cycles: float
    violations_cny: float
    """Penalty of the soft limits that gave way (0 where none did)."""
    solve_time_s: float
    step_minutes: int = 15
    """The LP's interval: 60 where it was solved on hourly means (:mod:`sim.sizing.coarse`)."""

    @property
    def candidate(self) -> Candidate:
        return Candidate(self.battery_kwh, self.battery_kw, self.tank_kwh_th)

    def as_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["tank_kwh_th"] = dict(self.tank_kwh_th)
        return out

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> SizingSolution:
        """The solution :meth:`as_dict` wrote."""
        values = dict(record)
        values["tank_kwh_th"] = tuple((str(n), float(v)) for n, v in record["tank_kwh_th"].items())
        return cls(**values)


def period_inputs(
    site: Site, truth: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> DispatchInputs:
    """The planner's arrays of the period with the true values as the forecast, and the
    expected network losses of the rule-based dispatch (as a plan starts from)."""
    window = truth.loc[start : end - pd.Timedelta(minutes=15)]
    if window.empty or window.index[0] != start:
        raise DataError(
            f"--from/--to: got {start:%Y-%m-%d}..{end:%Y-%m-%d}; the history covers "
            f"{truth.index[0]:%Y-%m-%d}..{truth.index[-1]:%Y-%m-%d}"
        )
    inputs = prepare(
        site, as_forecast(window), default_state(site), PlanKind.DAY_AHEAD, SIZING_CONFIG
    )
    _, verifier = network_for(site)
    operating = dispatch_frame(site, inputs, fallback_dispatch(site, inputs))
    losses = np.nan_to_num(verifier.verify(operating).interval_values["losses_kw"])
    network = NetworkData(rhs=np.zeros((0, inputs.horizon)), losses_kw=np.asarray(losses))
    return dataclasses.replace(inputs, network=network)


@dataclass
class _Sizes:
    battery_kwh: cp.Variable
    battery_kw: cp.Variable
    tank_kwh_th: cp.Variable | None
    battery_discharge: cp.Variable | None
    storage_discharge: cp.Variable | None


def _add_sized_battery(ctx: ModelContext) -> tuple[cp.Variable, cp.Variable, cp.Variable | None]:
    """The park's batteries at total energy ``E`` and power ``P`` (variables)."""
    energy = cp.Variable(nonneg=True, name="size_battery_kwh")
    power = cp.Variable(nonneg=True, name="size_battery_kw")
    batteries = ctx.site.assets.batteries
    n, h, dt = len(batteries), ctx.horizon, ctx.dt
    if n == 0:
        return energy, power, None
    energy_now = sum(b.capacity_kwh for b in batteries)
    power_now = sum(b.discharge_kw for b in batteries)
    share = np.array([b.capacity_kwh / energy_now for b in batteries])
    charge_share = np.array([b.charge_kw / power_now for b in batteries])[:, None]
    discharge_share = np.array([b.discharge_kw / power_now for b in batteries])[:, None]
    eta_c = np.array([b.charge_efficiency for b in batteries])[:, None]
    eta_d = np.array([b.discharge_efficiency for b in batteries])[:, None]
    low = np.array([b.soc_min_fraction for b in batteries]) * share
    high = np.array([b.soc_max_fraction for b in batteries]) * share
    first = np.array([b.initial_soc_fraction for b in batteries]) * share
    degradation = np.array([b.degradation_cost_cny_per_kwh for b in batteries])

    charge = ctx.var("battery_charge", (n, h))
    discharge = ctx.var("battery_discharge", (n, h))
    soc = ctx.var("battery_soc", (n, h))
    ones = np.ones((1, h))
    ctx.add(
        "battery_power",
        cp.multiply(charge, 1 / charge_share) + cp.multiply(discharge, 1 / discharge_share)
        <= power * np.ones((n, h)),
    )
    start = cp.reshape(first * energy, (n, 1), order="F")
    previous = cp.hstack([start, soc[:, :-1]]) if h > 1 else start
    delta = dt * (cp.multiply(charge, eta_c) - cp.multiply(discharge, 1 / eta_d))
    ctx.add("battery_soc_dynamics", soc == previous + delta, inequality=False)
    ctx.add("battery_soc_min", soc >= cp.reshape(low * energy, (n, 1), order="F") @ ones)
    ctx.add("battery_soc_max", soc <= cp.reshape(high * energy, (n, 1), order="F") @ ones)
    ctx.add("battery_end_level", soc[:, h - 1] >= first * energy)
    ctx.electric_in.append(cp.sum(discharge, axis=0))
    ctx.electric_out.append(cp.sum(charge, axis=0))
    ctx.add_term("degradation_cny", 0.5 * dt * (degradation @ cp.sum(charge + discharge, axis=1)))
    return energy, power, discharge


def _add_sized_thermal_storage(ctx: ModelContext) -> tuple[cp.Variable | None, cp.Variable | None]:
    """Each thermal store at capacity ``C`` (a variable per tank), rates per kWh_th as the
    site has them, the site's standing loss and start fraction."""
    stores = ctx.site.assets.thermal_storage
    n, h, dt = len(stores), ctx.horizon, ctx.dt
    if n == 0:
        return None, None
    capacity = cp.Variable(n, nonneg=True, name="size_tank_kwh_th")
    column = cp.reshape(capacity, (n, 1), order="F")
    ones = np.ones((1, h))
    charge_rate = np.array([x.charge_kw_th / x.capacity_kwh_th for x in stores])
    discharge_rate = np.array([x.discharge_kw_th / x.capacity_kwh_th for x in stores])
    keep = np.array([x.kept_over(dt) for x in stores])[:, None]
    first = np.array([x.initial_level_fraction for x in stores])
    charge = ctx.var("storage_charge", (n, h))
    discharge = ctx.var("storage_discharge", (n, h))
    level = ctx.var("storage_level", (n, h))
    rate_c = cp.reshape(cp.multiply(charge_rate, capacity), (n, 1), order="F")
    rate_d = cp.reshape(cp.multiply(discharge_rate, capacity), (n, 1), order="F")
    ctx.add("storage_charge_rating", charge <= rate_c @ ones)
    ctx.add("storage_discharge_rating", discharge <= rate_d @ ones)
    start = cp.reshape(cp.multiply(first, capacity), (n, 1), order="F")
    previous = cp.hstack([start, level[:, :-1]]) if h > 1 else start
    ctx.add(
        "storage_level_dynamics",
        level == cp.multiply(keep, previous) + dt * (charge - discharge),
        inequality=False,
    )
    ctx.add("storage_capacity", level <= column @ ones)
    ctx.add("storage_end_level", level[:, h - 1] >= cp.multiply(first, capacity))
    for k in range(n):
        heat_to(ctx, ctx.layout.storage_demand[k], discharge[k] - charge[k])
    return capacity, discharge


def _monthly_demand_charge(ctx: ModelContext, inputs: DispatchInputs) -> cp.Expression:
    """Rate x each billing month's peak import (a variable per month)."""
    months = billing_months(inputs.index)
    unique = months.unique()
    peak = cp.Variable(len(unique), nonneg=True, name="month_peak_kw")
    grid_import = ctx.variables["grid_import"]
    for m, month in enumerate(unique):
        where = np.flatnonzero(months == month)
        ctx.add(f"month_peak_{month}", grid_import[where] <= peak[m])
    return inputs.demand_charge_cny_per_kw * cp.sum(peak)


def _feed(ctx: ModelContext, inputs: DispatchInputs) -> None:
    for name, parameter in ctx.params.items():
        parameter.value = np.asarray(ctx.feeds[name](inputs), dtype=float).reshape(parameter.shape)


def solve_sizing_lp(
    site: Site,
    truth: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    economics: SizingEconomics,
    limits: SizeLimits,
    fixed: Candidate | None = None,
    inputs: DispatchInputs | None = None,
    config: DispatchConfig = SIZING_CONFIG,
) -> SizingSolution:
    """The cheapest sizes within ``limits`` over [start, end) with hindsight; with ``fixed``,
    the LP's promise at that candidate's sizes (its bound at that size). ``inputs``: the
    period's arrays (:func:`period_inputs`) where already made."""
    began = time.perf_counter()
    if fixed is not None and fixed.renewables != (1.0, 1.0):
        raise DataError(
            f"sizing LP: candidate {fixed.label} scales the renewables; the LP sizes storage "
            "at the park's present PV and wind"
        )
    inputs = inputs or period_inputs(site, truth, start, end)
    long_period = inputs.n_steps * inputs.hours_per_step / 24.0 > LONG_PERIOD_DAYS
    if long_period and coarsenable(site, inputs):
        inputs = hourly(inputs)
    dt = inputs.hours_per_step
    days = inputs.n_steps * dt / 24.0
    ctx = ModelContext(
        site,
        Layout(site),
        inputs.horizon,
        PlanKind.DAY_AHEAD,
        config,
        network_for(site)[0],
        (),
        dt=dt,
    )
    add_grid_connection(ctx)
    add_pv(ctx)
    add_wind(ctx)
    add_loads(ctx)
    energy, power, battery_discharge = _add_sized_battery(ctx)
    add_heat_pump(ctx)
    add_waste_heat(ctx)
    tanks, storage_discharge = _add_sized_thermal_storage(ctx)
    add_boiler(ctx)
    add_chp(ctx)
    add_heat_balance(ctx)
    add_electric_balance(ctx)
    add_policy_targets(ctx)
    demand = _monthly_demand_charge(ctx, inputs)
    _add_limits(ctx, site, limits, fixed, energy, power, tanks)
    _feed(ctx, inputs)

    terms = ctx.terms
    zero = cp.Constant(0.0)
    running = (
        terms.get("energy_cny", zero)
        + terms.get("degradation_cny", zero)
        + terms.get("fuel_cny", zero)
        + terms.get("start_cny", zero)
        - terms.get("export_revenue_cny", zero)
    )
    weights = Annualisation.of(inputs.index, dt)
    units = unit_costs(economics)
    storage = units.battery_per_kwh * energy + units.battery_per_kw * power
    if tanks is not None:
        storage = storage + units.thermal_per_kwh_th * cp.sum(tanks)
    violations = violation_expression(ctx)
    objective = weights.energy * (running + violations) + weights.demand * demand + storage
    problem = cp.Problem(cp.Minimize(objective), list(ctx.constraints.values()))
    new_highs(config)  # a process's first HiGHS prints a banner: made here, silently
    problem.solve(
        solver=cp.HIGHS,
        ignore_dpp=True,
        time_limit=max(LP_TIME_LIMIT_S, LP_TIME_LIMIT_S_PER_DAY * days),
        output_flag=False,
        highs_options={"solver": "ipm"} if long_period else {},
    )
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise DataError(f"sizing LP of {site.id}: the solver ended {problem.status}")

    def value(expression: cp.Expression | float) -> float:
        if isinstance(expression, (int, float)):
            return float(expression)
        found = expression.value
        return 0.0 if found is None else float(np.sum(found))

    battery_kwh = value(energy) if battery_discharge is not None else 0.0
    battery_kw = value(power) if battery_discharge is not None else 0.0
    names = [t.name for t in site.assets.thermal_storage]
    sizes = np.zeros(len(names)) if tanks is None else np.asarray(tanks.value, dtype=float)
    operating = value(running) + value(demand)
    available = float(inputs.pv_available_kw.sum() + inputs.wind_available_kw.sum()) * ctx.dt
    used = ctx.dt * sum(
        value(ctx.variables[f"{f}_used"]) for f in ("pv", "wind") if f"{f}_used" in ctx.variables
    )
    exported = ctx.dt * value(ctx.variables["grid_export"])
    on_site = used - exported  # as the KPIs count it: the park has no other generation
    discharged = ctx.dt * value(battery_discharge) if battery_discharge is not None else 0.0
    storage_out = ctx.dt * value(storage_discharge) if storage_discharge is not None else 0.0
    return SizingSolution(
        status=str(problem.status),
        battery_kwh=_clean(battery_kwh),
        battery_kw=_clean(battery_kw),
        tank_kwh_th=tuple((name, _clean(float(s))) for name, s in zip(names, sizes, strict=True)),
        annual_cost_cny=float(problem.value),
        annualised_storage_cost_cny=value(storage),
        operating_cost_cny=operating,
        demand_charge_cny=value(demand),
        annual_operating_cost_cny=weights.energy * value(running) + weights.demand * value(demand),
        self_consumption_ratio=on_site / available if available > 0 else 1.0,
        export_ratio=exported / available if available > 0 else 0.0,
        battery_discharged_kwh=discharged,
        thermal_discharged_kwh_th=storage_out,
        battery_equivalent_full_cycles=discharged / battery_kwh if battery_kwh > 0 else 0.0,
        violations_cny=value(violations),
        solve_time_s=time.perf_counter() - began,
        step_minutes=round(60 * dt),
    )


SIZE_ROUNDING = 1e-3
"""Sizes below a thousandth of a kWh (kW) are solver noise: reported as 0."""


def _clean(size: float) -> float:
    return 0.0 if abs(size) < SIZE_ROUNDING else float(size)


def _add_limits(
    ctx: ModelContext,
    site: Site,
    limits: SizeLimits,
    fixed: Candidate | None,
    energy: cp.Variable,
    power: cp.Variable,
    tanks: cp.Variable | None,
) -> None:
    names = [t.name for t in site.assets.thermal_storage]
    if fixed is not None:
        ctx.add("size_battery_kwh", energy == fixed.battery_kwh, inequality=False)
        ctx.add("size_battery_kw", power == fixed.battery_kw, inequality=False)
        if tanks is not None:
            sizes = dict(fixed.tank_kwh_th)
            ctx.add(
                "size_tank_kwh_th",
                tanks == np.array([sizes.get(n, 0.0) for n in names]),
                inequality=False,
            )
        return
    unknown = sorted(set(limits.tank_kwh_th) - set(names))
    if unknown:
        raise DataError(
            f"--tank: got {', '.join(unknown)}; {site.id}'s thermal stores are: "
            f"{', '.join(names) or 'none'}"
        )
    if not site.assets.batteries and limits.battery_kwh > 0:
        raise DataError(f"--battery-kwh: {site.id} has no battery to size")
    ctx.add("size_battery_kwh", energy <= limits.battery_kwh)
    ctx.add("size_battery_kw", power <= limits.battery_kw)
    if tanks is not None:
        ctx.add(
            "size_tank_kwh_th",
            tanks <= np.array([limits.tank_kwh_th.get(n, 0.0) for n in names]),
        )
