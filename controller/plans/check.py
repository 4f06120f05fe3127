"""Invariant checker of a plan: balances, bounds and storage continuity, re-derived from the
frame alone (plus the site and the plan's starting state). Used on every plan in the tests;
the simulator runs it on every interval it replays.

Limits that a plan's relaxation report names (a measured SoC outside its window, an import
limit below the load) may be exceeded; nothing else may, and physics never: a storage level
stays within [0, capacity], power within its rating, and the grid connection never imports
and exports in the same interval, whatever was relaxed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.inputs import flexible as fx
from controller.inputs import hydrogen as hy
from controller.inputs.layout import Layout
from controller.plans.plan import Plan
from sites import Site, columns
from sites.time_step import HOURS_PER_STEP as DT

# HiGHS holds constraints to 1e-7 relative to rows of up to ~1e5 kW; 0.05 kW is far above
# that and far below anything metered.
POWER_ATOL_KW = 0.05
ENERGY_ATOL_KWH = 0.05
RATIO_ATOL = 1e-6
KG_ATOL = 1e-3  # kg or kg/h of hydrogen: a gram, far below any meter, above solver noise


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return "plan OK" if self.ok else "\n".join(self.problems)


class _Checker:
    def __init__(self, frame: pd.DataFrame, relaxed: set[str]) -> None:
        self.frame = frame
        self.relaxed = relaxed
        self.problems: list[str] = []

    def col(self, name: str) -> np.ndarray:
        if name not in self.frame.columns:
            self.problems.append(f"column {name} is missing")
            return np.zeros(len(self.frame))
        return self.frame[name].to_numpy(dtype=float)

    def close(self, what: str, a: np.ndarray, b: np.ndarray, atol: float) -> None:
        bad = np.abs(a - b) > atol + 1e-9 * np.abs(b)
        if bad.any():
            t = int(np.argmax(bad))
            self.problems.append(
                f"{what}: {a[t]:.6g} != {b[t]:.6g} at {self.frame.index[t]} "
                f"({int(bad.sum())} interval(s))"
            )

    def at_most(self, what: str, a: np.ndarray, limit: float | np.ndarray, atol: float) -> None:
        if what.split("[")[0] in self.relaxed or what in self.relaxed:
            return
        self.physical(what, a, limit, atol)

    def physical(self, what: str, a: np.ndarray, limit: float | np.ndarray, atol: float) -> None:
        """``a <= limit``, whatever the plan relaxed."""
        bad = a > limit + atol
        if bad.any():
            t = int(np.argmax(bad))
            bound = limit[t] if isinstance(limit, np.ndarray) else limit
            self.problems.append(
                f"{what}: {a[t]:.6g} above {bound:.6g} at {self.frame.index[t]} "
                f"({int(bad.sum())} interval(s))"
            )


def check_plan(site: Site, plan: Plan) -> CheckReport:
    frame = plan.frame
    relaxed = {r.constraint.split("[")[0] for r in plan.relaxations}
    c = _Checker(frame, relaxed)
    meta = plan.metadata
    _index(c, site, frame)
    _non_negative(c, frame)
    _electric(c, site)
    _battery(c, site, dict(meta.initial_battery_soc_kwh))
    _heat(c, site, dict(meta.initial_storage_level_kwh_th))
    _chp(c, site)
    _flexible(c, site)
    _hydrogen(c, site)
    _cost(c, site)
    return CheckReport(tuple(c.problems))


def _index(c: _Checker, site: Site, frame: pd.DataFrame) -> None:
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        c.problems.append("index is not timezone-aware")
    steps = np.diff(index.to_numpy())
    if len(index) > 1 and not (steps == np.timedelta64(15, "m")).all():
        c.problems.append("index is not a regular 15-minute grid")


def _non_negative(c: _Checker, frame: pd.DataFrame) -> None:
    for name in frame.columns:
        if name.endswith(("_kw", "_kw_th", "_kwh", "_kwh_th")) and not name.startswith("committed"):
            values = frame[name].to_numpy(dtype=float)
            if (values < -POWER_ATOL_KW).any() or not np.isfinite(values).all():
                c.problems.append(
                    f"{name} has negative or non-finite values (min {values.min():.6g})"
                )


def electric_sources_and_uses_kw(
    site: Site, column: Callable[[str], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per interval, the park's electric sources (grid import, PV and wind used, battery
    discharge, CHP, waste-heat and waste-pressure power, hydrogen fuel cells) and uses (grid
    export, network losses, loads, battery charge, heat pumps, electric boilers,
    electrolysers, flexible loads' batches, sheds and moves) [kW], each column read by
    ``column``: the one definition of the electric balance, for plans (:func:`check_plan`)
    and replayed actuals (:func:`electric_balance_error_kw`)."""
    a = site.assets
    sources = column(pc.GRID_IMPORT_KW).copy()
    uses = column(pc.GRID_EXPORT_KW) + column(pc.NETWORK_LOSSES_KW)
    for array in a.pv:
        sources = sources + column(columns.pv_kw(array.name))
    for turbine in a.wind:
        sources = sources + column(columns.wind_kw(turbine.name))
    for load in a.electric_loads:
        uses = uses + column(columns.load_kw(load.name))
    for battery in a.batteries:
        sources = sources + column(columns.battery_discharge_kw(battery.name))
        uses = uses + column(columns.battery_charge_kw(battery.name))
    for pump in a.heat_pumps:
        uses = uses + column(columns.heat_pump_kw(pump.name))
    for k in Layout(site).electric_boilers:
        uses = uses + column(columns.boiler_kw(a.boilers[k].name))
    for chp in a.chp:
        sources = sources + column(columns.chp_kw(chp.name))
    for unit in a.recovery_power:
        sources = sources + column(columns.recovery_kw(unit.name))
    for e in a.electrolysers:
        uses = uses + column(columns.electrolyser_kw(e.name))
    for cell in a.hydrogen_fuel_cells:
        sources = sources + column(columns.hydrogen_fuel_cell_kw(cell.name))
    for batch in a.batch_loads:
        uses = uses + column(fx.batch_kw(batch.name))
    for part in a.curtailable_loads:
        uses = uses - column(fx.curtailed_kw(part.name))
    for shift in a.shiftable_loads:
        uses = uses + column(fx.shift_up_kw(shift.name)) - column(fx.shift_down_kw(shift.name))
    return sources, uses


