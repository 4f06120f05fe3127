"""``microgrid sites``: list, show and validate park descriptions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from controller.cli.common import SiteId, console, park_of, run_guarded
from sites import Site, bundled_sites, load_site

app = typer.Typer(help="Park descriptions: list, show, validate.", no_args_is_help=True)


def _mw(kw: float) -> str:
    return f"{kw / 1000:,.1f}"


def summary_table(sites: list[Site]) -> Table:
    table = Table(title="Bundled parks")
    for col in (
        "id",
        "name",
        "grid",
        "load peak MW",
        "PV MWp",
        "wind MW",
        "battery MWh",
        "heat peak MW_th",
    ):
        table.add_column(col)
    for s in sites:
        a = s.assets
        table.add_row(
            s.id,
            s.name,
            f"{s.grid_connection.voltage_kv:g} kV",
            _mw(sum(x.peak_kw for x in a.electric_loads)),
            _mw(sum(x.peak_kw for x in a.pv)),
            _mw(sum(x.total_rated_kw for x in a.wind)),
            _mw(sum(x.capacity_kwh for x in a.batteries)),
            _mw(sum(x.peak_kw_th for x in a.heat_demands)),
        )
    return table


@app.command("list")
def list_sites() -> None:
    """List the bundled parks with their main ratings."""
    console.print(summary_table(run_guarded(bundled_sites)))


@app.command()
def show(site_id: SiteId) -> None:
    """Assets, ratings, tariff and annual policy targets of one park."""
    from sites.tariff import site_tariff

    site = run_guarded(lambda: park_of(site_id).site)
    tariff = site_tariff(site)
    loc = site.location
    console.print(f"[bold]{site.name}[/bold] ({site.id})  {site.description}")
    console.print(
        f"location {loc.latitude:.2f} N {loc.longitude:.2f} E, {loc.altitude_m:g} m, "
        f"{loc.timezone}; step {site.time_step_minutes} min; day-ahead gate "
        f"{site.day_ahead_gate_time}"
    )
    g = site.grid_connection
    console.print(
        f"grid: {g.voltage_kv:g} kV at bus {g.pcc_bus}; import <= {g.import_limit_kw:,.0f} kW, "
        f"export <= {g.export_limit_kw:,.0f} kW, contracted demand {g.contracted_demand_kw:,.0f} kW"
    )
    prices = ", ".join(f"{b.value} {p:.4f}" for b, p in tariff.band_prices_cny_per_kwh.items())
    console.print(
        f"tariff {tariff.calendar.id}: {prices} CNY/kWh; demand charge "
        f"{tariff.demand_charge_cny_per_kw_month:g} CNY/kW/month; export "
        f"{tariff.export_price_cny_per_kwh:.4f} CNY/kWh"
    )
    ef = site.grid_emission_factor
    console.print(f"grid CO2: {ef.kg_co2_per_kwh} kg/kWh ({ef.year}; {ef.source})")
    console.print(
        f"annual targets: renewable self-consumption >= "
        f"{site.policy.min_self_consumption_ratio:.0%}, export <= "
        f"{site.policy.max_export_ratio:.0%} of available renewable generation"
    )
    console.print(asset_table(site))


def asset_table(site: Site) -> Table:
    table = Table(title="Assets")
    for col in ("family", "name", "bus", "rating"):
        table.add_column(col)
    a = site.assets
    for pv in a.pv:
        table.add_row(
            "pv",
            pv.name,
            pv.bus,
            f"{pv.peak_kw:,.0f} kWp, inverter {pv.inverter_kva:,.0f} "
            f"kVA, tilt {pv.tilt_deg:g}, azimuth {pv.azimuth_deg:g}",
        )
    for w in a.wind:
        table.add_row(
            "wind",
            w.name,
            w.bus,
            f"{w.count} x {w.rated_kw:,.0f} kW "
            f"{w.turbine_type or 'custom curve'}, hub {w.hub_height_m:g} m",
        )
    for b in a.batteries:
        table.add_row(
            "battery",
            b.name,
            b.bus,
            f"{b.capacity_kwh:,.0f} kWh, {b.charge_kw:,.0f}/"
            f"{b.discharge_kw:,.0f} kW, SoC {b.soc_min_fraction:.0%}-{b.soc_max_fraction:.0%}",
        )
    for h in a.heat_pumps:
        table.add_row(
            "heat pump",
            h.name,
            h.bus,
            f"{h.electric_kw:,.0f} kW_el, sink "
            f"{h.sink_temperature_degc:g} degC, source {h.source}, -> {h.supplies}",
        )
    for wh in a.waste_heat:
        table.add_row(
            "waste heat",
            wh.name,
            "",
            f"up to {wh.max_kw_th:,.0f} kW_th at "
            f"{wh.supply_temperature_degc:g} degC from {wh.process_load}",
        )
    for t in a.thermal_storage:
        table.add_row(
            "thermal storage",
            t.name,
            "",
            f"{t.capacity_kwh_th:,.0f} kWh_th, "
            f"{t.charge_kw_th:,.0f}/{t.discharge_kw_th:,.0f} kW_th -> {t.supplies}",
        )
    for ld in a.electric_loads:
        table.add_row(
            "load", ld.name, ld.bus, f"peak {ld.peak_kw:,.0f} kW, {ld.annual_energy_mwh:,.0f} MWh/a"
        )
    for d in a.heat_demands:
        table.add_row(
            "heat demand",
            d.name,
            "",
            f"{d.temperature_degc:g} degC, peak "
            f"{d.peak_kw_th:,.0f} kW_th, {d.annual_energy_mwh_th:,.0f} MWh_th/a",
        )
    for bo in a.boilers:
        table.add_row(
            "boiler",
            bo.name,
            bo.bus or "",
            f"{bo.fuel.value}, {bo.capacity_kw_th:,.0f} "
            f"kW_th, efficiency {bo.efficiency:g} -> {bo.supplies}",
        )
    for c in a.chp:
        heat = f", heat {c.heat_efficiency:g} -> {c.supplies}" if c.supplies else ""
        minimum = f", minimum {c.min_stable_fraction:.0%}" if c.min_stable_fraction else ""
        table.add_row(
            c.kind.value.replace("_", " "),
            c.name,
            c.bus,
            f"{c.rated_electric_kw:,.0f} kW, {c.fuel.value}, electric efficiency "
            f"{c.electric_efficiency:g}{heat}{minimum}",
        )
    for r in a.recovery_power:
        table.add_row(
            r.kind.value.replace("_", " "),
            r.name,
            r.bus,
            f"up to {r.rated_kw:,.0f} kW, {r.kw_per_process_kw:g} kW per kW of "
            f"{r.process_load}{', must run' if r.must_run else ''}",
        )
    for batch in a.batch_loads:
        table.add_row(
            "batch load",
            batch.name,
            batch.bus,
            f"{batch.energy_kwh:,.0f} kWh a day, {batch.window_start_hour:g}-"
            f"{batch.window_end_hour:g} h, up to {batch.max_kw:,.0f} kW",
        )
    for cut in a.curtailable_loads:
        table.add_row(
            "curtailable load",
            cut.name,
            "",
            f"{cut.max_fraction:.0%} of {cut.load}, {cut.cost_cny_per_kwh:g} CNY/kWh shed",
        )
    for shift in a.shiftable_loads:
        table.add_row(
            "shiftable load",
            shift.name,
            "",
            f"{shift.max_fraction:.0%} of {shift.load}, by up to {shift.max_shift_h:g} h, "
            f"+{shift.max_extra_kw:,.0f} kW",
        )
    for el in a.electrolysers:
        minimum = f", minimum {el.min_load_fraction:.0%}" if el.min_load_fraction else ""
        table.add_row(
            "electrolyser", el.name, el.bus, f"{el.rated_kw:,.0f} kW -> {el.tank}{minimum}"
        )
    for tank in a.hydrogen_tanks:
        table.add_row(
            "hydrogen tank",
            tank.name,
            "",
            f"{tank.capacity_kg:,.0f} kg, offtake up to {tank.max_offtake_kg_per_h:g} kg/h at "
            f"{tank.value_cny_per_kg:g} CNY/kg",
        )
    for fc in a.hydrogen_fuel_cells:
        table.add_row(
            "fuel cell",
            fc.name,
            fc.bus,
            f"{fc.rated_kw:,.0f} kW from {fc.tank}, {fc.kwh_per_kg:g} kWh/kg",
        )
    return table


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="site YAML file")]) -> None:
    """Check a site file; every problem is listed with file, field, value and rule (exit 2)."""
    site = run_guarded(lambda: load_site(file))
    console.print(f"OK: {file} describes site '{site.id}' ({site.name})")
    print_dropped(site)


def print_dropped(site: Site) -> None:
    """Warn about what of a pandapower file the site leaves out (not an error)."""
    from network_models import dropped_elements

    for line in dropped_elements(site):
        console.print(f"warning: {line}", markup=False, soft_wrap=True)
