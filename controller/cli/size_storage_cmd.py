"""``microgrid size-storage``: size battery and thermal storage (and the renewable build-out)
with the production controller replayed in closed loop, on Dask."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from controller.cli.common import HistoryOption, SiteId, TimezoneOption, console, run_guarded

_VALUES = "values 0,12000,24000 or a range start:stop:step"


class Search(StrEnum):
    GRID = "grid"
    """The candidates given."""
    LP = "lp"
    """Also the sizes around the sizing LP's optimum (:mod:`sim.sizing.search`)."""


SHOWN = {
    "candidate": "candidate",
    "npv_cny": "NPV [CNY]",
    "lp_npv_cny": "NPV promised by the sizing LP [CNY]",
    "perfect_npv_cny": "NPV promised by perfect foresight [CNY]",
    "annualised_cost_cny": "annualised cost [CNY/a]",
    "annual_savings_cny": "savings [CNY/a]",
    "production_self_consumption_ratio": "self-consumption",
    "production_export_ratio": "export",
    "storage_value_captured": "storage value captured",
}


def size_storage(
    site: SiteId,
    start: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (local)")],
    end: Annotated[str, typer.Option("--to", help="day after the last, YYYY-MM-DD")],
    battery_kwh: Annotated[
        str | None, typer.Option(help=f"total battery energy [kWh]: {_VALUES}")
    ] = None,
    battery_kw: Annotated[
        str | None, typer.Option(help=f"total battery power [kW] (or --duration-h): {_VALUES}")
    ] = None,
    duration_h: Annotated[
        str | None, typer.Option(help=f"battery duration [h] (or --battery-kw): {_VALUES}")
    ] = None,
    tank_kwh_th: Annotated[
        str | None, typer.Option(help=f"capacity of each thermal store [kWh_th]: {_VALUES}")
    ] = None,
    tank: Annotated[
        list[str] | None,
        typer.Option(help="one thermal store's capacities, NAME=VALUES (repeat per tank)"),
    ] = None,
    pv_scale: Annotated[str | None, typer.Option(help=f"PV capacity factor: {_VALUES}")] = None,
    wind_scale: Annotated[str | None, typer.Option(help=f"wind capacity factor: {_VALUES}")] = None,
    sizing: Annotated[
        Path | None,
        typer.Option(
            help="costs: a sizing file, or a site file with a `sizing:` section (default: the "
            "site file's own section where it has one, else the built-in defaults)"
        ),
    ] = None,
    intraday_every: Annotated[str, typer.Option(help="intraday re-plan period")] = "1h",
    rule_based: Annotated[
        bool, typer.Option(help="also replay the rule-based policy at each size")
    ] = True,
    perfect: Annotated[
        bool, typer.Option(help="also replay the perfect-foresight bound at each size")
    ] = True,
    search: Annotated[
        Search,
        typer.Option(
            help="grid: the candidates given; lp: also the sizes around the sizing LP's optimum"
        ),
    ] = Search.GRID,
    lp: Annotated[
        bool,
        typer.Option(
            help="solve the perfect-foresight sizing LP first, and its promise at each size"
        ),
    ] = True,
    scheduler: Annotated[
        str | None,
        typer.Option(help="an existing Dask scheduler, tcp://HOST:PORT (default: a local cluster)"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="local cluster's workers (default: one per core)")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for checkpoints, tables, report")] = Path(
        "out/sizing"
    ),
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Replay [--from, --to) for every storage candidate; recommend a size.

    Finished candidates are kept in --out by the hash of their inputs: a rerun runs only
    the missing ones.
    """

    def action() -> None:
        import pandas as pd

        from sim import (
            PERFECT,
            PRODUCTION,
            RULE_BASED,
            Annualisation,
            CandidateGrid,
            Period,
            SizingEconomics,
            around_optimum,
            lp_limits,
            lp_promises,
            park_with_sizing,
            parse_values,
            read_economics,
            run_sweep,
            solve_optimum,
            write_outputs,
        )
        from sites import DataError

        park, own = park_with_sizing(site, history, timezone)
        economics = read_economics(sizing) if sizing is not None else own or SizingEconomics()
        tanks = {}
        for item in tank or []:
            name, sep, values = item.partition("=")
            if not sep:
                raise DataError(f"--tank: got {item!r}; write NAME=VALUES (hot_water_tank=0,60000)")
            tanks[name.strip()] = parse_values(f"--tank {name}", values)
        grid = CandidateGrid(
            battery_kwh=parse_values("--battery-kwh", battery_kwh),
            battery_kw=parse_values("--battery-kw", battery_kw),
            duration_h=parse_values("--duration-h", duration_h),
            tank_kwh_th=parse_values("--tank-kwh-th", tank_kwh_th),
            tanks=tanks,
            pv_scale=parse_values("--pv-scale", pv_scale),
            wind_scale=parse_values("--wind-scale", wind_scale),
        )
        candidates = grid.candidates(park.site)
        zone = park.site.location.timezone
        try:
            period = Period(
                pd.Timestamp(start, tz=zone),
                pd.Timestamp(end, tz=zone),
                pd.Timedelta(intraday_every),
            )
        except ValueError as exc:
            raise DataError(f"--from/--to/--intraday-every: {exc}") from None
        if period.end <= period.start:
            raise DataError(f"--to: got {end}; it must be after --from ({start})")
        policies = (
            (PRODUCTION,) + ((RULE_BASED,) if rule_based else ()) + ((PERFECT,) if perfect else ())
        )
        truth = park.history.frame
        optimum, promises = None, {}
        if lp or search is Search.LP:
            limits = lp_limits(park.site, grid)
            optimum = solve_optimum(
                park.site, truth, period.start, period.end, economics, limits, out
            )
            console.print(
                f"sizing LP optimum: {optimum.candidate.label} ({optimum.step_minutes}-minute "
                f"intervals, {optimum.solve_time_s:.1f} s)",
                markup=False,
            )
            if search is Search.LP:
                candidates = list(dict.fromkeys([*candidates, *around_optimum(optimum)]))
            promises = lp_promises(
                park.site, truth, period.start, period.end, economics, candidates, out
            )
        console.print(f"{len(candidates)} candidates on {park.site.id}, {start} to {end}")
        result = run_sweep(park.site, truth, candidates, period, out, policies, scheduler, workers)
        annual = Annualisation.between(period.start, period.end)
        table, rec, written = write_outputs(
            park.site, result, economics, annual, out, promises, optimum
        )
        console.print(
            f"ran {len(result.ran)}, reused {len(result.reused)} from checkpoints, "
            f"failed {len(result.failures)}; {result.wall_time_s:.1f} s"
        )
        for label, error in result.failures.items():
            console.print(f"failed: {label}: {error}", markup=False)
        if not table.empty:
            out_table = Table(title="Candidates by NPV (production controller, closed loop)")
            shown = [c for c in SHOWN if c in table.columns]
            for c in shown:
                out_table.add_column(SHOWN[c], justify="right")
            for _, row in table.sort_values("npv_cny", ascending=False).iterrows():
                out_table.add_row(
                    *(str(row[c]) if c == "candidate" else f"{row[c]:,.4g}" for c in shown)
                )
            console.print(out_table)
        console.print(f"recommended: {rec.candidate or 'none'} ({rec.reason})", markup=False)
        if rec.lp_optimum:
            console.print(f"the sizing LP's optimum: {rec.lp_optimum}", markup=False)
            console.print(
                f"the sizing LP's promises alone would choose: {rec.lp_choice or 'none'}",
                markup=False,
            )
        if rec.perfect_choice:
            console.print(
                f"the perfect-foresight replays alone would choose: {rec.perfect_choice}",
                markup=False,
            )
        if rec.build_out:
            console.print(f"largest build-out allowed: {rec.build_out}", markup=False)
        for name, path in written.items():
            console.print(f"wrote {name}: {path}")

    run_guarded(action)
