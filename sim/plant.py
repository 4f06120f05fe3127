"""The park as it really behaves in one interval, given the controller's setpoints.

What the plant does with a plan's setpoints and the interval's true conditions:

- PV and wind produce what the weather allowed; a setpoint caps them only where the plan
  curtailed (then the dispatched value is the cap);
- batteries follow their charge/discharge setpoint within power, SoC window and efficiency;
  what they cannot follow is clipped and counted;
- heat pumps follow their electric setpoint with the TRUE COP (true ambient or stream
  temperature); a waste-heat source cannot give more than is truly available, which clips
  the electric input (counted);
- thermal stores follow their setpoint within power and level limits (clipped, counted), with
  standing losses;
- waste heat hot enough for a demand is used directly as far as the demand needs it; boilers
  close every demand's remaining gap (energy above their planned heat counts as backup);
  heat that nothing can take is dumped (counted); heat no asset can supply is unmet (counted);
- the grid connection absorbs every electric mismatch; import or export beyond the connection's
  limits is counted as a violation (network losses are added by the AC verification).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from controller import columns as pc
from controller.cop import heat_pump_cop
from sites import Site, columns
from sites.schema import AMBIENT, Fuel

HOURS = 0.25
FOLLOW_TOL_KW = 1e-3  # a setpoint met within 1 W counts as followed (solver round-off)


@dataclass
class PlantState:
    battery_soc_kwh: dict[str, float]
    tank_level_kwh_th: dict[str, float]

    @classmethod
    def initial(cls, site: Site) -> PlantState:
        return cls(
            {b.name: b.capacity_kwh * b.initial_soc_fraction for b in site.assets.batteries},
            {
                t.name: t.capacity_kwh_th * t.initial_level_fraction
                for t in site.assets.thermal_storage
            },
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


class Plant:
    def __init__(self, site: Site) -> None:
        self.site = site
        a = site.assets
        self._stream = {w.name: w for w in a.waste_heat}
        self._boiler_of = {
            d.name: [b for b in a.boilers if b.supplies == d.name] for d in a.heat_demands
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

        # Heat pumps: true COP, source heat limited by what the stream truly gives.
        stream_left = {
            w.name: max(float(truth[columns.waste_heat_kw_th(w.name)]), 0.0) for w in a.waste_heat
        }
        supplied = {d.name: 0.0 for d in a.heat_demands}
        hp_electric = 0.0
        ambient = float(truth[columns.AMBIENT_TEMPERATURE_DEGC])
        for hp in a.heat_pumps:
            col = columns.heat_pump_kw(hp.name)
            want = min(max(float(setpoint.get(col, 0.0)), 0.0), hp.electric_kw)
            source_t = (
                ambient if hp.source == AMBIENT else self._stream[hp.source].supply_temperature_degc
            )
            cop = float(heat_pump_cop(hp, np.array([source_t]))[0])
            e = want
            if hp.source != AMBIENT:
                e = max(min(e, stream_left[hp.source] / max(cop - 1.0, 1e-9)), 0.0)
                stream_left[hp.source] -= e * (cop - 1.0)
            out[col] = follow(col, float(setpoint.get(col, 0.0)), e)
            out[pc.heat_pump_heat_kw_th(hp.name)] = e * cop
            supplied[hp.supplies] += e * cop
            hp_electric += e

        for t in a.thermal_storage:
            ch_col = pc.thermal_storage_charge_kw_th(t.name)
            dis_col = pc.thermal_storage_discharge_kw_th(t.name)
            level = (
                state.tank_level_kwh_th[t.name] * (1 - t.standing_loss_fraction_per_hour) ** HOURS
            )
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

        e_boiler = 0.0
        for w in a.waste_heat:
            out[pc.waste_heat_direct_kw_th(w.name)] = 0.0
            out[pc.waste_heat_to_heat_pump_kw_th(w.name)] = (
                float(truth[columns.waste_heat_kw_th(w.name)]) - stream_left[w.name]
            )
        for demand in a.heat_demands:
            need = float(truth[columns.heat_demand_kw_th(demand.name)]) - supplied[demand.name]
            for w in self._direct[demand.name]:
                used = min(max(need, 0.0), stream_left[w.name])
                stream_left[w.name] -= used
                out[pc.waste_heat_direct_kw_th(w.name)] += used
                need -= used
            for boiler in self._boiler_of[demand.name]:
                planned = float(setpoint.get(pc.boiler_heat_kw_th(boiler.name), 0.0))
                heat = min(max(need, 0.0), boiler.capacity_kw_th)
                out[pc.boiler_heat_kw_th(boiler.name)] = heat
                result.boiler_backup_kwh_th += max(heat - planned, 0.0) * HOURS
                if boiler.fuel is Fuel.ELECTRIC:
                    out[columns.boiler_kw(boiler.name)] = heat / boiler.efficiency
                    e_boiler += heat / boiler.efficiency
                else:
                    out[pc.boiler_fuel_kw(boiler.name)] = heat / boiler.efficiency
                need -= heat
            out[pc.heat_unmet_kw_th(demand.name)] = max(need, 0.0)
            if need > FOLLOW_TOL_KW:
                result.heat_unmet_kwh_th += need * HOURS
            elif need < -FOLLOW_TOL_KW:
                result.heat_dumped_kwh_th += -need * HOURS

        net = load + hp_electric + e_boiler + battery_net - renewable
        out[pc.GRID_IMPORT_KW] = max(net, 0.0)
        out[pc.GRID_EXPORT_KW] = max(-net, 0.0)
        grid = self.site.grid_connection
        result.grid_limit_violation = (
            out[pc.GRID_IMPORT_KW] > grid.import_limit_kw + FOLLOW_TOL_KW
            or out[pc.GRID_EXPORT_KW] > grid.export_limit_kw + FOLLOW_TOL_KW
        )
        return result