def electric_balance_error_kw(site: Site, frame: pd.DataFrame) -> np.ndarray:
    """Per interval of ``frame`` (a plan's or a replay's): sources - uses of electricity
    [kW]; zero where energy is conserved."""
    sources, uses = electric_sources_and_uses_kw(
        site, lambda name: frame[name].to_numpy(dtype=float)
    )
    return np.asarray(sources - uses)


def _electric(c: _Checker, site: Site) -> None:
    for array in site.assets.pv:
        used, cut, avail = (
            c.col(columns.pv_kw(array.name)),
            c.col(pc.pv_curtailed_kw(array.name)),
            c.col(pc.pv_available_kw(array.name)),
        )
        c.close(f"pv {array.name} used + curtailed = available", used + cut, avail, POWER_ATOL_KW)
    for turbine in site.assets.wind:
        used, cut, avail = (
            c.col(columns.wind_kw(turbine.name)),
            c.col(pc.wind_curtailed_kw(turbine.name)),
            c.col(pc.wind_available_kw(turbine.name)),
        )
        c.close(
            f"wind {turbine.name} used + curtailed = available", used + cut, avail, POWER_ATOL_KW
        )
    a = site.assets
    if a.recovery_power:
        loads = np.vstack([c.col(columns.load_kw(x.name)) for x in a.electric_loads])
        available = Layout(site).recovery_available_kw(loads)
    for k, unit in enumerate(a.recovery_power):
        out = c.col(columns.recovery_kw(unit.name))
        c.close(
            f"recovery {unit.name} available from its process load",
            c.col(pc.recovery_available_kw(unit.name)),
            available[k],
            POWER_ATOL_KW,
        )
        c.physical(f"recovery_available[{unit.name}]", out, available[k], POWER_ATOL_KW)
        if unit.must_run:
            c.physical(f"recovery_must_run[{unit.name}]", available[k] - out, 0.0, POWER_ATOL_KW)
    supply, demand = electric_sources_and_uses_kw(site, c.col)
    c.close("electric balance (supply = demand)", supply, demand, POWER_ATOL_KW)
    grid = site.grid_connection
    c.at_most("grid_import_limit", c.col(pc.GRID_IMPORT_KW), grid.import_limit_kw, POWER_ATOL_KW)
    c.at_most("grid_export_limit", c.col(pc.GRID_EXPORT_KW), grid.export_limit_kw, POWER_ATOL_KW)
    both = np.minimum(c.col(pc.GRID_IMPORT_KW), c.col(pc.GRID_EXPORT_KW))
    c.physical("grid_import_and_export_at_once (kW both ways)", both, 0.0, POWER_ATOL_KW)


