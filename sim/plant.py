"""The park as it really behaves in one interval, given the controller's setpoints.

What the plant does with a plan's setpoints and the interval's true conditions:

- PV and wind produce what the weather allowed; a setpoint caps them only where the plan
  curtailed (then the dispatched value is the cap);
- batteries follow their charge/discharge setpoint within power, SoC window and efficiency;
  what they cannot follow is clipped and counted;
- thermal stores follow their setpoint within power and level limits (clipped, counted), with
  the standing loss the planner uses (:meth:`sites.schema.ThermalStorage.kept_over`);
- waste heat hot enough for a demand is used directly as far as the demand needs it;
- heat pumps run at the TRUE COP (true ambient or stream temperature); a shared waste-heat
  stream is split as the plan says where it truly gives what was expected; where it gives
  less, the pumps of the demand with the most boiler and storage capacity behind it give way
  first; each pump follows its demand as a heat-pump controller does, down to what the
  demand needs and up to its rating where the demand needs more than planned (from what the
  stream has left once every pump has had its planned share); it counts as
  not followed only where it gave less than both its setpoint and what its demand needed;
- a cascade of heat pumps runs as one pump at its combined true COP, drawing on its lowest
  stage's source: its upper stage takes at most the heat its lower stage gives at its setpoint
  and the lower stage gives no more than the upper takes (the loop between them holds
  none); each stage's input is its share
  (:func:`controller.inputs.cop.cascade_electric_per_heat`), within its rating;
- stream beyond what the plan counted on (the plan's ``waste_heat_*_available_kw_th``: it
  plans on a low quantile of each stream) goes to its heat pumps, up to their rating and
  their demand's need, ahead of the boilers' planned heat: the heat pump leads and the boiler
  tops up, as a heat plant's cascade runs (stream the plan counted on and chose to leave, for
  its price or the network, stays unused); it goes first to the demand whose boilers make
  the dearest heat in the interval (gas against the interval's electricity price), and only
  to pumps whose heat is cheaper than that boiler's;
- boilers give their planned heat as far as the demand needs it; a demand that needs more
  than planned gets it from its heat pumps first (up to their rating), then from its boilers
  (energy above their planned heat counts as backup);
  heat that nothing can take is dumped (counted); heat no asset can supply is unmet (counted);
- where the setpoints hold an import ceiling (``grid_import_ceiling_kw``), the batteries'
  local controller keeps the import (metered at the connection point, network losses
  included) at or below it as far as their power and charge allow:
  it charges less, then discharges more than set (counted as peak-guard energy, not as a
  setpoint not followed: the ceiling is a setpoint too); where they cannot, the demand
  limiter hands heat from the heat pumps to their demand's fuel boilers, the pumps that draw
  the most per kWh_th first (counted as heat-pump input shed);
- gas CHP units run at their setpoint within rating, minimum stable load and ramp; their
  heat goes to their demand ahead of heat pumps and boilers (what it cannot take is dumped,
  counted);
- flexible loads run as set: a batch at its setpoint (within its rating and minimum draw),
  a curtailable load shed and a shiftable load moved by their setpoints, within their share
  of the load's true draw (and a shift up within its extra draw);
- electrolysers draw their setpoint (within rating and minimum load) and make hydrogen along
  their curve; a tank loses its standing loss, gives its fuel cells and the offtake what
  they are set to draw as far as it holds hydrogen, and vents what it cannot hold;
- waste-heat and waste-pressure generators give what their process truly makes available,
  capped by their setpoint only where the plan curtailed a curtailable one (as PV);
- the grid connection absorbs every electric mismatch; import or export beyond the connection's
  limits is counted as a violation (network losses are added by the AC verification).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from controller import Layout, cascade_electric_per_heat, heat_pump_cop, site_heat_pump_cops
from controller import columns as pc
from sites import Site, columns
from sites.schema import AMBIENT, Fuel, HeatDemand, HeatPump
from sites.time_step import HOURS_PER_STEP as HOURS

FOLLOW_TOL_KW = 1e-3  # a setpoint met within 1 W counts as followed (solver round-off)


@dataclass
class PlantState:
    battery_soc_kwh: dict[str, float]
    tank_level_kwh_th: dict[str, float]
    chp_kw: dict[str, float] = field(default_factory=dict)
    """Each CHP unit's output in the last interval (the start of its ramp); none yet: free."""
    batch_delivered_kwh: dict[str, float] = field(default_factory=dict)
    """Energy each batch load has had in its window so far (the replay clears it where a
    window opens: :func:`controller.inputs.flexible.delivered_in_open_windows`)."""
    shift_backlog_kwh: dict[str, float] = field(default_factory=dict)
    """Energy each shiftable load has deferred and not made up (negative: advanced)."""
    hydrogen_level_kg: dict[str, float] = field(default_factory=dict)
    """Hydrogen in each tank (a tank not named: at its initial fraction)."""
    shift_recent_kwh: dict[str, list[float]] = field(default_factory=dict)
    """Each shiftable share's baseline energy (its share of the load's true draw) in its last
    intervals (oldest first; as many as its shift spans)."""

    @classmethod
    def initial(cls, site: Site) -> PlantState:
        return cls(
            {b.name: b.initial_soc_kwh for b in site.assets.batteries},
            {t.name: t.initial_level_kwh_th for t in site.assets.thermal_storage},
        )


