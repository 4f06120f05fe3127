"""Rule-based dispatch for when the solver fails: self-consumption within hard limits.

Per interval, in order:

- heat, per demand (the demand whose boilers and storage could least cover it first, so
  that shared waste heat goes where nothing else can replace it): hot-enough waste heat
  directly, then heat pumps (within rating and their source's remaining waste heat), then
  thermal storage, then fuel boilers, then electric boilers; what is left is unmet heat;
- electricity: a renewable surplus charges the batteries (power, SoC window), then is
  exported (up to the export limit), then curtailed; a deficit discharges the batteries
  (down to the SoC window), then is imported. An import above its limit is reported as a
  relaxation (the loads are the forecast's; the fallback does not shed them).

``flex`` (per interval, 0..1) scales what may be switched: heat-pump and battery power and
the renewable output used; the planner lowers it where the AC check of a fallback finds a
network limit broken. It is also the operating point the network rows are linearised around.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from controller.dispatch import Dispatch
from controller.inputs import HOURS_PER_STEP, DispatchInputs, layout_for, per_site
from sites import Site

DT = HOURS_PER_STEP


@dataclass(frozen=True)
class _Battery:
    soc_min_kwh: float
    soc_max_kwh: float
    charge_kw: float
    discharge_kw: float
    charge_efficiency: float
    discharge_efficiency: float


@dataclass(frozen=True)
class _Rules:
    """What the rules read of a site, by heat demand, as plain numbers. Built once per Site
    (see :func:`controller.inputs.per_site`): the loop over intervals reads it for every
    interval, and the site's pydantic models and the layout are slow to read that often."""

    backup_kw_th: np.ndarray
    """(n_demands,) boiler and storage capacity serving each demand: the heat order."""
    keep: tuple[float, ...]
    """Per tank: share of the level kept over an interval (standing loss)."""
    direct: tuple[tuple[tuple[int, int], ...], ...]
    """Per demand: (pair, stream) of each direct waste-heat pair serving it."""
    heat_pumps: tuple[tuple[tuple[int, float, int], ...], ...]
    """Per demand: (heat pump, electric rating, source stream or -1) serving it."""
    storage: tuple[tuple[tuple[int, float], ...], ...]
    """Per demand: (tank, discharge rating) serving it."""
    boilers: tuple[tuple[tuple[int, float], ...], ...]
    """Per demand: (boiler, heat rating) serving it, fuel boilers first."""
    storage_capacity_kwh_th: tuple[float, ...]
    n_direct_pairs: int
    n_boilers: int
    electric_boilers: tuple[tuple[int, float], ...]
    """(boiler, efficiency) of each electric boiler."""
    batteries: tuple[_Battery, ...]


@per_site
def _rules(site: Site) -> _Rules:
    a = site.assets
    layout = layout_for(site)
    demands = range(len(a.heat_demands))
    backup = np.zeros(len(a.heat_demands))
    for k, boiler in enumerate(a.boilers):
        backup[layout.boiler_demand[k]] += boiler.capacity_kw_th
    for k, store in enumerate(a.thermal_storage):
        backup[layout.storage_demand[k]] += store.discharge_kw_th
    boiler_order = layout.fuel_boilers + layout.electric_boilers
    return _Rules(
        backup_kw_th=backup,
        keep=tuple(1 - s.standing_loss_fraction_per_hour * DT for s in a.thermal_storage),
        direct=tuple(
            tuple((k, w) for k, (w, demand) in enumerate(layout.direct_pairs) if demand == d)
            for d in demands
        ),
        heat_pumps=tuple(
            tuple(
                (k, hp.electric_kw, layout.heat_pump_source[k])
                for k, hp in enumerate(a.heat_pumps)
                if layout.heat_pump_demand[k] == d
            )
            for d in demands
        ),
        storage=tuple(
            tuple(
                (k, store.discharge_kw_th)
                for k, store in enumerate(a.thermal_storage)
                if layout.storage_demand[k] == d
            )
            for d in demands
        ),
        boilers=tuple(
            tuple(
                (k, a.boilers[k].capacity_kw_th)
                for k in boiler_order
                if layout.boiler_demand[k] == d
            )
            for d in demands
        ),
        storage_capacity_kwh_th=tuple(s.capacity_kwh_th for s in a.thermal_storage),
        n_direct_pairs=len(layout.direct_pairs),
        n_boilers=len(a.boilers),
        electric_boilers=tuple((k, a.boilers[k].efficiency) for k in layout.electric_boilers),
        batteries=tuple(
            _Battery(
                b.soc_min_kwh,
                b.soc_max_kwh,
                b.charge_kw,
                b.discharge_kw,
                b.charge_efficiency,
                b.discharge_efficiency,
            )
            for b in a.batteries
        ),
    )


