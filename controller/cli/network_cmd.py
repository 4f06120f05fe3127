"""``microgrid network``: the park's network at its design extremes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from controller.cli.common import SiteId, console, park_of, run_guarded
from controller.cli.sites_cmd import print_dropped, summary_table
from sites import Site, bundled_sites

if TYPE_CHECKING:
    from network_models import DesignCheck

app = typer.Typer(help="Network checks of a park.", no_args_is_help=True)


def design_table(check: DesignCheck) -> Table:
    table = Table(title=f"Network design check: {check.site_id}")
    for col in (
        "scenario",
        "V min pu",
        "V max pu",
        "max line %",
        "max trafo %",
        "grid import kW",
        "grid export kW",
        "losses kW",
        "violations",
    ):
        table.add_column(col, justify="right" if col != "scenario" else "left")
    for name, row in check.table().iterrows():
        table.add_row(
            str(name),
            f"{row.vm_min_pu:.4f}",
            f"{row.vm_max_pu:.4f}",
            f"{row.max_line_loading_percent:.1f}",
            f"{row.max_trafo_loading_percent:.1f}",
            f"{row.grid_import_kw:,.0f}",
            f"{row.grid_export_kw:,.0f}",
            f"{row.losses_kw:,.0f}",
            str(row.violations),
        )
    return table


def violations_table(check: DesignCheck) -> Table:
    table = Table(title="Violations")
    for col in ("scenario", "element", "quantity", "value", "limit"):
        table.add_column(col)
    for v in check.verification.violations.itertuples():
        table.add_row(
            str(v.interval), str(v.element), str(v.quantity), f"{v.value:,.3f}", f"{v.limit:,.3f}"
        )
    return table


def print_check(site: Site) -> None:
    from network_models import design_check

    print_dropped(site)
    check = design_check(site)
    console.print(design_table(check))
    for scenario in check.scenarios:
        console.print(f"  {scenario.name}: {scenario.description}")
    if check.ok:
        console.print("  no violations")
    else:
        console.print(violations_table(check))
        console.print(
            "  (violations at the extremes are what the dispatch must avoid: the optimiser "
            "holds the network and grid-connection limits in every plan)"
        )


@app.command()
def check(site_id: SiteId) -> None:
    """Design check at peak load without generation and at peak generation with minimum load."""
    run_guarded(lambda: print_check(park_of(site_id).site))


@app.command("import")
def import_network(
    network: Annotated[Path, typer.Argument(help="pandapower JSON network (pandapower.to_json)")],
    site_id: Annotated[str, typer.Option("--id", help="id of the new site (lower case, dashes)")],
    out: Annotated[Path, typer.Option("--out", help="site YAML file to write")],
    name: Annotated[str | None, typer.Option(help="the park's name")] = None,
) -> None:
    """A draft site file from a pandapower network: its loads, static generators (PV, wind,
    CHP, fuel cells, diesel) and storage units become assets at their buses with their
    ratings; what the file does not hold is assumed and listed, to be replaced."""
    import os

    import yaml

    from network_models import site_from_pandapower
    from sites import load_site

    out.resolve().parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(network.resolve(), out.resolve().parent)
    imported = run_guarded(
        lambda: site_from_pandapower(network, site_id, network_file=relative, name=name)
    )
    header = "# Drafted by `microgrid network import` from " + network.name + ". Assumed values\n"
    header += "".join(f"# - {line}\n" for line in imported.assumptions)
    out.write_text(header + yaml.safe_dump(imported.mapping, sort_keys=False), encoding="utf-8")
    site = run_guarded(lambda: load_site(out))
    a = site.assets
    console.print(
        f"wrote {out}: site '{site.id}' with {len(a.electric_loads)} loads, {len(a.pv)} PV, "
        f"{len(a.wind)} wind, {len(a.chp)} dispatchable generators (CHP, fuel cells, diesel), "
        f"{len(a.batteries)} batteries"
    )
    for line in imported.assumptions:
        console.print(f"assumed: {line}", markup=False, soft_wrap=True)
    for line in imported.left_out:
        console.print(f"left out: {line}", markup=False, soft_wrap=True)


def print_overview() -> None:
    sites = bundled_sites()
    console.print(summary_table(sites))
    for site in sites:
        print_check(site)
