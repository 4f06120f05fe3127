"""``microgrid simulate``: replay a park's historical year under one or more policies."""

from __future__ import annotations

from enum import StrEnum
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

if TYPE_CHECKING:
    import pandas as pd


class PolicyName(StrEnum):
    PRODUCTION = "production"
    DAY_AHEAD = "day-ahead"
    RULE_BASED = "rule-based"
    NO_STORAGE = "no-storage"
    PERFECT = "perfect"


def print_kpis(table: pd.DataFrame, title: str = "KPIs by policy", corner: str = "KPI") -> None:
    out = Table(title=title)
    out.add_column(corner)
    for policy in table.columns:
        out.add_column(str(policy), justify="right")
    for kpi, row in table.iterrows():
        out.add_row(str(kpi), *(f"{v:,.4g}" for v in row))
    console.print(out)


def simulate(
    site: SiteOption,
    start: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (local)")],
    end: Annotated[str, typer.Option("--to", help="day after the last, YYYY-MM-DD")],
    policy: Annotated[list[PolicyName] | None, typer.Option(help="repeat to compare")] = None,
    intraday_every: Annotated[str, typer.Option(help="intraday re-plan period")] = "15min",
    out: Annotated[Path, typer.Option(help="folder for Parquet, JSON, HTML")] = Path("out/sim"),
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Replay [--from, --to) of the park's history; the controller sees only the past.

    The days before --from are the history the forecasts are fitted on.
    """

    def action() -> None:
        import pandas as pd

        from sim import monthly_storage_value_captured, run_policies

        chosen = policy or [PolicyName.PRODUCTION, PolicyName.RULE_BASED]
        park = park_of(site, history, timezone)
        result = run_policies(
            park.site,
            park.history.frame,
            start,
            end,
            [p.value for p in chosen],
            pd.Timedelta(intraday_every),
            out,
        )
        print_kpis(result.table)
        print_kpis(result.merit, "Against the bound (demand charge billed monthly)", "figure")
        print_kpis(result.monthly, "Total cost per month [CNY]", "month")
        if {"perfect", "no-storage"} <= set(result.monthly.columns):
            captured = monthly_storage_value_captured(result.monthly)
            print_kpis(captured, "Share of the storage value captured per month", "month")
        for name, path in result.written.items():
            console.print(f"wrote {name}: {path}")

    run_guarded(action)