def _battery(c: _Checker, site: Site, initial: dict[str, float]) -> None:
    for b in site.assets.batteries:
        charge = c.col(columns.battery_charge_kw(b.name))
        discharge = c.col(columns.battery_discharge_kw(b.name))
        soc = c.col(pc.battery_soc_kwh(b.name))
        c.physical(
            f"battery_power[{b.name}]",
            charge / b.charge_kw + discharge / b.discharge_kw,
            1.0,
            RATIO_ATOL,
        )
        start = initial.get(b.name, b.initial_soc_kwh)
        previous = np.concatenate([[start], soc[:-1]])
        expected = previous + DT * (
            b.charge_efficiency * charge - discharge / b.discharge_efficiency
        )
        c.close(f"battery {b.name} SoC continuity", soc, expected, ENERGY_ATOL_KWH)
        c.at_most(f"battery_soc_max[{b.name}]", soc, b.soc_max_kwh, ENERGY_ATOL_KWH)
        c.physical(f"battery_capacity[{b.name}]", soc, b.capacity_kwh, ENERGY_ATOL_KWH)
        c.physical(f"battery_level_non_negative[{b.name}]", -soc, 0.0, ENERGY_ATOL_KWH)
        c.at_most(f"battery_soc_min[{b.name}]", -soc, -b.soc_min_kwh, ENERGY_ATOL_KWH)