@dataclass
class StepResult:
    """Actual flows of the interval (plan column names) and what did not go as set."""

    actual: dict[str, float]
    not_followed: list[str] = field(default_factory=list)
    boiler_backup_kwh_th: float = 0.0
    heat_unmet_kwh_th: float = 0.0
    heat_dumped_kwh_th: float = 0.0
    grid_limit_violation: bool = False
    peak_guard_kwh: float = 0.0
    """Battery energy moved off its setpoint to hold the import ceiling."""
    heat_pump_shed_kwh: float = 0.0
    """Heat-pump input the demand limiter gave to fuel boilers to hold the import ceiling."""


class Plant:
    def __init__(self, site: Site) -> None:
        self.site = site
        a = site.assets
        self._stream = {w.name: w for w in a.waste_heat}
        self._boiler_of = {
            d.name: [b for b in a.boilers if b.supplies == d.name] for d in a.heat_demands
        }
        backup = {
            d.name: sum(b.capacity_kw_th for b in a.boilers if b.supplies == d.name)
            + sum(t.discharge_kw_th for t in a.thermal_storage if t.supplies == d.name)
            for d in a.heat_demands
        }
        self._by_backup = sorted(a.heat_demands, key=lambda d: backup[d.name])
        """Heat demands by the boiler and storage capacity behind them, least first: the order
        in which they draw on shared waste-heat streams."""
        fixed = site_heat_pump_cops(site, np.zeros(1))[:, 0]
        self._stream_cop = {
            hp.name: float(fixed[k]) for k, hp in enumerate(a.heat_pumps) if hp.source != AMBIENT
        }
        """COP of each pump on a waste-heat stream or a lower stage (its source temperature
        is fixed)."""
        self._units = [[a.heat_pumps[k] for k in unit] for unit in Layout(site).heat_pump_units]
        """Each pump that delivers heat with the stages below it, top first (a cascade runs
        as one pump: :meth:`_cascade_units`)."""
        self._pumps_of = {
            d.name: [u[0] for u in self._units if u[0].supplies == d.name] for d in a.heat_demands
        }
        self._direct = {
            d.name: [w for w in a.waste_heat if w.supply_temperature_degc >= d.temperature_degc]
            for d in a.heat_demands
        }

    def step(
        self, state: PlantState, setpoint: Mapping[str, float], truth: Mapping[str, float]
    ) -> StepResult:
        """Apply one interval; ``state`` is updated in place to the end of the interval."""
        a = self.site.assets
        out: dict[str, float] = {}
        result = StepResult(out)

        def follow(name: str, wanted: float, got: float) -> float:
            if abs(wanted - got) > FOLLOW_TOL_KW:
                result.not_followed.append(name)
            return got

        renewable = 0.0
        for units, dispatched, curtailed in (
            (a.pv, columns.pv_kw, pc.pv_curtailed_kw),
            (a.wind, columns.wind_kw, pc.wind_curtailed_kw),
        ):
            for unit in units:
                col = dispatched(unit.name)
                available = max(float(truth[col]), 0.0)
                capped = float(setpoint.get(curtailed(unit.name), 0.0)) > FOLLOW_TOL_KW
                produced = min(available, float(setpoint[col])) if capped else available
                out[col] = produced
                renewable += produced

        load = 0.0
        for ld in a.electric_loads:
            out[columns.load_kw(ld.name)] = float(truth[columns.load_kw(ld.name)])
            load += out[columns.load_kw(ld.name)]

        battery_net = 0.0
        soc_before = dict(state.battery_soc_kwh)
        for b in a.batteries:
            ch_col, dis_col = (
                columns.battery_charge_kw(b.name),
                columns.battery_discharge_kw(b.name),
            )
            want_c, want_d = float(setpoint.get(ch_col, 0.0)), float(setpoint.get(dis_col, 0.0))
            soc = state.battery_soc_kwh[b.name]
            c = min(
                max(want_c - want_d, 0.0),
                b.charge_kw,
                max(b.soc_max_kwh - soc, 0.0) / (b.charge_efficiency * HOURS),
            )
            d = min(
                max(want_d - want_c, 0.0),
                b.discharge_kw,
                max(soc - b.soc_min_kwh, 0.0) * b.discharge_efficiency / HOURS,
            )
            out[ch_col] = follow(ch_col, want_c, c)
            out[dis_col] = follow(dis_col, want_d, d)
            soc += (c * b.charge_efficiency - d / b.discharge_efficiency) * HOURS
            state.battery_soc_kwh[b.name] = soc
            out[pc.battery_soc_kwh(b.name)] = soc
            battery_net += c - d

        supplied = {d.name: 0.0 for d in a.heat_demands}
        for t in a.thermal_storage:
            ch_col = pc.thermal_storage_charge_kw_th(t.name)
            dis_col = pc.thermal_storage_discharge_kw_th(t.name)
            level = state.tank_level_kwh_th[t.name] * t.kept_over(HOURS)
            want_c, want_d = float(setpoint.get(ch_col, 0.0)), float(setpoint.get(dis_col, 0.0))
            c = min(
                max(want_c - want_d, 0.0),
                t.charge_kw_th,
                max(t.capacity_kwh_th - level, 0.0) / HOURS,
            )
            d = min(max(want_d - want_c, 0.0), t.discharge_kw_th, level / HOURS)
            out[ch_col], out[dis_col] = follow(ch_col, want_c, c), follow(dis_col, want_d, d)
            level += (c - d) * HOURS
            state.tank_level_kwh_th[t.name] = level
            out[pc.thermal_storage_level_kwh_th(t.name)] = level
            supplied[t.supplies] += d - c

        chp_electric = self._chp(state, setpoint, supplied, out, follow)
        flexible = self._flexible(state, setpoint, out, follow)
        flexible += self._hydrogen(state, setpoint, out, follow)
        recovered = self._recovery(setpoint, truth, out)
        hp_electric, e_boiler = self._heat(setpoint, truth, supplied, out, result, follow)
        generated = renewable + chp_electric + recovered
        net = load + hp_electric + e_boiler + battery_net + flexible - generated
        ceiling = setpoint.get(pc.GRID_IMPORT_CEILING_KW)
        # the local controller meters the connection point: the park's balance plus the
        # network losses (taken as the plan expects them; the replay's AC verification then
        # finds the true ones)
        metered = net + float(setpoint.get(pc.NETWORK_LOSSES_KW, 0.0))
        if ceiling is not None and metered > float(ceiling) + FOLLOW_TOL_KW:
            relief = self._guard_peak(state, soc_before, out, metered - float(ceiling))
            result.peak_guard_kwh = relief * HOURS
            shed = self._shed_heat_pumps(out, metered - float(ceiling) - relief)
            result.heat_pump_shed_kwh = shed * HOURS
            net -= relief + shed
        out[pc.GRID_IMPORT_KW] = max(net, 0.0)
        out[pc.GRID_EXPORT_KW] = max(-net, 0.0)
        grid = self.site.grid_connection
        result.grid_limit_violation = (
            out[pc.GRID_IMPORT_KW] > grid.import_limit_kw + FOLLOW_TOL_KW
            or out[pc.GRID_EXPORT_KW] > grid.export_limit_kw + FOLLOW_TOL_KW
        )
        return result

    def _chp(
        self,
        state: PlantState,
        setpoint: Mapping[str, float],
        supplied: dict[str, float],
        out: dict[str, float],
        follow: Callable[[str, float, float], float],
    ) -> float:
        """Each CHP unit runs at its setpoint within its rating and ramp (from its last
        output); a setpoint between 0 and its minimum stable load is raised to the minimum
        (the unit cannot run lower; counted as not followed). Its heat goes to its demand
        ahead of heat pumps and boilers (``supplied``); heat the demand cannot take is
        dumped there. Returns the units' electric output [kW]."""
        total = 0.0
        for chp in self.site.assets.chp:
            col = columns.chp_kw(chp.name)
            wanted = max(float(setpoint.get(col, 0.0)), 0.0)
            if float(setpoint.get(pc.chp_on(chp.name), 1.0)) < 0.5:
                wanted = 0.0
            got = min(wanted, chp.rated_electric_kw)
            minimum = chp.rated_electric_kw * chp.min_stable_fraction
            if 0.0 < got < minimum:
                got = minimum
            before = state.chp_kw.get(chp.name)
            if before is not None and chp.ramp_kw_per_h is not None:
                step = chp.ramp_kw_per_h * HOURS
                got = min(max(got, before - step), before + step)
                if 0.0 < got < minimum:  # cannot run there: hold the minimum (reachable:
                    got = minimum  # the site check keeps the ramp step above it)
            was_on = chp.initially_on if before is None else before > 0.0
            state.chp_kw[chp.name] = got
            out[col] = follow(col, wanted, got)
            out[pc.chp_start_cny(chp.name)] = chp.start_cost_cny if got > 0 and not was_on else 0.0
            out[pc.chp_on(chp.name)] = 1.0 if got > 0.0 else 0.0
            out[pc.chp_heat_kw_th(chp.name)] = got * chp.heat_per_electric
            out[pc.chp_fuel_kw(chp.name)] = got / chp.electric_efficiency
            if chp.supplies is not None:
                supplied[chp.supplies] += got * chp.heat_per_electric
            total += got
        return total

    def _recovery(
        self, setpoint: Mapping[str, float], truth: Mapping[str, float], out: dict[str, float]
    ) -> float:
        """Each waste-heat or waste-pressure generator gives what its process truly makes
        available (:meth:`sites.schema.RecoveryGenerator.available_kw` of the true process
        load), as PV does: a setpoint caps a curtailable unit only where the plan curtailed
        it (planned output below what the plan expected available). Returns the output [kW]."""
        total = 0.0
        for unit in self.site.assets.recovery_power:
            col = columns.recovery_kw(unit.name)
            available = unit.available_kw(float(truth[columns.load_kw(unit.process_load)]))
            planned = float(setpoint.get(col, available))
            expected = float(setpoint.get(pc.recovery_available_kw(unit.name), planned))
            capped = not unit.must_run and expected - planned > FOLLOW_TOL_KW
            got = min(available, max(planned, 0.0)) if capped else available
            out[col] = got
            out[pc.recovery_available_kw(unit.name)] = available
            total += got
        return total

    def _flexible(
        self,
        state: PlantState,
        setpoint: Mapping[str, float],
        out: dict[str, float],
        follow: Callable[[str, float, float], float],
    ) -> float:
        """Flexible loads as set: a batch draws its setpoint within its rating (a setpoint
        between 0 and its minimum draw is raised to the minimum, as the process cannot run
        lower; counted as not followed); a curtailable load sheds its setpoint, at most its
        share of the load's true draw; a shiftable load takes off its setpoint down to its
        share of the true draw and adds its setpoint up to its extra draw, and its backlog
        follows. Returns their net draw on the park [kW]."""
        a = self.site.assets
        loads = {x.name: out[columns.load_kw(x.name)] for x in a.electric_loads}
        draw = 0.0
        for batch in a.batch_loads:
            col = columns.batch_kw(batch.name)
            wanted = max(float(setpoint.get(col, 0.0)), 0.0)
            got = min(wanted, batch.max_kw)
            if 0.0 < got < batch.min_kw:
                got = batch.min_kw
            out[col] = follow(col, wanted, got)
            out[pc.batch_on(batch.name)] = 1.0 if got > 0.0 else 0.0
            delivered = state.batch_delivered_kwh.get(batch.name, 0.0)
            state.batch_delivered_kwh[batch.name] = delivered + got * HOURS
            draw += got
        for part in a.curtailable_loads:
            col = columns.curtailed_kw(part.name)
            wanted = max(float(setpoint.get(col, 0.0)), 0.0)
            out[col] = follow(col, wanted, min(wanted, part.max_fraction * loads[part.load]))
            draw -= out[col]
        for shift in a.shiftable_loads:
            down_col, up_col = columns.shift_down_kw(shift.name), columns.shift_up_kw(shift.name)
            want_down = max(float(setpoint.get(down_col, 0.0)), 0.0)
            want_up = max(float(setpoint.get(up_col, 0.0)), 0.0)
            down = min(want_down, shift.max_fraction * loads[shift.load])
            up = min(want_up, shift.max_extra_kw)
            out[down_col] = follow(down_col, want_down, down)
            out[up_col] = follow(up_col, want_up, up)
            backlog = state.shift_backlog_kwh.get(shift.name, 0.0) + (down - up) * HOURS
            state.shift_backlog_kwh[shift.name] = backlog
            recent = state.shift_recent_kwh.setdefault(shift.name, [])
            recent.append(shift.max_fraction * loads[shift.load] * HOURS)
            del recent[: -shift.shift_steps]
            out[pc.shift_deferred_kwh(shift.name)] = max(backlog, 0.0)
            out[pc.shift_advanced_kwh(shift.name)] = max(-backlog, 0.0)
            draw += up - down
        return draw

    def _hydrogen(
        self,
        state: PlantState,
        setpoint: Mapping[str, float],
        out: dict[str, float],
        follow: Callable[[str, float, float], float],
    ) -> float:
        """Electrolysers draw their setpoint within their rating (raised to the minimum load
        where set between 0 and it; counted as not followed) and make hydrogen along their
        curve; each tank loses its standing loss, takes what they make, gives its fuel cells
        what they draw (their setpoint, as far as the hydrogen there allows) and then the
        offtake as set (as far as it allows); what it cannot hold is vented. Returns the
        net electric draw [kW]."""
        a = self.site.assets
        draw = 0.0
        made = {t.name: 0.0 for t in a.hydrogen_tanks}
        for e in a.electrolysers:
            col = columns.electrolyser_kw(e.name)
            wanted = max(float(setpoint.get(col, 0.0)), 0.0)
            got = min(wanted, e.rated_kw)
            low = e.min_load_fraction * e.rated_kw
            if 0.0 < got < low:
                got = low
            out[col] = follow(col, wanted, got)
            out[pc.electrolyser_on(e.name)] = 1.0 if got > 0.0 else 0.0
            kg = e.hydrogen_kg_per_h(got) if got > 0.0 else 0.0
            out[pc.electrolyser_hydrogen_kg_per_h(e.name)] = kg
            out[pc.electrolyser_vented_kg_per_h(e.name)] = 0.0
            made[e.tank] += kg
            draw += got
        for tank in a.hydrogen_tanks:
            default = tank.initial_level_kg
            level = state.hydrogen_level_kg.get(tank.name, default) * tank.kept_over(HOURS)
            level += made[tank.name] * HOURS
            for cell in a.hydrogen_fuel_cells:
                if cell.tank != tank.name:
                    continue
                col = columns.hydrogen_fuel_cell_kw(cell.name)
                wanted = max(float(setpoint.get(col, 0.0)), 0.0)
                got = min(wanted, cell.rated_kw, level / HOURS * cell.kwh_per_kg)
                out[col] = follow(col, wanted, got)
                out[pc.fuel_cell_hydrogen_kg_per_h(cell.name)] = got / cell.kwh_per_kg
                level -= got / cell.kwh_per_kg * HOURS
                draw -= got
            col = pc.tank_offtake_kg_per_h(tank.name)
            wanted = max(float(setpoint.get(col, 0.0)), 0.0)
            got = min(wanted, tank.max_offtake_kg_per_h, max(level, 0.0) / HOURS)
            out[col] = follow(col, wanted, got)
            level = max(level - got * HOURS, 0.0)
            vented = max(level - tank.capacity_kg, 0.0) / HOURS
            level = min(level, tank.capacity_kg)
            if vented > 0.0:
                for e in a.electrolysers:  # the tank's electrolysers vent in their order
                    if e.tank == tank.name:
                        kg = out[pc.electrolyser_hydrogen_kg_per_h(e.name)]
                        share = min(kg, vented)
                        out[pc.electrolyser_vented_kg_per_h(e.name)] = share
                        vented -= share
            state.hydrogen_level_kg[tank.name] = level
            out[pc.tank_level_kg(tank.name)] = level
        return draw

    def _boiler_heat_price(self, demand: HeatDemand, setpoint: Mapping[str, float]) -> float:
        """What a kWh_th from the demand's cheapest boiler costs in this interval [CNY]: fuel
        price (or the plan's electricity price) over efficiency; infinite without a boiler
        (stream then saves heat that nothing else could give)."""
        price = float(setpoint.get(pc.PRICE_CNY_PER_KWH, 0.0))
        return min(
            (
                (price if b.fuel is Fuel.ELECTRIC else b.fuel_price_cny_per_kwh) / b.efficiency
                for b in self._boiler_of[demand.name]
            ),
            default=float("inf"),
        )

    def _heat(
        self,
        setpoint: Mapping[str, float],
        truth: Mapping[str, float],
        supplied: dict[str, float],
        out: dict[str, float],
        result: StepResult,
        follow: Callable[[str, float, float], float],
    ) -> tuple[float, float]:
        """Each demand's heat after its tanks (``supplied``): waste heat hot enough, then
        its heat pumps and boilers as planned, then more of them where the demand needs more
        than planned (heat pumps first). Returns the heat pumps' and electric boilers'
        electric input [kW].

        Demands draw on shared waste-heat streams in the order of the boiler and storage
        capacity behind them, least first: where the stream truly gives what the plan
        expected, each pump gets its planned share; where it gives less, the best backed-up
        demand's pumps give way. A pump whose demand needs more than planned takes more only
        from what is left once every pump has had its planned share. Heat pumps follow their
        demand as their own controllers do: down to what it needs, and up to their rating
        where it needs more than planned. A heat pump counts as not followed only where it
        delivered less than both its setpoint and what its demand needed."""
        a = self.site.assets
        stream = {
            w.name: max(float(truth[columns.waste_heat_kw_th(w.name)]), 0.0) for w in a.waste_heat
        }
        ambient = np.array([float(truth[columns.AMBIENT_TEMPERATURE_DEGC])])
        cop, planned = dict(self._stream_cop), {}
        for hp in a.heat_pumps:
            if hp.source == AMBIENT:
                cop[hp.name] = float(heat_pump_cop(hp, ambient)[0])
            wanted = float(setpoint.get(columns.heat_pump_kw(hp.name), 0.0))
            planned[hp.name] = min(max(wanted, 0.0), hp.electric_kw)
        pumps_of, shares = self._cascade_units(cop, planned)
        for w in a.waste_heat:
            out[pc.waste_heat_direct_kw_th(w.name)] = 0.0

        def draw(hp: HeatPump, k: float, wanted_kw: float) -> float:
            """Electric input up to ``wanted_kw`` that the pump's source allows; its source
            heat is taken from the stream."""
            if hp.source == AMBIENT:
                return max(wanted_kw, 0.0)
            e = max(min(wanted_kw, stream[hp.source] / max(k - 1.0, 1e-9)), 0.0)
            stream[hp.source] = max(stream[hp.source] - e * (k - 1.0), 0.0)
            return e

        # 1. every demand (least backed-up first): waste heat hot enough, then its heat pumps
        #    as planned, down to what it needs and the stream gives; no pump takes more than
        #    its plan before every pump has had its share. Then the stream beyond what the
        #    plan counted on goes to its heat pumps up to their rating, ahead of the boilers
        #    (the heat pump leads, the boiler tops up, as a heat plant's cascade runs); then
        #    the boilers as planned.
        need: dict[str, float] = {}
        electric = {hp.name: 0.0 for hp in a.heat_pumps}
        target: dict[str, float] = {}
        heat = {b.name: 0.0 for b in a.boilers}
        for demand in self._by_backup:
            left = float(truth[columns.heat_demand_kw_th(demand.name)]) - supplied[demand.name]
            for w in self._direct[demand.name]:
                used = min(max(left, 0.0), stream[w.name])
                stream[w.name] -= used
                out[pc.waste_heat_direct_kw_th(w.name)] += used
                left -= used
            for hp in pumps_of[demand.name]:
                k = cop[hp.name]
                target[hp.name] = min(planned[hp.name], max(left, 0.0) / k)  # asked and needed
                electric[hp.name] = draw(hp, k, target[hp.name])
                left -= electric[hp.name] * k
            need[demand.name] = left
        unplanned = {  # what the stream gives beyond what the plan counted on
            w.name: min(
                stream[w.name],
                max(float(truth[columns.waste_heat_kw_th(w.name)]) - float(counted), 0.0),
            )
            for w in a.waste_heat
            if (counted := setpoint.get(pc.waste_heat_available_kw_th(w.name))) is not None
        }
        price = float(setpoint.get(pc.PRICE_CNY_PER_KWH, 0.0))
        for demand in sorted(self._by_backup, key=lambda d: -self._boiler_heat_price(d, setpoint)):
            left = need[demand.name]
            for hp in pumps_of[demand.name]:
                k = cop[hp.name]
                if hp.source not in unplanned or price / k >= self._boiler_heat_price(
                    demand, setpoint
                ):
                    continue  # a pump's heat dearer than its boiler's: the boiler keeps it
                wanted = min(max(left, 0.0) / k, hp.electric_kw - electric[hp.name])
                more = max(min(wanted, unplanned[hp.source] / max(k - 1.0, 1e-9)), 0.0)
                unplanned[hp.source] -= more * (k - 1.0)
                stream[hp.source] -= more * (k - 1.0)
                electric[hp.name] += more
                left -= more * k
            for b in self._boiler_of[demand.name]:
                planned_heat = max(float(setpoint.get(pc.boiler_heat_kw_th(b.name), 0.0)), 0.0)
                heat[b.name] = min(max(left, 0.0), planned_heat, b.capacity_kw_th)
                left -= heat[b.name]
            need[demand.name] = left

        # 2. more than planned: heat pumps up to their rating from what is left of their
        #    stream, then boilers as backup; heat still missing takes stream back from the
        #    pumps of better backed-up demands (their own backup then makes up for it)
        def take_back(hp: HeatPump, givers: Sequence[HeatDemand], left: float) -> float:
            """Run ``hp`` up to its rating on source heat taken back from the pumps of the
            ``givers`` demands on its stream, for the ``left`` kW_th its demand still misses;
            the givers' demands then need that much more. Returns what is still missing."""
            k = cop[hp.name]
            for other in givers:
                for giver in pumps_of[other.name]:
                    want = min(left / k, hp.electric_kw - electric[hp.name])
                    if want <= 0.0 or hp.source == AMBIENT or giver.source != hp.source:
                        continue
                    k_giver = cop[giver.name]
                    back = min(electric[giver.name], want * (k - 1.0) / (k_giver - 1.0))
                    electric[giver.name] -= back
                    need[other.name] += back * k_giver
                    stream[hp.source] += back * (k_giver - 1.0)
                    more = draw(hp, k, want)
                    electric[hp.name] += more
                    left -= more * k
            return left

        hp_electric = e_boiler = 0.0
        for position, demand in enumerate(self._by_backup):
            left = need[demand.name]
            pumps, boilers = pumps_of[demand.name], self._boiler_of[demand.name]
            for hp in pumps:
                k = cop[hp.name]
                more = draw(hp, k, min(max(left, 0.0) / k, hp.electric_kw - electric[hp.name]))
                electric[hp.name] += more
                left -= more * k
            for b in boilers:
                backup = min(max(left, 0.0), b.capacity_kw_th - heat[b.name])
                heat[b.name] += backup
                result.boiler_backup_kwh_th += backup * HOURS
                left -= backup
            for hp in pumps:
                left = take_back(hp, self._by_backup[position + 1 :], left)
            for hp in pumps:
                out[columns.heat_pump_kw(hp.name)] = electric[hp.name]
                out[pc.heat_pump_heat_kw_th(hp.name)] = electric[hp.name] * cop[hp.name]
                hp_electric += electric[hp.name]
                if hp.name in shares:
                    self._split(hp.name, shares[hp.name], out)
            for b in boilers:
                out[pc.boiler_heat_kw_th(b.name)] = heat[b.name]
                if b.fuel is Fuel.ELECTRIC:
                    out[columns.boiler_kw(b.name)] = heat[b.name] / b.efficiency
                    e_boiler += heat[b.name] / b.efficiency
                else:
                    out[pc.boiler_fuel_kw(b.name)] = heat[b.name] / b.efficiency
            out[pc.heat_unmet_kw_th(demand.name)] = max(left, 0.0)
            if left > FOLLOW_TOL_KW:
                result.heat_unmet_kwh_th += left * HOURS
            elif left < -FOLLOW_TOL_KW:
                result.heat_dumped_kwh_th += -left * HOURS
        for unit in self._units:  # less than both its setpoint and what its demand needed
            hp = unit[0]
            if electric[hp.name] < target[hp.name]:
                follow(columns.heat_pump_kw(hp.name), target[hp.name], electric[hp.name])
        for w in a.waste_heat:
            used = float(truth[columns.waste_heat_kw_th(w.name)]) - stream[w.name]
            out[pc.waste_heat_to_heat_pump_kw_th(w.name)] = (
                used - out[pc.waste_heat_direct_kw_th(w.name)]
            )
        return hp_electric, e_boiler

    def _cascade_units(
        self, cop: dict[str, float], planned: dict[str, float]
    ) -> tuple[dict[str, list[HeatPump]], dict[str, list[tuple[str, float, float]]]]:
        """Each demand's heat pumps with a cascade as one pump: named as its top stage, on
        its lowest stage's source, at its combined COP (``cop`` updated), rated at the most
        input every stage's rating allows and planned (``planned`` updated) at the heat
        every stage's setpoint lets through: the upper stage takes at most what the lower one
        gives, the lower gives no more than the upper takes. Returns those pumps by demand
        and, per cascade, (stage name, input per kW_th delivered, its COP) top first."""
        merged: dict[str, HeatPump] = {}
        shares: dict[str, list[tuple[str, float, float]]] = {}
        for unit in self._units:
            if len(unit) == 1:
                continue
            top = unit[0]
            per_heat = [
                float(x) for x in cascade_electric_per_heat([np.array(cop[h.name]) for h in unit])
            ]
            # a stage at COP 1 lifts nothing: those below it draw nothing and limit nothing
            heat_rating = min(
                h.electric_kw / x for h, x in zip(unit, per_heat, strict=True) if x > 0.0
            )
            heat_planned = min(
                planned[h.name] / x for h, x in zip(unit, per_heat, strict=True) if x > 0.0
            )
            combined = 1.0 / sum(per_heat)
            shares[top.name] = [
                (h.name, x, cop[h.name]) for h, x in zip(unit, per_heat, strict=True)
            ]
            cop[top.name] = combined
            planned[top.name] = heat_planned / combined
            merged[top.name] = top.model_copy(
                update={"source": unit[-1].source, "electric_kw": heat_rating / combined}
            )
        if not merged:
            return self._pumps_of, shares
        pumps_of = {d: [merged.get(p.name, p) for p in ps] for d, ps in self._pumps_of.items()}
        return pumps_of, shares

    @staticmethod
    def _split(top: str, stages: list[tuple[str, float, float]], out: dict[str, float]) -> None:
        """A cascade's flows in ``out`` from its combined input (in its top stage's columns):
        each stage's input is its share; a lower stage's heat goes to the stage above it,
        none to the demand."""
        heat = out[pc.heat_pump_heat_kw_th(top)]
        for position, (name, per_heat, stage_cop) in enumerate(stages):
            out[columns.heat_pump_kw(name)] = heat * per_heat
            if position > 0:
                out[pc.heat_pump_heat_kw_th(name)] = 0.0
                out[pc.heat_pump_to_stage_kw_th(name)] = heat * per_heat * stage_cop

    def _shed_heat_pumps(self, out: dict[str, float], excess_kw: float) -> float:
        """Hold the import ceiling where the batteries could not: hand heat from heat pumps
        to their demand's fuel boilers (within the boilers' spare capacity), the pumps (a
        cascade as one) that draw the most per kWh_th first, as a demand limiter sheds
        electric heat that fuel can replace. Their flows, fuel and stream use in ``out`` are
        updated. Returns the relief [kW]."""
        relief = 0.0

        def input_kw(unit: list[HeatPump]) -> float:
            return sum(out[columns.heat_pump_kw(h.name)] for h in unit)

        by_cop = sorted(
            self._units,
            key=lambda unit: out[pc.heat_pump_heat_kw_th(unit[0].name)] / max(input_kw(unit), 1e-9),
        )
        for unit in by_cop:
            hp, source = unit[0], unit[-1].source
            before = electric = input_kw(unit)
            if relief >= excess_kw or electric <= 0.0:
                continue
            k = out[pc.heat_pump_heat_kw_th(hp.name)] / electric
            for b in self._boiler_of[hp.supplies]:
                if b.fuel is Fuel.ELECTRIC:
                    continue
                spare = b.capacity_kw_th - out[pc.boiler_heat_kw_th(b.name)]
                shed = max(min(electric, excess_kw - relief, spare / k), 0.0)
                electric -= shed
                relief += shed
                out[pc.boiler_heat_kw_th(b.name)] += shed * k
                out[pc.boiler_fuel_kw(b.name)] += shed * k / b.efficiency
                if source != AMBIENT:
                    out[pc.waste_heat_to_heat_pump_kw_th(source)] -= shed * (k - 1.0)
            for stage in unit:  # a cascade's stages keep their shares of its input
                out[columns.heat_pump_kw(stage.name)] *= electric / before
                if stage is not hp:
                    out[pc.heat_pump_to_stage_kw_th(stage.name)] *= electric / before
            out[pc.heat_pump_heat_kw_th(hp.name)] = electric * k
        return relief

    def _guard_peak(
        self,
        state: PlantState,
        soc_before: Mapping[str, float],
        out: dict[str, float],
        excess_kw: float,
    ) -> float:
        """Lower the batteries' net charge by up to ``excess_kw`` (charge less, then
        discharge more, within power and the SoC window from the interval's start); their
        flows and SoC in ``out`` and ``state`` are updated. Returns the relief [kW]."""
        relief = 0.0
        for b in self.site.assets.batteries:
            if relief >= excess_kw:
                break
            ch_col, dis_col = (
                columns.battery_charge_kw(b.name),
                columns.battery_discharge_kw(b.name),
            )
            c, d = out[ch_col], out[dis_col]
            soc = soc_before[b.name]
            less = min(c, excess_kw - relief)
            c -= less
            room = max(
                min(b.discharge_kw, max(soc - b.soc_min_kwh, 0.0) * b.discharge_efficiency / HOURS)
                - d,
                0.0,
            )
            more = min(room, excess_kw - relief - less) if c <= 0.0 else 0.0
            d += more
            relief += less + more
            soc += (c * b.charge_efficiency - d / b.discharge_efficiency) * HOURS
            out[ch_col], out[dis_col] = c, d
            state.battery_soc_kwh[b.name] = soc
            out[pc.battery_soc_kwh(b.name)] = soc
        return relief
