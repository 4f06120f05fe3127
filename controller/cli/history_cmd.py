"""``microgrid history``: a park's history, a template for a user's own, and checking one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from controller.cli.common import (
    HistoryOption,
    SiteId,
    SiteOption,
    TimezoneOption,
    console,
    park_of,
    run_guarded,
)
from sites.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from sites.park import Park

app = typer.Typer(
    help="A park's history: show, check a file, write a template.", no_args_is_help=True
)


def summary_table(title: str, summary: pd.DataFrame) -> Table:
    import pandas as pd

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


def print_history(park: Park) -> None:
    history = park.history
    frame = history.frame
    span = f"{frame.index[0]} .. {frame.index[-1]}" if len(frame) else "no interval yet"
    console.print(f"{history.site_id}: {len(frame):,} intervals of 15 minutes, {span}")
    console.print(summary_table("Totals over the history", history.annual_summary()))
    console.print("[bold]Provenance[/bold]")
    for column, text in history.provenance.items():
        console.print(f"  {column}: {text}", markup=False)
    if park.history_file is None:
        console.print(
            "  source data: SimBench benchmark profiles 2016 (licence ODbL 1.0); "
            "see sites/data/history/PROVENANCE.md"
        )


@app.command()
def show(site_id: SiteId, history: HistoryOption = None, timezone: TimezoneOption = None) -> None:
    """Totals, peaks and full-load hours per series of a park's history, with provenance."""
    run_guarded(lambda: print_history(park_of(site_id, history, timezone)))


@app.command("check")
def check_file(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: timestamp + columns with units")],
    site: SiteOption,
    timezone: TimezoneOption = None,
) -> None:
    """Check a history file against a park: every problem with row and column (exit 2).

    Every column the park needs must be there (`microgrid history template` lists them).
    """

    def action() -> None:
        park = park_of(site, file, timezone)
        history = park.history
        console.print(
            f"OK: {file}: {len(history.frame):,} intervals, every column of site "
            f"'{park.site.id}': {list(history.series)}"
        )
        if len(history.frame):
            console.print(summary_table("Totals over the file", history.annual_summary()))

    run_guarded(action)


@app.command()
def template(
    site_id: SiteId,
    out: Annotated[Path, typer.Option(help="CSV file to write")] = Path("history.csv"),
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="with --days: write one row per quarter hour from this local day"
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=0, help="days of rows to write (with --from)")] = 0,
) -> None:
    """Write an empty history CSV with exactly the columns the park needs.

    `timestamp` is each interval's start in ISO 8601 with its UTC offset
    (2026-03-01T00:15:00+08:00); the other columns carry their unit in the name (kW,
    kW_th, degC). With --from and --days the time stamps are filled in, the values left empty.
    """

    def action() -> None:
        import pandas as pd

        from sites.history.importer import STEP, TIMESTAMP, template_columns

        park = park_of(site_id)
        names = template_columns(park.site)
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in names})
        if start is not None:
            try:
                first = pd.Timestamp(start).tz_localize(park.site.location.timezone)
            except ValueError:
                raise DataError(f"--from: got {start!r}; it must be a date YYYY-MM-DD") from None
            stamps = pd.date_range(first, periods=days * 96, freq=STEP)
            frame = pd.DataFrame({TIMESTAMP: [t.isoformat() for t in stamps]}).reindex(
                columns=names
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        console.print(
            f"wrote {out}: {len(frame):,} row(s), columns {', '.join(names)}", markup=False
        )

    run_guarded(action)