def _heat(c: _Checker, site: Site, initial: dict[str, float]) -> None:
    a = site.assets
    layout = Layout(site)
    supply = {d.name: np.zeros(len(c.frame)) for d in a.heat_demands}
    source_use = {w.name: np.zeros(len(c.frame)) for w in a.waste_heat}
    stage_heat: dict[int, np.ndarray] = {}
    for k, hp in enumerate(a.heat_pumps):
        electric, heat = (
            c.col(columns.heat_pump_kw(hp.name)),
            c.col(pc.heat_pump_heat_kw_th(hp.name)),
        )
        out = c.col(pc.heat_pump_cop(hp.name)) * electric
        if k in layout.lower_stages:  # all its heat to its upper stage, none to the demand
            stage_heat[k] = c.col(pc.heat_pump_to_stage_kw_th(hp.name))
            c.close(
                f"heat pump {hp.name} heat to its upper stage = COP x electric",
                stage_heat[k],
                out,
                POWER_ATOL_KW,
            )
            c.close(
                f"heat pump {hp.name} (a lower stage) heat to its demand = 0",
                heat,
                np.zeros_like(heat),
                POWER_ATOL_KW,
            )
        else:
            c.close(f"heat pump {hp.name} heat = COP x electric", heat, out, POWER_ATOL_KW)
        c.at_most(f"heat_pump_rating[{hp.name}]", electric, hp.electric_kw, POWER_ATOL_KW)
        supply[hp.supplies] = supply[hp.supplies] + heat
        source = layout.heat_pump_source[k]
        if source >= 0:
            source_use[a.waste_heat[source].name] += out - electric
    for lower, upper in layout.cascade_pairs:
        pump = a.heat_pumps[upper]
        electric = c.col(columns.heat_pump_kw(pump.name))
        drawn = c.col(pc.heat_pump_cop(pump.name)) * electric - electric
        c.close(
            f"heat pump cascade {a.heat_pumps[lower].name} -> {pump.name}: lower stage heat = "
            "upper stage COP x electric - electric",
            stage_heat[lower],
            drawn,
            POWER_ATOL_KW,
        )
    groups: dict[str, list[str]] = {}
    for w, stream in enumerate(a.waste_heat):
        to_pump = c.col(pc.waste_heat_to_heat_pump_kw_th(stream.name))
        direct = c.col(pc.waste_heat_direct_kw_th(stream.name))
        c.close(
            f"waste heat {stream.name} to heat pumps = their source heat",
            to_pump,
            source_use[stream.name],
            POWER_ATOL_KW,
        )
        available = c.col(pc.waste_heat_available_kw_th(stream.name))
        c.at_most(f"waste_heat_{stream.name}_available", to_pump + direct, available, POWER_ATOL_KW)
        targets = [a.heat_demands[d].name for s, d in layout.direct_pairs if s == w]
        if len(targets) == 1:
            supply[targets[0]] = supply[targets[0]] + direct
        elif targets:
            groups[stream.name] = targets
    for store in a.thermal_storage:
        charge = c.col(pc.thermal_storage_charge_kw_th(store.name))
        discharge = c.col(pc.thermal_storage_discharge_kw_th(store.name))
        level = c.col(pc.thermal_storage_level_kwh_th(store.name))
        start = initial.get(store.name, store.initial_level_kwh_th)
        previous = np.concatenate([[start], level[:-1]])
        keep = store.kept_over(DT)
        c.close(
            f"thermal storage {store.name} level continuity",
            level,
            keep * previous + DT * (charge - discharge),
            ENERGY_ATOL_KWH,
        )
        c.physical(
            f"storage_charge_rating[{store.name}]", charge, store.charge_kw_th, POWER_ATOL_KW
        )
        c.physical(
            f"storage_discharge_rating[{store.name}]",
            discharge,
            store.discharge_kw_th,
            POWER_ATOL_KW,
        )
        c.physical(f"storage_capacity[{store.name}]", level, store.capacity_kwh_th, ENERGY_ATOL_KWH)
        c.physical(f"storage_level_non_negative[{store.name}]", -level, 0.0, ENERGY_ATOL_KWH)
        supply[store.supplies] = supply[store.supplies] + discharge - charge
    for k, boiler in enumerate(a.boilers):
        heat = c.col(pc.boiler_heat_kw_th(boiler.name))
        c.at_most(f"boiler_capacity[{boiler.name}]", heat, boiler.capacity_kw_th, POWER_ATOL_KW)
        fuel = (
            columns.boiler_kw(boiler.name)
            if k in layout.electric_boilers
            else pc.boiler_fuel_kw(boiler.name)
        )
        c.close(
            f"boiler {boiler.name} input = heat / efficiency",
            c.col(fuel),
            heat / boiler.efficiency,
            POWER_ATOL_KW,
        )
        supply[boiler.supplies] = supply[boiler.supplies] + heat
    for chp in a.chp:
        if chp.supplies is not None:
            supply[chp.supplies] = supply[chp.supplies] + c.col(pc.chp_heat_kw_th(chp.name))
    grouped = {name for targets in groups.values() for name in targets}
    for d in a.heat_demands:
        if d.name in grouped:
            continue
        met = supply[d.name] + c.col(pc.heat_unmet_kw_th(d.name))
        c.close(
            f"heat balance {d.name}", met, c.col(columns.heat_demand_kw_th(d.name)), POWER_ATOL_KW
        )
    if grouped:
        total = sum(supply[n] + c.col(pc.heat_unmet_kw_th(n)) for n in grouped)
        total = total + sum(c.col(pc.waste_heat_direct_kw_th(s)) for s in groups)
        demand = sum(c.col(columns.heat_demand_kw_th(n)) for n in grouped)
        c.close(
            "heat balance of demands sharing waste heat",
            np.asarray(total),
            np.asarray(demand),
            POWER_ATOL_KW,
        )
    for d in a.heat_demands:
        c.at_most("heat_unmet", c.col(pc.heat_unmet_kw_th(d.name)), 0.0, POWER_ATOL_KW)


