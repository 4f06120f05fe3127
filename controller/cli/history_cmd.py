"""``microgrid history``: the bundled historical years, and checking a user's own history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from controller.cli.common import SiteId, console, run_guarded
from sites import load_bundled_site
from sites.history.derive import SiteHistory, load_history
from sites.history.importer import read_history_file
from sites.history.series import expected_series

app = typer.Typer(help="Historical years of the parks.", no_args_is_help=True)


def summary_table(title: str, summary: pd.DataFrame) -> Table:
    table = Table(title=title)
    for col in ("series", "unit", "annual energy MWh", "peak", "mean", "full-load hours"):
        table.add_column(col, justify="left" if col in ("series", "unit") else "right")

    def fmt(value: float, spec: str) -> str:
        return "" if pd.isna(value) else format(value, spec)

    for name, row in summary.iterrows():
        table.add_row(
            str(name),
            str(row["unit"]),
            fmt(row["annual_energy_mwh"], ",.0f"),
            fmt(row["peak"], ",.1f"),
            fmt(row["mean"], ",.1f"),
            fmt(row["full_load_hours"], ",.0f"),
        )
    return table


def print_history(history: SiteHistory) -> None:
    frame = history.frame
    console.print(
        f"{history.site_id}: {len(frame):,} intervals of 15 minutes, "
        f"{frame.index[0]} .. {frame.index[-1]}"
    )
    console.print(summary_table("Annual totals", history.annual_summary()))
    console.print("[bold]Provenance[/bold]")
    for column, text in history.provenance.items():
        console.print(f"  {column}: {text}", markup=False)
    console.print(
        "  source data: SimBench benchmark profiles 2016 (licence ODbL 1.0); "
        "see sites/data/history/PROVENANCE.md"
    )


@app.command()
def show(site_id: SiteId) -> None:
    """Annual totals and full-load hours per series of a bundled park, with provenance."""
    run_guarded(lambda: print_history(load_history(load_bundled_site(site_id))))


@app.command("check")
def check_file(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: timestamp + columns with units")],
    site: Annotated[str, typer.Option(help="bundled park id the history belongs to")],
    timezone: Annotated[
        str | None, typer.Option(help="zone of time stamps that carry no UTC offset")
    ] = None,
) -> None:
    """Check a user's history file; every problem is listed with row and column (exit 2)."""

    def action() -> None:
        park = load_bundled_site(site)
        frame = read_history_file(file, park, assume_timezone=timezone)
        specs = expected_series(park)
        present = {c: s for c, s in specs.items() if c in frame.columns}
        history = SiteHistory(park.id, frame[list(present)], present)
        console.print(f"OK: {file}: {len(frame):,} intervals, columns {list(present)}")
        console.print(summary_table("Totals over the file", history.annual_summary()))

    run_guarded(action)