def _column_totals(values: np.ndarray) -> np.ndarray:
    """``values[:, t].sum()`` for every t, as one call (summing each row of the transposed
    copy adds in the same order as summing each column alone, so the totals are the same)."""
    return np.ascontiguousarray(values.T).sum(axis=1)


@dataclass
class _Heat:
    """The heat side of the rules over the real intervals (rows as in ``Dispatch``)."""

    heat_pump_kw: np.ndarray
    direct_kw_th: np.ndarray
    to_heat_pump_kw_th: np.ndarray
    storage_discharge_kw_th: np.ndarray
    storage_level_kwh_th: np.ndarray
    storage_over_kwh_th: np.ndarray
    boiler_kw_th: np.ndarray
    unmet_kw_th: np.ndarray


def _serve_heat(
    rules: _Rules, inputs: DispatchInputs, cops: np.ndarray, scale: np.ndarray
) -> _Heat:
    """Heat, interval by interval (the tanks carry over), each demand in the order of how
    far its boilers and storage fall short of it, worst first."""
    real = inputs.real
    n = inputs.n_steps
    heat_demand = real(inputs.heat_demand_kw_th)
    n_demands, n_pumps = heat_demand.shape[0], cops.shape[0]
    n_tanks = len(rules.keep)
    out = _Heat(
        heat_pump_kw=np.zeros((n_pumps, n)),
        direct_kw_th=np.zeros((rules.n_direct_pairs, n)),
        to_heat_pump_kw_th=np.zeros((inputs.waste_heat_available_kw_th.shape[0], n)),
        storage_discharge_kw_th=np.zeros((n_tanks, n)),
        storage_level_kwh_th=np.zeros((n_tanks, n)),
        storage_over_kwh_th=np.zeros((n_tanks, n)),
        boiler_kw_th=np.zeros((rules.n_boilers, n)),
        unmet_kw_th=np.zeros((n_demands, n)),
    )
    order = np.argsort(rules.backup_kw_th[:, None] - heat_demand, axis=0, kind="stable")
    # per interval, as Python numbers: the loop reads them one at a time
    orders, demands, scales = order.T.tolist(), heat_demand.T.tolist(), scale.tolist()
    wastes, cops_t = real(inputs.waste_heat_available_kw_th).T.tolist(), cops.T.tolist()
    tank = inputs.storage_level0_kwh_th.astype(float).tolist()
    for t in range(n):
        waste_left = wastes[t]
        tank = [level * keep for level, keep in zip(tank, rules.keep, strict=True)]
        for d in orders[t]:
            remaining = demands[t][d]
            for k, w in rules.direct[d]:
                if remaining > 0:
                    take = min(remaining, waste_left[w])
                    out.direct_kw_th[k, t] = take
                    waste_left[w], remaining = waste_left[w] - take, remaining - take
            for k, rating, stream in rules.heat_pumps[d]:
                if remaining <= 0:
                    continue
                cop = cops_t[t][k]
                electric = min(rating * scales[t], remaining / cop)
                if stream >= 0 and cop > 1:
                    electric = min(electric, waste_left[stream] / (cop - 1))
                    waste_left[stream] -= (cop - 1) * electric
                    out.to_heat_pump_kw_th[stream, t] += (cop - 1) * electric
                out.heat_pump_kw[k, t] = electric
                remaining -= cop * electric
            for k, rating in rules.storage[d]:
                if remaining > 0:
                    take = min(remaining, rating, tank[k] / DT)
                    out.storage_discharge_kw_th[k, t] = take
                    tank[k], remaining = tank[k] - take * DT, remaining - take
            for k, rating in rules.boilers[d]:
                if remaining > 0:
                    take = min(remaining, rating)
                    out.boiler_kw_th[k, t], remaining = take, remaining - take
            out.unmet_kw_th[d, t] = max(remaining, 0.0)
        for k, capacity in enumerate(rules.storage_capacity_kwh_th):
            out.storage_level_kwh_th[k, t] = tank[k]
            out.storage_over_kwh_th[k, t] = max(tank[k] - capacity, 0.0)
    return out


