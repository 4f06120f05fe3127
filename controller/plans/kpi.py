"""Key figures of a dispatch over a horizon, from a plan frame (or replayed actuals).

One definition for the planner, the simulator and the service. Energies are sums of
kW x 0.25 h over the frame's intervals. Definitions:

- renewable available = PV + wind available; used on site = available - curtailed -
  renewable export, where renewable export is the export beyond what the park's own
  non-renewable generation (CHP, fuel cells, diesel, waste-heat and waste-pressure power)
  gives in the interval (that generation is counted as exported first; without it, all
  export is renewable);
- self-consumption ratio = used on site / available; export ratio = renewable export /
  available
  (both 1.0 / 0.0 by convention when nothing is available);
- renewable share of consumption = used on site / (used on site + grid import);
- demand charge: billed per calendar month (the site's clock) on the month's highest
  15-minute import, network losses included where the frame's import holds them (a replay's
  actuals, from the AC power flow; a plan's expected losses): rate x that peak, less the
  peak already billed in the first month (``month_peak_import_kw``, the month's peak before
  the frame);
- deviation cost = energy beyond the committed schedule's tolerance band (a replay's
  ``deviation_outside_band_kw``) x the tariff's deviation price;
- lost production = heat demand not served x the tariff's value of lost production;
- cost = energy (import x price) + demand charge + battery degradation (rate x (charge +
  discharge) / 2) + boiler fuel - export revenue + deviation cost + lost production;
- battery equivalent full cycles = (charge + discharge) / 2 / capacity, all batteries together
  (0 without batteries);
- fuel cost = boiler and CHP fuel x its price + CHP start costs;
- flexible loads: batch energy and hours run; load curtailed and shifted (the energy taken
  off the forecast); curtailment cost = curtailed x its cost + shifted x its cost (in the
  total cost);
- hydrogen: made, vented and taken off (sold or used by the process) in kg, the offtake's
  value (it lowers the total cost), electrolyser input and fuel-cell output in kWh;
- fuel cost = boiler and CHP fuel x its price + CHP start costs (CHP here and below: every
  unit of ``assets.chp``, fuel cells and diesel sets included); waste-heat and waste-pressure
  power burns none;
- CO2 = grid import x the grid factor + boiler and CHP fuel x its factor; CO2 avoided = renewable
  used on site x the grid factor (what the same energy from the grid would have emitted).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from controller import columns as pc
from controller.inputs import flexible as fx
from sites import Site, columns
from sites.schema import Fuel
from sites.tariff import site_tariff
from sites.time_step import HOURS_PER_STEP


@dataclass(frozen=True)
class Kpis:
    renewable_available_kwh: float
    renewable_used_on_site_kwh: float
    curtailed_kwh: float
    export_kwh: float
    import_kwh: float
    peak_import_kw: float
    self_consumption_ratio: float
    export_ratio: float
    renewable_share_of_consumption: float
    energy_cost_cny: float
    demand_charge_cny: float
    degradation_cost_cny: float
    fuel_cost_cny: float
    export_revenue_cny: float
    total_cost_cny: float
    co2_kg: float
    co2_avoided_kg: float
    heat_demand_kwh_th: float
    heat_unmet_kwh_th: float
    min_self_consumption_ratio: float
    max_export_ratio: float
    battery_equivalent_full_cycles: float = float("nan")
    """NaN in plans stored before it was computed."""
    deviation_outside_band_kwh: float = float("nan")
    deviation_cost_cny: float = float("nan")
    lost_production_cny: float = float("nan")
    """NaN (these three) in plans stored before they were computed."""
    chp_electric_kwh: float = float("nan")
    chp_heat_kwh_th: float = float("nan")
    chp_fuel_kwh: float = float("nan")
    chp_run_hours: float = float("nan")
    """Hours each CHP unit runs, summed over the units."""
    chp_starts: float = float("nan")
    """NaN (these five) in plans stored before they were computed."""
    batch_energy_kwh: float = float("nan")
    batch_run_hours: float = float("nan")
    """Hours each batch load draws, summed over the batches."""
    load_curtailed_kwh: float = float("nan")
    curtailment_cost_cny: float = float("nan")
    """Curtailed load x its cost, plus shifted load x its cost (flexibility's price)."""
    hydrogen_made_kg: float = float("nan")
    hydrogen_vented_kg: float = float("nan")
    hydrogen_offtake_kg: float = float("nan")
    hydrogen_value_cny: float = float("nan")
    """The offtake's value (sold or used by the process): it lowers the total cost."""
    electrolyser_kwh: float = float("nan")
    hydrogen_fuel_cell_kwh: float = float("nan")
    """NaN (these six) in plans stored before they were computed."""
    load_shifted_kwh: float = float("nan")
    """Energy taken off a shiftable load's forecast to be drawn at another time. NaN (these
    five) in plans stored before they were computed."""
    recovery_power_kwh: float = float("nan")
    """Electricity from waste heat and waste pressure (no fuel, no CO2); NaN in plans stored
    before it was computed."""

    @property
    def meets_self_consumption_target(self) -> bool:
        return self.self_consumption_ratio >= self.min_self_consumption_ratio - RATIO_TOL

    @property
    def meets_export_target(self) -> bool:
        return self.export_ratio <= self.max_export_ratio + RATIO_TOL

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


RATIO_TOL = 1e-6  # ratios of solver output: a target met to solver precision is met


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.zeros(len(frame))
    return frame[name].to_numpy(dtype=float)


def _energy(frame: pd.DataFrame, names: list[str]) -> float:
    return float(sum(_col(frame, n).sum() for n in names) * HOURS_PER_STEP)


def billing_months(index: pd.DatetimeIndex) -> pd.PeriodIndex:
    """The calendar month of each interval of ``index``, on its own (the site's) clock."""
    local = index.tz_localize(None) if index.tz is not None else index
    return local.to_period("M")


def monthly_peaks_kw(index: pd.DatetimeIndex, grid_import_kw: np.ndarray) -> pd.Series:
    """The highest 15-minute import of each calendar month of ``index``."""
    imports = pd.Series(np.asarray(grid_import_kw, dtype=float), index=index)
    return imports.groupby(billing_months(index)).max()


def demand_charge_cny(
    index: pd.DatetimeIndex,
    grid_import_kw: np.ndarray,
    rate_cny_per_kw_month: float,
    month_peak_import_kw: float = 0.0,
) -> float:
    """The demand charge billed per calendar month: rate x each month's peak import, the
    first month's less the peak already billed before ``index`` starts."""
    if not len(index):
        return 0.0
    peaks = monthly_peaks_kw(index, grid_import_kw).to_numpy()
    peaks[0] = max(peaks[0] - month_peak_import_kw, 0.0)
    return float(rate_cny_per_kw_month * np.clip(peaks, 0.0, None).sum())


def compute_kpis(site: Site, frame: pd.DataFrame, month_peak_import_kw: float = 0.0) -> Kpis:
    """KPIs of a plan frame (columns of :mod:`controller.columns` and :mod:`sites.columns`)."""
    a = site.assets
    tariff = site_tariff(site)
    available = _energy(frame, [pc.pv_available_kw(x.name) for x in a.pv]) + _energy(
        frame, [pc.wind_available_kw(x.name) for x in a.wind]
    )
    curtailed = _energy(frame, [pc.pv_curtailed_kw(x.name) for x in a.pv]) + _energy(
        frame, [pc.wind_curtailed_kw(x.name) for x in a.wind]
    )
    grid_import = _col(frame, pc.GRID_IMPORT_KW)
    grid_export = _col(frame, pc.GRID_EXPORT_KW)
    import_kwh = float(grid_import.sum() * HOURS_PER_STEP)
    export_kwh = float(grid_export.sum() * HOURS_PER_STEP)
    generated = np.zeros(len(frame))
    for name in [columns.chp_kw(c.name) for c in a.chp] + [
        columns.recovery_kw(r.name) for r in a.recovery_power
    ]:
        generated = generated + _col(frame, name)
    renewable_export_kwh = float(np.clip(grid_export - generated, 0.0, None).sum() * HOURS_PER_STEP)
    used = max(available - curtailed - renewable_export_kwh, 0.0)
    if pc.PRICE_CNY_PER_KWH in frame.columns:
        prices = _col(frame, pc.PRICE_CNY_PER_KWH)
    else:
        prices = tariff.prices(pd.DatetimeIndex(frame.index)).to_numpy(dtype=float)
    if pc.EXPORT_PRICE_CNY_PER_KWH in frame.columns:
        export_prices = _col(frame, pc.EXPORT_PRICE_CNY_PER_KWH)
    else:
        export_prices = tariff.export_prices(pd.DatetimeIndex(frame.index))
    energy_cost = float((grid_import * prices).sum() * HOURS_PER_STEP)
    export_revenue = float((grid_export * export_prices).sum() * HOURS_PER_STEP)
    peak = float(grid_import.max()) if len(grid_import) else 0.0
    demand_charge = demand_charge_cny(
        pd.DatetimeIndex(frame.index),
        grid_import,
        tariff.demand_charge_cny_per_kw_month,
        month_peak_import_kw,
    )
    outside = np.nan_to_num(_col(frame, pc.DEVIATION_OUTSIDE_BAND_KW))
    deviation_kwh = float(outside.sum() * HOURS_PER_STEP)
    deviation_cost = deviation_kwh * tariff.deviation_price_cny_per_kwh
    throughput = {
        b.name: _energy(
            frame, [columns.battery_charge_kw(b.name), columns.battery_discharge_kw(b.name)]
        )
        for b in a.batteries
    }
    degradation = sum(
        b.degradation_cost_cny_per_kwh * 0.5 * throughput[b.name] for b in a.batteries
    )
    capacity = sum(b.capacity_kwh for b in a.batteries)
    cycles = 0.5 * sum(throughput.values()) / capacity if capacity > 0 else 0.0
    gas = [b for b in a.boilers if b.fuel is not Fuel.ELECTRIC]
    fuel_cost = sum(
        b.fuel_price_cny_per_kwh * _energy(frame, [pc.boiler_fuel_kw(b.name)]) for b in gas
    )
    fuel_co2 = sum(
        b.emission_factor_kg_per_kwh_fuel * _energy(frame, [pc.boiler_fuel_kw(b.name)]) for b in gas
    )
    chp_fuel = {c.name: _energy(frame, [pc.chp_fuel_kw(c.name)]) for c in a.chp}
    chp_starts = {
        c.name: _starts(
            _col(frame, pc.chp_on(c.name)),
            _col(frame, pc.chp_start_cny(c.name)),
            c.start_cost_cny > 0,
            c.initially_on,
        )
        for c in a.chp
    }
    fuel_cost += sum(
        c.fuel_price_cny_per_kwh * chp_fuel[c.name]
        + float(_col(frame, pc.chp_start_cny(c.name)).sum())
        for c in a.chp
    )
    fuel_co2 += sum(c.emission_factor_kg_per_kwh_fuel * chp_fuel[c.name] for c in a.chp)
    factor = site.grid_emission_factor.kg_co2_per_kwh
    heat_demand = _energy(frame, [columns.heat_demand_kw_th(d.name) for d in a.heat_demands])
    unmet = _energy(frame, [pc.heat_unmet_kw_th(d.name) for d in a.heat_demands])
    lost_production = unmet * tariff.lost_production_cny_per_kwh
    flexible = flexible_kpis(site, frame)
    hydrogen = hydrogen_kpis(site, frame)
    return Kpis(
        renewable_available_kwh=available,
        renewable_used_on_site_kwh=used,
        curtailed_kwh=curtailed,
        export_kwh=export_kwh,
        import_kwh=import_kwh,
        peak_import_kw=peak,
        self_consumption_ratio=used / available if available > 0 else 1.0,
        export_ratio=renewable_export_kwh / available if available > 0 else 0.0,
        renewable_share_of_consumption=used / (used + import_kwh) if used + import_kwh > 0 else 0.0,
        energy_cost_cny=energy_cost,
        demand_charge_cny=demand_charge,
        degradation_cost_cny=float(degradation),
        fuel_cost_cny=float(fuel_cost),
        export_revenue_cny=export_revenue,
        total_cost_cny=energy_cost
        + demand_charge
        + float(degradation)
        + float(fuel_cost)
        - export_revenue
        + deviation_cost
        + lost_production
        + flexible["curtailment_cost_cny"]
        - hydrogen["hydrogen_value_cny"],
        co2_kg=import_kwh * factor + float(fuel_co2),
        co2_avoided_kg=used * factor,
        heat_demand_kwh_th=heat_demand,
        heat_unmet_kwh_th=unmet,
        min_self_consumption_ratio=site.policy.min_self_consumption_ratio,
        max_export_ratio=site.policy.max_export_ratio,
        battery_equivalent_full_cycles=float(cycles),
        deviation_outside_band_kwh=deviation_kwh,
        deviation_cost_cny=deviation_cost,
        lost_production_cny=lost_production,
        chp_electric_kwh=_energy(frame, [columns.chp_kw(c.name) for c in a.chp]),
        chp_heat_kwh_th=_energy(frame, [pc.chp_heat_kw_th(c.name) for c in a.chp]),
        chp_fuel_kwh=float(sum(chp_fuel.values())),
        chp_run_hours=_energy(frame, [pc.chp_on(c.name) for c in a.chp]),
        chp_starts=float(sum(chp_starts.values())),
        **flexible,
        **hydrogen,
        recovery_power_kwh=_energy(frame, [columns.recovery_kw(r.name) for r in a.recovery_power]),
    )


def flexible_kpis(site: Site, frame: pd.DataFrame) -> dict[str, float]:
    """The flexible loads' KPIs (zeros for a site without them)."""
    a = site.assets
    curtailed = {x.name: _energy(frame, [fx.curtailed_kw(x.name)]) for x in a.curtailable_loads}
    shifted = {x.name: _energy(frame, [fx.shift_down_kw(x.name)]) for x in a.shiftable_loads}
    cost = sum(x.cost_cny_per_kwh * curtailed[x.name] for x in a.curtailable_loads)
    cost += sum(x.cost_cny_per_kwh * shifted[x.name] for x in a.shiftable_loads)
    return {
        "batch_energy_kwh": _energy(frame, [fx.batch_kw(b.name) for b in a.batch_loads]),
        "batch_run_hours": _energy(frame, [pc.batch_on(b.name) for b in a.batch_loads]),
        "load_curtailed_kwh": float(sum(curtailed.values())),
        "curtailment_cost_cny": float(cost),
        "load_shifted_kwh": float(sum(shifted.values())),
    }


def hydrogen_kpis(site: Site, frame: pd.DataFrame) -> dict[str, float]:
    """Hydrogen made, vented and taken off in kg; its value; electricity in and out."""
    a = site.assets
    offtake = {t.name: _energy(frame, [pc.tank_offtake_kg_per_h(t.name)]) for t in a.hydrogen_tanks}
    return {
        "hydrogen_made_kg": _energy(
            frame, [pc.electrolyser_hydrogen_kg_per_h(e.name) for e in a.electrolysers]
        ),
        "hydrogen_vented_kg": _energy(
            frame, [pc.electrolyser_vented_kg_per_h(e.name) for e in a.electrolysers]
        ),
        "hydrogen_offtake_kg": float(sum(offtake.values())),
        "hydrogen_value_cny": float(
            sum(t.value_cny_per_kg * offtake[t.name] for t in a.hydrogen_tanks)
        ),
        "electrolyser_kwh": _energy(
            frame, [columns.electrolyser_kw(e.name) for e in a.electrolysers]
        ),
        "hydrogen_fuel_cell_kwh": _energy(
            frame, [columns.hydrogen_fuel_cell_kw(c.name) for c in a.hydrogen_fuel_cells]
        ),
    }


def _starts(on: np.ndarray, paid: np.ndarray, priced: bool, initially_on: bool) -> float:
    """Off-to-on changes of a CHP unit; in the first interval, a start where one was paid
    (a unit with a start cost: the frame knows its state before), else where it runs and
    its site file has it off initially."""
    if not len(on):
        return 0.0
    within = float(np.clip(np.diff(on), 0.0, None).sum())
    first = paid[0] > 0.0 if priced else on[0] > 0.0 and not initially_on
    return within + float(first)
