"""A site's assets as index lists: the shape every array of a dispatch problem follows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sites import Site, columns
from sites.schema import AMBIENT, Fuel


@dataclass(frozen=True)
class Layout:
    """Positions of a site's assets in the arrays of
    :class:`~controller.inputs.dispatch_inputs.DispatchInputs`
    and :class:`~controller.plans.dispatch.Dispatch` (rows = assets, in site order)."""

    site: Site

    @cached_property
    def demand_position(self) -> dict[str, int]:
        return {d.name: i for i, d in enumerate(self.site.assets.heat_demands)}

    @cached_property
    def heat_pump_demand(self) -> tuple[int, ...]:
        return tuple(self.demand_position[h.supplies] for h in self.site.assets.heat_pumps)

    @cached_property
    def heat_pump_source(self) -> tuple[int, ...]:
        """Waste-heat stream position feeding each heat pump, -1 for ambient air or another
        heat pump (the upper stage of a cascade)."""
        streams = {w.name: i for i, w in enumerate(self.site.assets.waste_heat)}
        return tuple(streams.get(h.source, -1) for h in self.site.assets.heat_pumps)

    @cached_property
    def cascade_pairs(self) -> tuple[tuple[int, int], ...]:
        """(lower, upper) heat-pump positions of each stage of a cascade: the lower stage's
        whole heat output is the upper stage's source."""
        pumps = {h.name: k for k, h in enumerate(self.site.assets.heat_pumps)}
        return tuple(
            (pumps[h.source], k)
            for k, h in enumerate(self.site.assets.heat_pumps)
            if h.source in pumps and h.source != AMBIENT
        )

    @cached_property
    def lower_stages(self) -> frozenset[int]:
        """Heat pumps that feed another pump and deliver no heat to a demand directly."""
        return frozenset(lower for lower, _ in self.cascade_pairs)

    @cached_property
    def heat_pump_units(self) -> tuple[tuple[int, ...], ...]:
        """Each heat pump that delivers heat to its demand with the stages below it, top
        first: ``(k,)`` for a pump on its own, ``(upper, lower)`` for a two-stage cascade.
        The last stage draws on the unit's source (``heat_pump_source``)."""
        below = {upper: lower for lower, upper in self.cascade_pairs}
        units = []
        for k in range(len(self.site.assets.heat_pumps)):
            if k in self.lower_stages:
                continue
            chain = [k]
            while chain[-1] in below:
                chain.append(below[chain[-1]])
            units.append(tuple(chain))
        return tuple(units)

    def heat_to_demand(self, cop: np.ndarray, electric_kw: np.ndarray) -> np.ndarray:
        """(n_heat_pumps, T) heat each pump delivers to its demand: COP x electric input,
        0 for a lower stage of a cascade (its heat goes to its upper stage)."""
        heat = np.asarray(cop) * np.asarray(electric_kw)
        for k in self.lower_stages:
            heat[k] = 0.0
        return heat

    @cached_property
    def direct_pairs(self) -> tuple[tuple[int, int], ...]:
        """(stream, demand) pairs where the stream is hot enough to serve the demand directly."""
        a = self.site.assets
        return tuple(
            (w, d)
            for w, stream in enumerate(a.waste_heat)
            for d, demand in enumerate(a.heat_demands)
            if stream.supply_temperature_degc >= demand.temperature_degc
        )

    @cached_property
    def storage_demand(self) -> tuple[int, ...]:
        return tuple(self.demand_position[t.supplies] for t in self.site.assets.thermal_storage)

    @cached_property
    def boiler_demand(self) -> tuple[int, ...]:
        return tuple(self.demand_position[b.supplies] for b in self.site.assets.boilers)

    @cached_property
    def electric_boilers(self) -> tuple[int, ...]:
        return tuple(i for i, b in enumerate(self.site.assets.boilers) if b.fuel is Fuel.ELECTRIC)

    @cached_property
    def fuel_boilers(self) -> tuple[int, ...]:
        return tuple(
            i for i, b in enumerate(self.site.assets.boilers) if b.fuel is not Fuel.ELECTRIC
        )

    @cached_property
    def chp_demand(self) -> tuple[int, ...]:
        """Heat demand position of each CHP unit, -1 for a generator whose heat is unused."""
        return tuple(
            -1 if c.supplies is None else self.demand_position[c.supplies]
            for c in self.site.assets.chp
        )

    @cached_property
    def committed_chp(self) -> tuple[int, ...]:
        """CHP units with on/off binaries (a minimum stable load)."""
        return tuple(i for i, c in enumerate(self.site.assets.chp) if c.needs_commitment)

    @cached_property
    def recovery_load(self) -> tuple[int, ...]:
        """Electric load position of each recovery generator's process."""
        loads = {x.name: i for i, x in enumerate(self.site.assets.electric_loads)}
        return tuple(loads[r.process_load] for r in self.site.assets.recovery_power)

    def recovery_available_kw(self, load_kw: np.ndarray) -> np.ndarray:
        """(n_recovery, T) output each recovery generator can give, from the loads' power
        ``load_kw`` (n_loads, T): :meth:`sites.schema.RecoveryGenerator.available_kw`."""
        units = self.site.assets.recovery_power
        out = np.zeros((len(units), np.shape(load_kw)[-1]))
        for k, unit in enumerate(units):
            process = np.clip(np.asarray(load_kw)[self.recovery_load[k]], 0.0, None)
            out[k] = np.minimum(unit.rated_kw, unit.kw_per_process_kw * process)
        return out

    @cached_property
    def injection_capacity_kw(self) -> dict[str, float]:
        """Largest value each network injection column can take (for screening limits)."""
        a = self.site.assets
        caps: dict[str, float] = {}
        for pv in a.pv:
            caps[columns.pv_kw(pv.name)] = min(pv.peak_kw, pv.inverter_kva)
        for w in a.wind:
            caps[columns.wind_kw(w.name)] = w.total_rated_kw
        for load in a.electric_loads:
            caps[columns.load_kw(load.name)] = load.peak_kw
        for b in a.batteries:
            caps[columns.battery_charge_kw(b.name)] = b.charge_kw
            caps[columns.battery_discharge_kw(b.name)] = b.discharge_kw
        for hp in a.heat_pumps:
            caps[columns.heat_pump_kw(hp.name)] = hp.electric_kw
        for i in self.electric_boilers:
            boiler = a.boilers[i]
            caps[columns.boiler_kw(boiler.name)] = boiler.capacity_kw_th / boiler.efficiency
        for chp in a.chp:
            caps[columns.chp_kw(chp.name)] = chp.rated_electric_kw
        peak = {x.name: x.peak_kw for x in a.electric_loads}
        for batch in a.batch_loads:
            caps[columns.batch_kw(batch.name)] = batch.max_kw
        for part in a.curtailable_loads:
            caps[columns.curtailed_kw(part.name)] = part.max_fraction * peak[part.load]
        for shift in a.shiftable_loads:
            caps[columns.shift_down_kw(shift.name)] = shift.max_fraction * peak[shift.load]
            caps[columns.shift_up_kw(shift.name)] = shift.max_extra_kw
        for r in a.recovery_power:
            caps[columns.recovery_kw(r.name)] = r.rated_kw
        return caps