def _chp(c: _Checker, site: Site) -> None:
    """Each CHP unit: on is 0 or 1; off means no output, on means output within [minimum
    stable load, rating]; heat and fuel follow the efficiencies; ramps between intervals;
    a start paid where the unit goes from off to on (physics and commitment: never relaxed)."""
    for chp in site.assets.chp:
        out = c.col(columns.chp_kw(chp.name))
        on = c.col(pc.chp_on(chp.name))
        if not np.isin(on, (0.0, 1.0)).all():
            c.problems.append(f"{pc.chp_on(chp.name)} holds values other than 0 and 1")
        c.physical(f"chp_rating[{chp.name}]", out, chp.rated_electric_kw * on, POWER_ATOL_KW)
        minimum = chp.rated_electric_kw * chp.min_stable_fraction * on
        c.physical(f"chp_min_stable[{chp.name}]", minimum - out, 0.0, POWER_ATOL_KW)
        c.close(
            f"chp {chp.name} heat = output x heat/electric efficiency",
            c.col(pc.chp_heat_kw_th(chp.name)),
            out * chp.heat_per_electric,
            POWER_ATOL_KW,
        )
        c.close(
            f"chp {chp.name} fuel = output / electric efficiency",
            c.col(pc.chp_fuel_kw(chp.name)),
            out / chp.electric_efficiency,
            POWER_ATOL_KW,
        )
        if chp.ramp_kw_per_h is not None and len(out) > 1:
            change = np.abs(np.diff(out))
            c.physical(f"chp_ramp[{chp.name}]", change, chp.ramp_kw_per_h * DT, POWER_ATOL_KW)
        # the first interval starts the unit or not by its state before the plan: either
        # where it runs, none where it is off
        paid = c.col(pc.chp_start_cny(chp.name))
        expected = np.clip(np.diff(on, prepend=on[:1]), 0.0, None) * chp.start_cost_cny
        if len(on) and on[0] == 1.0 and abs(paid[0] - chp.start_cost_cny) <= 1e-6:
            expected[0] = chp.start_cost_cny
        c.close(f"chp {chp.name} start cost where it starts", paid, expected, 1e-6)


