"""``microgrid forecast``: forecasts from a park's history, and their rolling-origin backtest."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from controller.cli.common import (
    HistoryOption,
    SiteOption,
    TimezoneOption,
    console,
    park_of,
    run_guarded,
)
from sites.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="Forecasts of PV, wind, loads, heat and temperature.", no_args_is_help=True)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DataError(f"{option}: got {value!r}; it must be a date YYYY-MM-DD") from None


def _timedelta(value: str, option: str) -> pd.Timedelta:
    import pandas as pd

    try:
        return pd.Timedelta(value)
    except ValueError:
        raise DataError(
            f"{option}: got {value!r}; it must be a duration such as 1d or 2d"
        ) from None


def _percent(value: float) -> str:
    return "" if math.isnan(value) else f"{100 * value:.1f}"


def backtest_table(title: str, table: pd.DataFrame) -> Table:
    out = Table(title=title)
    headers = (
        *("series", "bucket", "n", "MAE", "RMSE", "nMAE %"),
        *("skill pers. %", "skill daily %", "skill week %", "P10-P90 %"),
    )
    for header in headers:
        left = header in ("series", "bucket")
        out.add_column(header, justify="left" if left else "right", no_wrap=left)
    for row in table.to_dict("records"):
        mae, rmse = float(row["mae"]), float(row["rmse"])
        out.add_row(
            str(row["series"]),
            str(row["bucket"]),
            f"{int(row['n']):,}",
            f"{mae:,.3g}" if mae < 10 else f"{mae:,.0f}",
            f"{rmse:,.3g}" if rmse < 10 else f"{rmse:,.0f}",
            *(
                _percent(float(row[key]))
                for key in (
                    "nmae",
                    "skill_persistence",
                    "skill_daily_persistence",
                    "skill_seasonal_naive",
                    "coverage",
                )
            ),
        )
    return out


@app.command()
def backtest(
    site: SiteOption,
    from_: Annotated[str, typer.Option("--from", help="first issue day, YYYY-MM-DD")],
    to: Annotated[str, typer.Option("--to", help="last issue day, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="folder for the CSV and PNG")] = Path(
        "forecast-backtest"
    ),
    every: Annotated[str, typer.Option(help="days between issue days, e.g. 1d")] = "1d",
    origins_per_day: Annotated[
        int, typer.Option(help="issue times per day: the gate time and evenly spread others")
    ] = 4,
    refit_every: Annotated[str, typer.Option(help="refit the models this often")] = "7d",
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Rolling-origin backtest on a park's history: skill, errors and coverage."""

    def action() -> None:
        from forecasting import plot_backtest, run_backtest

        chosen = park_of(site, history, timezone)
        park = chosen.site
        start, end = _date(from_, "--from"), _date(to, "--to")
        result = run_backtest(
            park,
            chosen.history.frame,
            start,
            end,
            every=_timedelta(every, "--every"),
            origins_per_day=origins_per_day,
            refit_every=_timedelta(refit_every, "--refit-every"),
            progress=True,
        )
        stem = f"forecast-backtest-{park.id}-{start}-{end}"
        out.mkdir(parents=True, exist_ok=True)
        csv = out / f"{stem}.csv"
        result.table.to_csv(csv, index=False, float_format="%.6g")
        png = plot_backtest(result, out / f"{stem}.png")
        title = (
            f"{park.id}: {result.origins} origins {start} .. {end} "
            f"({origins_per_day} a day from the {park.day_ahead_gate_time} gate), "
            f"{result.refits} fits"
        )
        console.print(backtest_table(title, result.table))
        console.print(
            "skill = 1 - MAE / MAE(baseline), baselines: pers. = persistence (last value held "
            "flat), daily = same time on the last observed day, week = seasonal naive (same "
            "time last week); nMAE = MAE / rating; P10-P90 = share of actual values inside the "
            "band (nominal 80 %); PV scored while the sun is up"
        )
        console.print(f"wrote {csv} and {png}", markup=False)

    run_guarded(action)
