"""Rule-based dispatch for when the solver fails: self-consumption within hard limits.

Per interval, in order:

- heat, per demand (the demand whose boilers and storage could least cover it first, so
  that shared waste heat goes where nothing else can replace it): hot-enough waste heat
  directly, then heat pumps (within rating and their source's remaining waste heat; a
  cascade runs as one unit at its combined COP, its stages' input split as
  :func:`controller.inputs.cop.cascade_electric_per_heat` says, within every stage's
  rating), then
  thermal storage, then fuel boilers, then electric boilers; what is left is unmet heat;
- electricity: a renewable surplus charges the batteries (power, SoC window), then is
  exported (up to the export limit), then curtailed; a deficit discharges the batteries
  (down to the SoC window), then is imported. An import above its limit is reported as a
  relaxation (the loads are the forecast's; the fallback does not shed them);
- first of all, each gas CHP unit runs at its rating in an interval where that pays and
  fits, else it is off: the interval's electricity price plus its heat valued at its
  demand's cheapest fuel boiler (fuel price / efficiency; none: 0) above its fuel cost per
  kWh, its heat at rating no more than what its demand still needs, its output no more
  than the park's load less renewables (it never causes export). A unit whose ramp cannot
  take it from 0 to its rating in one interval stays off (start costs are not weighed);
  a fuel cell or diesel set (no heat used) likewise, on the electricity price alone; then
  the units still off cover what the load less renewables and running units needs beyond
  the import limit, cheapest fuel first (backup), each within its minimum stable load,
  rating and its demand's need for its heat;
- then waste-heat and waste-pressure power: a must-run unit gives all that is available,
  a curtailable one as much as the park's load less renewables and CHP takes;
- flexible process loads: each batch runs at its full draw from the opening of its window
  until its energy is in, no load is curtailed, nothing is shifted but a backlog the
  horizon starts with, settled as soon as it can be
  (:func:`controller.fallback.flexible.fallback_flexible`);
- hydrogen: an electrolyser takes what the batteries leave of a renewable surplus (up to its
  rating, from its minimum load) where its hydrogen is worth more than the export price and
  its tank has room for it; fuel cells off, nothing taken from the tanks.

``flex`` (per interval, 0..1) scales what may be switched: heat-pump and battery power and
the renewable output used; the planner lowers it where the AC check of a fallback finds a
network limit broken. It is also the operating point the network rows are linearised around.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from controller.fallback.flexible import fallback_flexible, fallback_hydrogen
from controller.inputs.cop import cascade_electric_per_heat
from controller.inputs.dispatch_inputs import HOURS_PER_STEP, DispatchInputs, layout_for, per_site
from controller.inputs.flexible import flexible_frame, has_flexible
from controller.inputs.hydrogen import has_hydrogen
from controller.plans.dispatch import Dispatch
from sites import Site
from sites.schema import Fuel

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
    (see :func:`controller.inputs.dispatch_inputs.per_site`): the loop over intervals reads it for
    every interval, and the site's pydantic models and the layout are slow to read that often."""

    backup_kw_th: np.ndarray
    """(n_demands,) boiler and storage capacity serving each demand: the heat order."""
    keep: tuple[float, ...]
    """Per tank: share of the level kept over an interval (standing loss)."""
    direct: tuple[tuple[tuple[int, int], ...], ...]
    """Per demand: (pair, stream) of each direct waste-heat pair serving it."""
    heat_pumps: tuple[tuple[tuple[int, int], ...], ...]
    """Per demand: (heat-pump unit, source stream or -1) serving it; units as in
    ``Layout.heat_pump_units`` (a pump on its own, or a cascade by its top stage)."""
    units: tuple[tuple[int, ...], ...]
    """``Layout.heat_pump_units``: each unit's stages, top first."""
    ratings: tuple[float, ...]
    """Electric rating of each heat pump."""
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
        keep=tuple(s.kept_over(DT) for s in a.thermal_storage),
        direct=tuple(
            tuple((k, w) for k, (w, demand) in enumerate(layout.direct_pairs) if demand == d)
            for d in demands
        ),
        heat_pumps=tuple(
            tuple(
                (u, layout.heat_pump_source[unit[-1]])
                for u, unit in enumerate(layout.heat_pump_units)
                if layout.heat_pump_demand[unit[0]] == d
            )
            for d in demands
        ),
        units=layout.heat_pump_units,
        ratings=tuple(hp.electric_kw for hp in a.heat_pumps),
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