def _flexible(c: _Checker, site: Site) -> None:
    """Flexible loads. A batch draws within [0, max] inside its windows (at least its
    minimum where it runs), nothing outside them, no more than its energy in a window and,
    in a window wholly within the plan, all of it. A curtailment or a shift down is at most
    its share of the load; a shift up at most its extra draw; the backlog follows the moves
    and is at most the share's baseline energy of the last ``max_shift_h`` hours (deferred)
    or of the next ones (advanced), where the plan holds those hours; the plan ends with
    none (all commitments, never relaxed, except the energy of a batch and
    the end's backlog, which are soft)."""
    a = site.assets
    index = pd.DatetimeIndex(c.frame.index)
    loads = {x.name: c.col(columns.load_kw(x.name)) for x in a.electric_loads}
    for batch in a.batch_loads:
        power = c.col(fx.batch_kw(batch.name))
        c.physical(f"batch_max[{batch.name}]", power, batch.max_kw, POWER_ATOL_KW)
        outside = np.where(fx.in_window(batch, index), 0.0, power)
        c.physical(f"batch_outside_window[{batch.name}]", outside, 0.0, POWER_ATOL_KW)
        running = power > fx.ON_KW
        short = np.where(running, batch.min_kw - power, 0.0)
        c.physical(f"batch_min[{batch.name}]", short, 0.0, POWER_ATOL_KW)
        for window in fx.batch_windows(batch, index):
            energy = np.array([power[window.positions].sum() * DT])
            c.at_most(f"batch_energy_over[{batch.name}]", energy, batch.energy_kwh, ENERGY_ATOL_KWH)
            if window.complete:
                c.at_most(
                    f"batch_energy[{batch.name}]",
                    np.array([batch.energy_kwh]),
                    energy,
                    ENERGY_ATOL_KWH,
                )
    for part in a.curtailable_loads:
        shed = c.col(fx.curtailed_kw(part.name))
        share = part.max_fraction * loads[part.load]
        c.physical(f"curtail_share[{part.name}]", shed, share, POWER_ATOL_KW)
    for shift in a.shiftable_loads:
        down = c.col(fx.shift_down_kw(shift.name))
        up = c.col(fx.shift_up_kw(shift.name))
        deferred = c.col(pc.shift_deferred_kwh(shift.name))
        advanced = c.col(pc.shift_advanced_kwh(shift.name))
        share = shift.max_fraction * loads[shift.load]
        c.physical(f"shift_share[{shift.name}]", down, share, POWER_ATOL_KW)
        c.physical(f"shift_extra[{shift.name}]", up, shift.max_extra_kw, POWER_ATOL_KW)
        c.physical(
            f"shift_deferred_and_advanced_at_once[{shift.name}]",
            np.minimum(deferred, advanced),
            0.0,
            ENERGY_ATOL_KWH,
        )
        backlog = deferred - advanced
        if len(backlog) > 1:
            c.close(
                f"shift {shift.name} backlog follows the moves",
                np.diff(backlog),
                (down - up)[1:] * DT,
                ENERGY_ATOL_KWH,
            )
        # first in, first out: deferred at most the share's baseline of the last
        # max_shift_h hours, advanced at most that of the next ones (past the first hours,
        # where the baseline before the plan counts, and before the last, where the
        # baseline after it would)
        steps = shift.shift_steps
        kernel = np.ones(steps)
        behind = np.convolve(share, kernel)[: len(share)] * DT
        ahead = np.convolve(share[::-1], np.ones(steps + 1))[: len(share)][::-1] * DT - share * DT
        c.at_most(
            f"shift_window[{shift.name}] deferred",
            deferred[steps:],
            behind[steps:],
            ENERGY_ATOL_KWH,
        )
        late = max(len(share) - steps, 0)
        c.at_most(
            f"shift_window[{shift.name}] advanced",
            advanced[:late],
            ahead[:late],
            ENERGY_ATOL_KWH,
        )
        if len(backlog):
            c.at_most(f"shift_end[{shift.name}]", np.abs(backlog[-1:]), 0.0, ENERGY_ATOL_KWH)


