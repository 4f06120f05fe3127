"""An independent perfect-information LP of one day, written with scipy's linprog.

It shares nothing with the production model but the site file and the documented rules:
renewables first (curtailment + export, with battery throughput weighted by the same
documented 0.1 per kWh so that burning surplus in battery losses does not count as use),
then cost (energy, demand charge, degradation, fuel, minus export revenue). Network
losses are taken as given load (the plan's own estimate); line and voltage limits are left
out, so where they bind the plan can only cost more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from sites import Site, columns
from sites.schema import AMBIENT, Fuel
from sites.tariff import site_tariff

DT = 0.25
CYCLE_WEIGHT = 0.1  # the documented battery-throughput weight of the renewables tier
SPILL_HOLD_KWH = 1.0  # the documented tolerance the cost stage may move the spill by


class _Vars:
    def __init__(self) -> None:
        self.n = 0
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []

    def add(
        self, size: int, lower: float | np.ndarray = 0.0, upper: float | np.ndarray = np.inf
    ) -> np.ndarray:
        idx = np.arange(self.n, self.n + size)
        self.n += size
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (size,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (size,)).copy())
        return idx


class _Rows:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []

    def add(self, terms: list[tuple[int, float]], rhs: float) -> None:
        r = len(self.rhs)
        for c, v in terms:
            self.rows.append(r)
            self.cols.append(int(c))
            self.vals.append(float(v))
        self.rhs.append(float(rhs))

    def matrix(self, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
        m = sp.csr_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.rhs), n))
        return m, np.asarray(self.rhs)


def carnot_cop(quality: float, sink_degc: float, source_degc: np.ndarray) -> np.ndarray:
    sink = sink_degc + 273.15
    lift = np.maximum(sink - (np.asarray(source_degc) + 273.15), 5.0)
    return np.clip(quality * sink / lift, 1.0, 10.0)


@dataclass(frozen=True)
class Reference:
    spill_kwh: float
    cost_cny: float


def reference_day(
    site: Site,
    forecast: pd.DataFrame,
    losses_kw: np.ndarray,
    start_soc: dict[str, float],
    start_level: dict[str, float],
    month_peak_kw: float = 0.0,
) -> Reference:
    a = site.assets
    n = len(forecast)
    p50 = {c: forecast[columns.quantile(c, 50)].to_numpy(float) for c in _columns(site)}
    tariff = site_tariff(site)
    price = tariff.prices(pd.DatetimeIndex(forecast.index)).to_numpy(float)
    v = _Vars()
    eq, ub = _Rows(), _Rows()
    costs: dict[int, float] = {}

    def cost(idx: np.ndarray, value: float | np.ndarray) -> None:
        for i, c in zip(idx, np.broadcast_to(value, idx.shape), strict=True):
            costs[int(i)] = costs.get(int(i), 0.0) + float(c)

    spill_terms: dict[int, float] = {}
    supply: list[tuple[np.ndarray, float]] = []  # (indices per t, coefficient) into the balance
    available = 0.0
    for x in a.pv:
        avail = p50[columns.pv_kw(x.name)]
        used = v.add(n, 0.0, avail)
        supply.append((used, 1.0))
        available += avail.sum() * DT
        for i in used:
            spill_terms[int(i)] = spill_terms.get(int(i), 0.0) - DT
    for x in a.wind:
        avail = p50[columns.wind_kw(x.name)]
        used = v.add(n, 0.0, avail)
        supply.append((used, 1.0))
        available += avail.sum() * DT
        for i in used:
            spill_terms[int(i)] = spill_terms.get(int(i), 0.0) - DT
    grid = site.grid_connection
    imp = v.add(n, 0.0, grid.import_limit_kw)
    exp = v.add(n, 0.0, grid.export_limit_kw)
    supply += [(imp, 1.0), (exp, -1.0)]
    cost(imp, price * DT)
    cost(exp, -tariff.export_price_cny_per_kwh * DT)
    for i in exp:
        spill_terms[int(i)] = spill_terms.get(int(i), 0.0) + DT
    peak = v.add(1)
    cost(peak, tariff.demand_charge_cny_per_kw_month)
    for t in range(n):
        ub.add([(imp[t], 1.0), (peak[0], -1.0)], month_peak_kw)

    throughput: list[int] = []
    for b in a.batteries:
        ch = v.add(n, 0.0, b.charge_kw)
        dis = v.add(n, 0.0, b.discharge_kw)
        soc = v.add(n, b.soc_min_kwh, b.soc_max_kwh)
        supply += [(dis, 1.0), (ch, -1.0)]
        cost(ch, 0.5 * b.degradation_cost_cny_per_kwh * DT)
        cost(dis, 0.5 * b.degradation_cost_cny_per_kwh * DT)
        throughput += list(ch) + list(dis)
        s0 = start_soc[b.name]
        for t in range(n):
            ub.add([(ch[t], 1 / b.charge_kw), (dis[t], 1 / b.discharge_kw)], 1.0)
            terms = [
                (soc[t], 1.0),
                (ch[t], -b.charge_efficiency * DT),
                (dis[t], DT / b.discharge_efficiency),
            ]
            if t:
                terms.append((soc[t - 1], -1.0))
            eq.add(terms, s0 if t == 0 else 0.0)
        ub.add([(soc[n - 1], -1.0)], -min(max(s0, b.soc_min_kwh), b.soc_max_kwh))

    heat_in: dict[str, list[tuple[int, float, int]]] = {d.name: [] for d in a.heat_demands}
    source_use: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {w.name: [] for w in a.waste_heat}
    ambient = p50[columns.AMBIENT_TEMPERATURE_DEGC]
    streams = {w.name: w for w in a.waste_heat}
    for hp in a.heat_pumps:
        assert hp.carnot_quality is not None
        source_t = (
            ambient
            if hp.source == AMBIENT
            else np.full(n, streams[hp.source].supply_temperature_degc)
        )
        cop = carnot_cop(hp.carnot_quality, hp.sink_temperature_degc, source_t)
        el = v.add(n, 0.0, hp.electric_kw)
        supply.append((el, -1.0))
        heat_in[hp.supplies] += [(int(el[t]), float(cop[t]), t) for t in range(n)]
        if hp.source != AMBIENT:
            source_use[hp.source].append((el, cop - 1.0))
    for w in a.waste_heat:
        avail = p50[columns.waste_heat_kw_th(w.name)]
        direct = {
            d.name: v.add(n)
            for d in a.heat_demands
            if w.supply_temperature_degc >= d.temperature_degc
        }
        for name, idx in direct.items():
            heat_in[name] += [(int(idx[t]), 1.0, t) for t in range(n)]
        for t in range(n):
            terms = [(idx[t], 1.0) for idx in direct.values()]
            terms += [(el[t], coef[t]) for el, coef in source_use[w.name]]
            if terms:
                ub.add(terms, avail[t])
    for s in a.thermal_storage:
        ch = v.add(n, 0.0, s.charge_kw_th)
        dis = v.add(n, 0.0, s.discharge_kw_th)
        level = v.add(n, 0.0, s.capacity_kwh_th)
        keep = 1.0 - s.standing_loss_fraction_per_hour * DT
        l0 = start_level[s.name]
        for t in range(n):
            terms = [(level[t], 1.0), (ch[t], -DT), (dis[t], DT)]
            if t:
                terms.append((level[t - 1], -keep))
            eq.add(terms, keep * l0 if t == 0 else 0.0)
            heat_in[s.supplies] += [(int(dis[t]), 1.0, t), (int(ch[t]), -1.0, t)]
        ub.add([(level[n - 1], -1.0)], -min(l0, s.capacity_kwh_th))
    for boiler in a.boilers:
        heat = v.add(n, 0.0, boiler.capacity_kw_th)
        heat_in[boiler.supplies] += [(int(heat[t]), 1.0, t) for t in range(n)]
        if boiler.fuel is Fuel.ELECTRIC:
            supply.append((heat, -1.0 / boiler.efficiency))
        else:
            cost(heat, boiler.fuel_price_cny_per_kwh / boiler.efficiency * DT)
    for d in a.heat_demands:
        demand = p50[columns.heat_demand_kw_th(d.name)]
        for t in range(n):
            eq.add([(c, k) for c, k, tt in heat_in[d.name] if tt == t], demand[t])
    load = sum(p50[columns.load_kw(x.name)] for x in a.electric_loads)
    for t in range(n):
        eq.add([(idx[t], k) for idx, k in supply], load[t] + losses_kw[t])

    lower = np.concatenate(v.lower)
    upper = np.concatenate(v.upper)
    a_eq, b_eq = eq.matrix(v.n)
    a_ub, b_ub = ub.matrix(v.n)
    bounds = np.column_stack([lower, upper])
    spill = np.zeros(v.n)
    for i, c in spill_terms.items():
        spill[i] += c
    stage1 = spill.copy()
    stage1[throughput] += CYCLE_WEIGHT * DT
    first = linprog(stage1, a_ub, b_ub, a_eq, b_eq, bounds=bounds, method="highs")
    assert first.status == 0, first.message
    spill_kwh = float(spill @ first.x) + available
    c = np.zeros(v.n)
    for i, value in costs.items():
        c[i] += value
    a_ub2 = sp.vstack([a_ub, sp.csr_matrix(spill)])
    b_ub2 = np.concatenate([b_ub, [float(spill @ first.x) + SPILL_HOLD_KWH]])
    second = linprog(c, a_ub2, b_ub2, a_eq, b_eq, bounds=bounds, method="highs")
    assert second.status == 0, second.message
    return Reference(spill_kwh, float(c @ second.x))


def _columns(site: Site) -> list[str]:
    a = site.assets
    names = [columns.pv_kw(x.name) for x in a.pv] + [columns.wind_kw(x.name) for x in a.wind]
    names += [columns.load_kw(x.name) for x in a.electric_loads]
    names += [columns.heat_demand_kw_th(x.name) for x in a.heat_demands]
    names += [columns.waste_heat_kw_th(x.name) for x in a.waste_heat]
    return names + [columns.AMBIENT_TEMPERATURE_DEGC]