def fallback_dispatch(
    site: Site, inputs: DispatchInputs, flex: np.ndarray | None = None
) -> Dispatch:
    rules = _rules(site)
    n = inputs.n_steps
    real = inputs.real
    scale = np.ones(n) if flex is None else np.clip(np.asarray(flex, dtype=float), 0.0, 1.0)
    pv = real(inputs.pv_available_kw) * scale
    wind = real(inputs.wind_available_kw) * scale
    cops = real(inputs.cop)
    import_limit = real(inputs.import_limit_kw)
    export_limit = real(inputs.export_limit_kw)
    losses = real(inputs.network.losses_kw) if inputs.network is not None else np.zeros(n)
    heat = _serve_heat(rules, inputs, cops, scale)

    # electricity: the heat side fixed what heat pumps and electric boilers draw
    renewable = _column_totals(pv) + _column_totals(wind)
    electric_boiler: float | np.ndarray = 0
    for k, efficiency in rules.electric_boilers:
        electric_boiler = electric_boiler + heat.boiler_kw_th[k] / efficiency
    demand = (
        _column_totals(real(inputs.load_kw))
        + _column_totals(heat.heat_pump_kw)
        + electric_boiler
        + losses
    )
    n_batteries = len(rules.batteries)
    ch = np.zeros((n_batteries, n))
    dis = np.zeros((n_batteries, n))
    soc = np.zeros((n_batteries, n))
    soc_low = np.zeros((n_batteries, n))
    soc_high = np.zeros((n_batteries, n))
    grid_import = np.zeros(n)
    grid_export = np.zeros(n)
    import_over = np.zeros(n)
    share = np.ones(n)
    battery_soc = inputs.battery_soc0_kwh.astype(float).tolist()
    scales = scale.tolist()
    for t, (available, used) in enumerate(zip(renewable.tolist(), demand.tolist(), strict=True)):
        surplus = available - used
        for k, b in enumerate(rules.batteries):
            if surplus > 0:
                room = max(b.soc_max_kwh - battery_soc[k], 0.0) / (b.charge_efficiency * DT)
                charge = min(b.charge_kw * scales[t], surplus, room)
                ch[k, t] = charge
                surplus -= charge
                battery_soc[k] += charge * b.charge_efficiency * DT
            elif surplus < 0:
                energy = max(battery_soc[k] - b.soc_min_kwh, 0.0) * b.discharge_efficiency / DT
                discharge = min(b.discharge_kw * scales[t], -surplus, energy)
                dis[k, t] = discharge
                surplus += discharge
                battery_soc[k] -= discharge / b.discharge_efficiency * DT
            soc[k, t] = battery_soc[k]
            soc_low[k, t] = max(b.soc_min_kwh - battery_soc[k], 0.0)
            soc_high[k, t] = max(battery_soc[k] - b.soc_max_kwh, 0.0)
        if surplus > 0:
            grid_export[t] = exported = min(surplus, export_limit[t])
            spill = surplus - exported
            if spill > 0 and available > 0:
                share[t] = 1.0 - spill / available
        else:
            grid_import[t] = -surplus
            import_over[t] = max(grid_import[t] - import_limit[t], 0.0)
    pv *= share  # renewables curtailed where the surplus could go nowhere
    wind *= share

    slacks = {
        "grid_import_limit": import_over,
        "heat_unmet": heat.unmet_kw_th,
        "battery_soc_min": soc_low,
        "battery_soc_max": soc_high,
        "storage_capacity": heat.storage_over_kwh_th,
    }
    return Dispatch(
        pv_kw=pv,
        wind_kw=wind,
        battery_charge_kw=ch,
        battery_discharge_kw=dis,
        battery_soc_kwh=soc,
        heat_pump_kw=heat.heat_pump_kw,
        heat_pump_heat_kw_th=cops * heat.heat_pump_kw,
        waste_heat_direct_kw_th=heat.direct_kw_th,
        waste_heat_to_heat_pump_kw_th=heat.to_heat_pump_kw_th,
        storage_charge_kw_th=np.zeros_like(heat.storage_discharge_kw_th),
        storage_discharge_kw_th=heat.storage_discharge_kw_th,
        storage_level_kwh_th=heat.storage_level_kwh_th,
        boiler_heat_kw_th=heat.boiler_kw_th,
        heat_unmet_kw_th=heat.unmet_kw_th,
        grid_import_kw=grid_import,
        grid_export_kw=grid_export,
        losses_kw=np.asarray(losses, dtype=float),
        slacks=slacks,
    )