def _hydrogen(c: _Checker, site: Site) -> None:
    """Electrolysers within rating (at least the minimum load where they run), making
    hydrogen along their curve, venting no more than they make; fuel cells within rating,
    drawing output / kWh per kg; the offtake within its limit; each tank's level within
    [0, capacity] and following standing loss and flows from interval to interval; the end
    level at least the start's unless relaxed (physics and commitments otherwise)."""
    a = site.assets
    into = {t.name: np.zeros(len(c.frame)) for t in a.hydrogen_tanks}
    for e in a.electrolysers:
        power = c.col(columns.electrolyser_kw(e.name))
        c.physical(f"electrolyser_rating[{e.name}]", power, e.rated_kw, POWER_ATOL_KW)
        low = np.where(power > hy.ON_KW, e.min_load_fraction * e.rated_kw - power, 0.0)
        c.physical(f"electrolyser_min_load[{e.name}]", low, 0.0, POWER_ATOL_KW)
        made = c.col(pc.electrolyser_hydrogen_kg_per_h(e.name))
        curve = np.array([e.hydrogen_kg_per_h(p) for p in power])
        c.close(f"electrolyser {e.name} hydrogen along its curve", made, curve, KG_ATOL)
        vented = c.col(pc.electrolyser_vented_kg_per_h(e.name))
        c.physical(f"electrolyser_vented[{e.name}]", vented, made, KG_ATOL)
        c.physical(f"electrolyser_vented_negative[{e.name}]", -vented, 0.0, KG_ATOL)
        into[e.tank] = into[e.tank] + made - vented
    for cell in a.hydrogen_fuel_cells:
        power = c.col(columns.hydrogen_fuel_cell_kw(cell.name))
        c.physical(f"hydrogen_fuel_cell_rating[{cell.name}]", power, cell.rated_kw, POWER_ATOL_KW)
        drawn = c.col(pc.fuel_cell_hydrogen_kg_per_h(cell.name))
        c.close(
            f"fuel cell {cell.name} hydrogen = output / kWh per kg",
            drawn,
            power / cell.kwh_per_kg,
            KG_ATOL,
        )
        into[cell.tank] = into[cell.tank] - drawn
    for tank in a.hydrogen_tanks:
        level = c.col(pc.tank_level_kg(tank.name))
        offtake = c.col(pc.tank_offtake_kg_per_h(tank.name))
        c.physical(f"hydrogen_offtake[{tank.name}]", offtake, tank.max_offtake_kg_per_h, KG_ATOL)
        c.physical(f"hydrogen_offtake_negative[{tank.name}]", -offtake, 0.0, KG_ATOL)
        c.physical(f"hydrogen_tank_capacity[{tank.name}]", level, tank.capacity_kg, KG_ATOL)
        c.physical(f"hydrogen_tank_empty[{tank.name}]", -level, 0.0, KG_ATOL)
        if len(level) > 1:
            expected = tank.kept_over(DT) * level[:-1] + DT * (into[tank.name] - offtake)[1:]
            c.close(
                f"hydrogen tank {tank.name} level follows its flows", level[1:], expected, KG_ATOL
            )


def _cost(c: _Checker, site: Site) -> None:
    a = site.assets
    layout = Layout(site)
    cost = c.col(pc.GRID_IMPORT_KW) * c.col(pc.PRICE_CNY_PER_KWH) - c.col(
        pc.GRID_EXPORT_KW
    ) * c.col(pc.EXPORT_PRICE_CNY_PER_KWH)
    co2 = c.col(pc.GRID_IMPORT_KW) * site.grid_emission_factor.kg_co2_per_kwh
    for b in a.batteries:
        cost = cost + 0.5 * b.degradation_cost_cny_per_kwh * (
            c.col(columns.battery_charge_kw(b.name)) + c.col(columns.battery_discharge_kw(b.name))
        )
    for k in layout.fuel_boilers:
        boiler = a.boilers[k]
        fuel = c.col(pc.boiler_fuel_kw(boiler.name))
        cost = cost + boiler.fuel_price_cny_per_kwh * fuel
        co2 = co2 + boiler.emission_factor_kg_per_kwh_fuel * fuel
    for chp in a.chp:
        fuel = c.col(pc.chp_fuel_kw(chp.name))
        cost = cost + chp.fuel_price_cny_per_kwh * fuel + c.col(pc.chp_start_cny(chp.name)) / DT
        co2 = co2 + chp.emission_factor_kg_per_kwh_fuel * fuel
    for tank in a.hydrogen_tanks:
        cost = cost - tank.value_cny_per_kg * c.col(pc.tank_offtake_kg_per_h(tank.name))
    for part in a.curtailable_loads:
        cost = cost + part.cost_cny_per_kwh * c.col(fx.curtailed_kw(part.name))
    for shift in a.shiftable_loads:
        cost = cost + shift.cost_cny_per_kwh * c.col(fx.shift_down_kw(shift.name))
    c.close("cost_cny of the interval", c.col(pc.COST_CNY), cost * DT, 1e-6)
    c.close("co2_kg of the interval", c.col(pc.CO2_KG), co2 * DT, 1e-6)
