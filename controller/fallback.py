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

import numpy as np

from controller.dispatch import Dispatch
from controller.inputs import HOURS_PER_STEP, DispatchInputs
from controller.layout import Layout
from sites import Site

DT = HOURS_PER_STEP


def _demand_order(site: Site, layout: Layout, heat_demand: np.ndarray, t: int) -> list[int]:
    """Demands by how far their boilers and storage fall short of them, worst first."""
    a = site.assets
    backup = np.zeros(len(a.heat_demands))
    for k, boiler in enumerate(a.boilers):
        backup[layout.boiler_demand[k]] += boiler.capacity_kw_th
    for k, store in enumerate(a.thermal_storage):
        backup[layout.storage_demand[k]] += store.discharge_kw_th
    return [int(d) for d in np.argsort(backup - heat_demand[:, t], kind="stable")]


def fallback_dispatch(
    site: Site, inputs: DispatchInputs, flex: np.ndarray | None = None
) -> Dispatch:
    a = site.assets
    layout = Layout(site)
    n = inputs.n_steps
    real = inputs.real
    scale = np.ones(n) if flex is None else np.clip(np.asarray(flex, dtype=float), 0.0, 1.0)
    pv = real(inputs.pv_available_kw) * scale
    wind = real(inputs.wind_available_kw) * scale
    load = real(inputs.load_kw)
    heat_demand = real(inputs.heat_demand_kw_th)
    waste = real(inputs.waste_heat_available_kw_th)
    cops = real(inputs.cop)
    import_limit = real(inputs.import_limit_kw)
    export_limit = real(inputs.export_limit_kw)
    hp_el = np.zeros((len(a.heat_pumps), n))
    direct = np.zeros((len(layout.direct_pairs), n))
    to_pump = np.zeros((len(a.waste_heat), n))
    st_ch = np.zeros((len(a.thermal_storage), n))
    st_dis = np.zeros((len(a.thermal_storage), n))
    level = np.zeros((len(a.thermal_storage), n))
    boiler = np.zeros((len(a.boilers), n))
    unmet = np.zeros((len(a.heat_demands), n))
    ch = np.zeros((len(a.batteries), n))
    dis = np.zeros((len(a.batteries), n))
    soc = np.zeros((len(a.batteries), n))
    grid_import = np.zeros(n)
    grid_export = np.zeros(n)
    import_over = np.zeros(n)
    soc_low = np.zeros((len(a.batteries), n))
    soc_high = np.zeros((len(a.batteries), n))
    capacity_over = np.zeros((len(a.thermal_storage), n))
    losses = real(inputs.network.losses_kw) if inputs.network is not None else np.zeros(n)

    battery_soc = inputs.battery_soc0_kwh.astype(float).copy()
    tank = inputs.storage_level0_kwh_th.astype(float).copy()
    for t in range(n):
        waste_left = waste[:, t].copy()
        tank = tank * np.array(
            [1 - s.standing_loss_fraction_per_hour * DT for s in a.thermal_storage]
        )
        for d in _demand_order(site, layout, heat_demand, t):
            remaining = float(heat_demand[d, t])
            for k, (w, demand) in enumerate(layout.direct_pairs):
                if demand == d and remaining > 0:
                    take = min(remaining, waste_left[w])
                    direct[k, t], waste_left[w], remaining = (
                        take,
                        waste_left[w] - take,
                        remaining - take,
                    )
            for k, hp in enumerate(a.heat_pumps):
                if layout.heat_pump_demand[k] != d or remaining <= 0:
                    continue
                cop = float(cops[k, t])
                electric = min(hp.electric_kw * scale[t], remaining / cop)
                stream = layout.heat_pump_source[k]
                if stream >= 0 and cop > 1:
                    electric = min(electric, waste_left[stream] / (cop - 1))
                    waste_left[stream] -= (cop - 1) * electric
                    to_pump[stream, t] += (cop - 1) * electric
                hp_el[k, t] = electric
                remaining -= cop * electric
            for k, store in enumerate(a.thermal_storage):
                if layout.storage_demand[k] == d and remaining > 0:
                    take = min(remaining, store.discharge_kw_th, tank[k] / DT)
                    st_dis[k, t], tank[k], remaining = take, tank[k] - take * DT, remaining - take
            for k in layout.fuel_boilers + layout.electric_boilers:
                if layout.boiler_demand[k] == d and remaining > 0:
                    take = min(remaining, a.boilers[k].capacity_kw_th)
                    boiler[k, t], remaining = take, remaining - take
            unmet[d, t] = max(remaining, 0.0)
        for k, store in enumerate(a.thermal_storage):
            level[k, t] = tank[k]
            capacity_over[k, t] = max(tank[k] - store.capacity_kwh_th, 0.0)

        renewable = pv[:, t].sum() + wind[:, t].sum()
        electric_boiler = sum(
            boiler[k, t] / a.boilers[k].efficiency for k in layout.electric_boilers
        )
        demand = load[:, t].sum() + hp_el[:, t].sum() + electric_boiler + losses[t]
        surplus = renewable - demand
        for k, b in enumerate(a.batteries):
            if surplus > 0:
                room = max(b.soc_max_kwh - battery_soc[k], 0.0) / (b.charge_efficiency * DT)
                ch[k, t] = min(b.charge_kw * scale[t], surplus, room)
                surplus -= ch[k, t]
                battery_soc[k] += ch[k, t] * b.charge_efficiency * DT
            elif surplus < 0:
                energy = max(battery_soc[k] - b.soc_min_kwh, 0.0) * b.discharge_efficiency / DT
                dis[k, t] = min(b.discharge_kw * scale[t], -surplus, energy)
                surplus += dis[k, t]
                battery_soc[k] -= dis[k, t] / b.discharge_efficiency * DT
            soc[k, t] = battery_soc[k]
            soc_low[k, t] = max(b.soc_min_kwh - battery_soc[k], 0.0)
            soc_high[k, t] = max(battery_soc[k] - b.soc_max_kwh, 0.0)
        if surplus > 0:
            grid_export[t] = min(surplus, export_limit[t])
            spill = surplus - grid_export[t]
            if spill > 0 and renewable > 0:
                share = 1.0 - spill / renewable
                pv[:, t] *= share
                wind[:, t] *= share
        else:
            grid_import[t] = -surplus
            import_over[t] = max(grid_import[t] - import_limit[t], 0.0)

    slacks = {
        "grid_import_limit": import_over,
        "heat_unmet": unmet,
        "battery_soc_min": soc_low,
        "battery_soc_max": soc_high,
        "storage_capacity": capacity_over,
    }
    heat_pump_heat = cops * hp_el
    return Dispatch(
        pv_kw=pv,
        wind_kw=wind,
        battery_charge_kw=ch,
        battery_discharge_kw=dis,
        battery_soc_kwh=soc,
        heat_pump_kw=hp_el,
        heat_pump_heat_kw_th=heat_pump_heat,
        waste_heat_direct_kw_th=direct,
        waste_heat_to_heat_pump_kw_th=to_pump,
        storage_charge_kw_th=st_ch,
        storage_discharge_kw_th=st_dis,
        storage_level_kwh_th=level,
        boiler_heat_kw_th=boiler,
        heat_unmet_kw_th=unmet,
        grid_import_kw=grid_import,
        grid_export_kw=grid_export,
        losses_kw=np.asarray(losses, dtype=float),
        slacks=slacks,
    )