def _lesser(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """``min(a, b)`` elementwise, picked as Python's ``min`` picks (``b`` only where it is
    smaller), so that the rules give the same numbers as one interval at a time."""
    return np.where(b < a, b, a)


def _greater(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """``max(a, b)`` elementwise, picked as Python's ``max`` picks."""
    return np.where(b > a, b, a)


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
    """Heat, each demand in the order of how far its boilers and storage fall short of it,
    worst first. Waste heat (direct and as heat-pump source) is shared between demands, so
    it is served rank by rank, all intervals at once; only the tanks carry over from one
    interval to the next, so storage goes interval by interval; boilers then cover the rest."""
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
    waste_left = real(inputs.waste_heat_available_kw_th).astype(float)
    remaining = heat_demand.astype(float)
    units = _units(rules, cops, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        for rank in range(n_demands):
            for d in range(n_demands):
                here = order[rank] == d
                if here.any():
                    _serve_from_waste(rules, d, here, units, waste_left, remaining, out)
    for u, unit in enumerate(rules.units):  # each stage's share of its unit's input
        if len(unit) == 1:
            out.heat_pump_kw[unit[0]] = units.electric_kw[u]
            continue
        heat = units.cop[u] * units.electric_kw[u]
        for k, per_heat in zip(unit, units.per_heat[u], strict=True):
            out.heat_pump_kw[k] = heat * per_heat
    if n_tanks:
        _serve_from_storage(rules, inputs.storage_level0_kwh_th, remaining, out)
    for d in range(n_demands):
        left = remaining[d]
        for k, rating in rules.boilers[d]:
            serve = left > 0
            take = _lesser(left, rating)
            out.boiler_kw_th[k] = np.where(serve, take, out.boiler_kw_th[k])
            left = np.where(serve, left - take, left)
        out.unmet_kw_th[d] = _greater(left, 0.0)
    for k, capacity in enumerate(rules.storage_capacity_kwh_th):
        out.storage_over_kwh_th[k] = _greater(out.storage_level_kwh_th[k] - capacity, 0.0)
    return out


@dataclass
class _Units:
    """Heat-pump units (``Layout.heat_pump_units``: a pump, or a cascade run as one) over the
    real intervals."""

    cop: np.ndarray
    """(n_units, T) heat delivered per kW of the unit's input (a cascade's combined COP)."""
    rating_kw: np.ndarray
    """(n_units, T) most input the unit may take: every stage within its rating (x flex)."""
    per_heat: list[list[np.ndarray]]
    """Per cascade, per stage (top first): the stage's input per kW_th delivered (empty for
    a pump on its own)."""
    electric_kw: np.ndarray
    """(n_units, T) the unit's input the rules set (filled in by the rules)."""


def _units(rules: _Rules, cops: np.ndarray, scale: np.ndarray) -> _Units:
    n = cops.shape[1]
    cop = np.ones((len(rules.units), n))
    rating = np.zeros((len(rules.units), n))
    per_heat: list[list[np.ndarray]] = []
    for u, unit in enumerate(rules.units):
        if len(unit) == 1:  # a pump on its own: its own COP and rating, exactly
            cop[u], rating[u] = cops[unit[0]], rules.ratings[unit[0]] * scale
            per_heat.append([])
            continue
        shares = cascade_electric_per_heat([cops[k] for k in unit])
        cop[u] = 1.0 / np.sum(shares, axis=0)
        # a stage below one at COP 1 draws nothing and limits nothing
        limits = [
            np.where(x > 0.0, rules.ratings[k] / np.where(x > 0.0, x, 1.0), np.inf)
            for k, x in zip(unit, shares, strict=True)
        ]
        heat_kw_th = np.min(limits, axis=0)
        rating[u] = heat_kw_th / cop[u] * scale
        per_heat.append(shares)
    return _Units(cop, rating, per_heat, np.zeros_like(cop))


def _serve_from_waste(
    rules: _Rules,
    d: int,
    here: np.ndarray,
    units: _Units,
    waste_left: np.ndarray,
    remaining: np.ndarray,
    out: _Heat,
) -> None:
    """Demand ``d`` in the intervals ``here``: hot-enough waste heat directly, then heat-pump
    units within rating and their source's waste heat (``waste_left``, ``remaining`` and the
    units' input updated)."""
    left = remaining[d]
    for k, w in rules.direct[d]:
        serve = here & (left > 0)
        take = _lesser(left, waste_left[w])
        out.direct_kw_th[k] = np.where(serve, take, out.direct_kw_th[k])
        waste_left[w] = np.where(serve, waste_left[w] - take, waste_left[w])
        left = np.where(serve, left - take, left)
    for k, stream in rules.heat_pumps[d]:
        serve = here & ~(left <= 0)
        cop = units.cop[k]
        electric = _lesser(units.rating_kw[k], left / cop)
        if stream >= 0:
            sourced = serve & (cop > 1)
            electric = np.where(
                sourced, _lesser(electric, waste_left[stream] / (cop - 1)), electric
            )
            taken = (cop - 1) * electric
            waste_left[stream] = np.where(sourced, waste_left[stream] - taken, waste_left[stream])
            out.to_heat_pump_kw_th[stream] = np.where(
                sourced, out.to_heat_pump_kw_th[stream] + taken, out.to_heat_pump_kw_th[stream]
            )
        units.electric_kw[k] = np.where(serve, electric, units.electric_kw[k])
        left = np.where(serve, left - cop * electric, left)
    remaining[d] = left


def _serve_from_storage(
    rules: _Rules, level0_kwh_th: np.ndarray, remaining: np.ndarray, out: _Heat
) -> None:
    """Thermal storage, interval by interval (each tank serves one demand, so the demands'
    order does not matter here); ``remaining`` and the tanks' rows of ``out`` are updated."""
    n = remaining.shape[1]
    tank = level0_kwh_th.astype(float).tolist()
    left = remaining.tolist()
    served = [(d, tanks) for d, tanks in enumerate(rules.storage) if tanks]
    discharge = [[0.0] * n for _ in tank]
    level = [[0.0] * n for _ in tank]
    for t in range(n):
        tank = [x * keep for x, keep in zip(tank, rules.keep, strict=True)]
        for d, tanks in served:
            heat = left[d][t]
            for k, rating in tanks:
                if heat > 0:
                    take = min(heat, rating, tank[k] / DT)
                    discharge[k][t] = take
                    tank[k], heat = tank[k] - take * DT, heat - take
            left[d][t] = heat
        for k, x in enumerate(tank):
            level[k][t] = x
    remaining[:] = np.array(left, dtype=float).reshape(remaining.shape)
    out.storage_discharge_kw_th[:] = np.array(discharge, dtype=float).reshape(len(tank), n)
    out.storage_level_kwh_th[:] = np.array(level, dtype=float).reshape(len(tank), n)


def _batteries(
    rules: _Rules, surplus_kw: np.ndarray, soc0_kwh: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Interval by interval (the SoC carries over): a surplus charges the batteries, a
    deficit discharges them, in site order. Returns the surplus left and (charge,
    discharge, SoC), each (n_batteries, T)."""
    n = surplus_kw.shape[0]
    n_batteries = len(rules.batteries)
    if not n_batteries:
        empty = np.zeros((0, n))
        return surplus_kw, (empty, empty.copy(), empty.copy())
    ch = [[0.0] * n for _ in rules.batteries]
    dis = [[0.0] * n for _ in rules.batteries]
    soc = [[0.0] * n for _ in rules.batteries]
    battery_soc = soc0_kwh.astype(float).tolist()
    left = surplus_kw.tolist()
    for t, (surplus, share) in enumerate(zip(left, scale.tolist(), strict=True)):
        for k, b in enumerate(rules.batteries):
            if surplus > 0:
                room = max(b.soc_max_kwh - battery_soc[k], 0.0) / (b.charge_efficiency * DT)
                charge = min(b.charge_kw * share, surplus, room)
                ch[k][t] = charge
                surplus -= charge
                battery_soc[k] += charge * b.charge_efficiency * DT
            elif surplus < 0:
                energy = max(battery_soc[k] - b.soc_min_kwh, 0.0) * b.discharge_efficiency / DT
                discharge = min(b.discharge_kw * share, -surplus, energy)
                dis[k][t] = discharge
                surplus += discharge
                battery_soc[k] -= discharge / b.discharge_efficiency * DT
            soc[k][t] = battery_soc[k]
        left[t] = surplus
    return np.array(left, dtype=float), (
        np.array(ch, dtype=float),
        np.array(dis, dtype=float),
        np.array(soc, dtype=float),
    )


def _chp_rule(site: Site, inputs: DispatchInputs, renewable_kw: np.ndarray) -> np.ndarray:
    """(n_chp, T) each CHP unit's output by the rule in the module's docstring."""
    a = site.assets
    n = inputs.n_steps
    out = np.zeros((len(a.chp), n))
    if not a.chp:
        return out
    layout = layout_for(site)
    price = inputs.real(inputs.price_cny_per_kwh)
    heat_left = inputs.real(inputs.heat_demand_kw_th).astype(float).copy()
    room = _column_totals(inputs.real(inputs.load_kw)) - renewable_kw
    for k, unit in enumerate(a.chp):
        rating = unit.rated_electric_kw
        if unit.ramp_kw_per_h is not None and unit.ramp_kw_per_h * DT < rating:
            continue
        heat_value = min(
            (
                b.fuel_price_cny_per_kwh / b.efficiency
                for b in a.boilers
                if b.supplies == unit.supplies and b.fuel is not Fuel.ELECTRIC
            ),
            default=0.0,
        )
        fuel_cost = unit.fuel_price_cny_per_kwh / unit.electric_efficiency
        pays = price + unit.heat_per_electric * heat_value > fuel_cost
        d = layout.chp_demand[k]
        fits = room >= rating
        if d >= 0:
            fits = fits & (heat_left[d] >= rating * unit.heat_per_electric)
        out[k] = np.where(pays & fits, rating, 0.0)
        if d >= 0:
            heat_left[d] -= out[k] * unit.heat_per_electric
        room = room - out[k]
    _backup(site, inputs, out, room, heat_left)
    return out


def _backup(
    site: Site, inputs: DispatchInputs, out: np.ndarray, room: np.ndarray, heat_left: np.ndarray
) -> None:
    """Units off by the price rule cover, cheapest fuel per kWh first, what the park's load
    less renewables and running units needs beyond the import limit (a diesel set as
    backup): each at what is short, at least its minimum stable load, at most its rating,
    its heat within its demand's need; ``out`` is filled in place."""
    a = site.assets
    layout = layout_for(site)
    short = room - inputs.real(inputs.import_limit_kw)
    order = sorted(
        range(len(a.chp)),
        key=lambda k: a.chp[k].fuel_price_cny_per_kwh / a.chp[k].electric_efficiency,
    )
    for k in order:
        unit = a.chp[k]
        rating = unit.rated_electric_kw
        if unit.ramp_kw_per_h is not None and unit.ramp_kw_per_h * DT < rating:
            continue
        wanted = np.where(
            (out[k] == 0.0) & (short > 0.0),
            np.clip(short, rating * unit.min_stable_fraction, rating),
            0.0,
        )
        d = layout.chp_demand[k]
        if d >= 0:
            wanted = np.where(heat_left[d] >= wanted * unit.heat_per_electric, wanted, 0.0)
            heat_left[d] -= wanted * unit.heat_per_electric
        out[k] += wanted
        short = short - wanted


def _recovery_rule(site: Site, inputs: DispatchInputs, supplied_kw: np.ndarray) -> np.ndarray:
    """(n_recovery, T) each waste-heat or waste-pressure generator's output: all that is
    available for a must-run unit; for a curtailable one, as much as the park's load less
    what is already supplied (``supplied_kw``: renewables and CHP) takes."""
    units = site.assets.recovery_power
    loads = inputs.real(inputs.load_kw)
    available = layout_for(site).recovery_available_kw(loads)
    room = _column_totals(loads) - supplied_kw
    out = np.zeros_like(available)
    for k, unit in enumerate(units):
        if unit.must_run:
            out[k] = available[k]
            room = room - out[k]
    for k, unit in enumerate(units):
        if not unit.must_run:
            out[k] = np.clip(np.minimum(available[k], room), 0.0, None)
            room = room - out[k]
    return out


def _less_heat(site: Site, inputs: DispatchInputs, chp_kw: np.ndarray) -> DispatchInputs:
    """``inputs`` with each heat demand less the CHP heat it gets."""
    if not site.assets.chp:
        return inputs
    layout = layout_for(site)
    demand = np.array(inputs.heat_demand_kw_th, dtype=float)
    for k, unit in enumerate(site.assets.chp):
        if layout.chp_demand[k] >= 0:
            demand[layout.chp_demand[k], inputs.start :] -= chp_kw[k] * unit.heat_per_electric
    return dataclasses.replace(inputs, heat_demand_kw_th=np.clip(demand, 0.0, None))


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
    chp = _chp_rule(site, inputs, _column_totals(pv) + _column_totals(wind))
    flexible = fallback_flexible(site, inputs) if has_flexible(site) else None
    _, flexible_draw, _ = flexible_frame(site, flexible) if flexible is not None else (0, 0.0, 0)
    recovery = _recovery_rule(
        site, inputs, _column_totals(pv) + _column_totals(wind) + _column_totals(chp)
    )
    heat = _serve_heat(rules, _less_heat(site, inputs, chp), cops, scale)

    # electricity: the heat side fixed what heat pumps and electric boilers draw
    renewable = _column_totals(pv) + _column_totals(wind)
    electric_boiler: float | np.ndarray = 0
    for k, efficiency in rules.electric_boilers:
        electric_boiler = electric_boiler + heat.boiler_kw_th[k] / efficiency
    demand = (
        _column_totals(real(inputs.load_kw))
        - _column_totals(chp)
        - _column_totals(recovery)
        + _column_totals(heat.heat_pump_kw)
        + electric_boiler
        + losses
        + flexible_draw
    )
    surplus, battery = _batteries(rules, renewable - demand, inputs.battery_soc0_kwh, scale)
    ch, dis, soc = battery
    hydrogen = None
    if has_hydrogen(site):
        hydrogen = fallback_hydrogen(site, inputs, np.clip(surplus, 0.0, None))
        surplus = surplus - _column_totals(hydrogen.electrolyser_kw)
    soc_low = np.zeros_like(soc)
    soc_high = np.zeros_like(soc)
    for k, b in enumerate(rules.batteries):
        soc_low[k] = _greater(b.soc_min_kwh - soc[k], 0.0)
        soc_high[k] = _greater(soc[k] - b.soc_max_kwh, 0.0)
    exporting = surplus > 0
    exported = _lesser(surplus, export_limit)
    grid_export = np.where(exporting, exported, 0.0)
    spill = surplus - exported
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(exporting & (spill > 0) & (renewable > 0), 1.0 - spill / renewable, 1.0)
    share = np.clip(share, 0.0, 1.0)  # must-run recovery beyond load and export: reported
    grid_import = np.where(exporting, 0.0, -surplus)
    import_over = np.where(exporting, 0.0, _greater(grid_import - import_limit, 0.0))
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
        heat_pump_heat_kw_th=layout_for(site).heat_to_demand(cops, heat.heat_pump_kw),
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
        chp_electric_kw=chp,
        chp_on=(chp > 0.0).astype(float),
        flexible=flexible,
        hydrogen=hydrogen,
        recovery_kw=recovery,
    )
