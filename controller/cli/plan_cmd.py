"""``microgrid plan``: a day-ahead or intraday dispatch plan for one park and day."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from controller.cli.choices import ForecastSource
from controller.cli.common import (
    HistoryOption,
    SiteOption,
    TimezoneOption,
    console,
    park_of,
    run_guarded,
)
from controller.kinds import PlanKind
from sites import Site

if TYPE_CHECKING:
    import pandas as pd

    from controller.cli.plan_forecast import PlanForecast
    from controller.inputs.state import MeasuredState
    from controller.plans.kpi import Kpis
    from controller.plans.plan import Plan
    from sites.park import Park

INTRADAY_FROM = time(12, 0)
FILE_WIDTH = 160  # a table written to a file is as wide as piped output


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def state_at(site: Site, day_ahead: Plan, at: pd.Timestamp) -> MeasuredState:
    """Storage levels the day-ahead plan expects at ``at`` (the end of the interval before)."""
    from controller.inputs.state import MeasuredState, default_state

    frame = day_ahead.frame
    before = frame[frame.index < at]
    if before.empty:
        return default_state(site)
    last = before.iloc[-1]
    return MeasuredState(
        {b.name: float(last[f"battery_{b.name}_soc_kwh"]) for b in site.assets.batteries},
        {
            t.name: float(last[f"thermal_storage_{t.name}_level_kwh_th"])
            for t in site.assets.thermal_storage
        },
        # the morning's imports (as planned) already count towards the month's peak
        month_peak_import_kw=max(
            day_ahead.metadata.month_peak_import_kw, float(before["grid_import_kw"].max())
        ),
    )


def make_plan(
    park: Park, day: date, kind: PlanKind, source: ForecastSource | None = None
) -> tuple[Plan, PlanForecast]:
    """The plan of ``day`` and the forecast it was made from."""
    import pandas as pd

    from controller.cli.plan_forecast import day_forecast
    from controller.inputs.state import default_state
    from controller.planner import plan

    site = park.site
    first = day_forecast(park, day, source)
    day_ahead = plan(
        site,
        first.frame,
        default_state(site),
        PlanKind.DAY_AHEAD,
        forecast_fallbacks=first.fallbacks,
    )
    if kind is PlanKind.DAY_AHEAD:
        return day_ahead, first
    forecast = day_forecast(park, day, source, INTRADAY_FROM)
    state = state_at(site, day_ahead, pd.DatetimeIndex(forecast.frame.index)[0])
    intraday = plan(
        site,
        forecast.frame,
        state,
        PlanKind.INTRADAY,
        committed=day_ahead,
        forecast_fallbacks=forecast.fallbacks,
    )
    return intraday, forecast


def kpi_table(k: Kpis) -> Table:
    table = Table(title="KPIs over the horizon")
    for col in ("KPI", "value", "target", "met"):
        table.add_column(col, justify="left" if col == "KPI" else "right")
    table.add_row(
        "renewable self-consumption",
        f"{k.self_consumption_ratio:.1%}",
        f">= {k.min_self_consumption_ratio:.0%}",
        "yes" if k.meets_self_consumption_target else "NO",
    )
    table.add_row(
        "export ratio",
        f"{k.export_ratio:.1%}",
        f"<= {k.max_export_ratio:.0%}",
        "yes" if k.meets_export_target else "NO",
    )
    rows = [
        ("renewable share of consumption", f"{k.renewable_share_of_consumption:.1%}"),
        ("renewable available MWh", f"{k.renewable_available_kwh / 1000:,.2f}"),
        ("renewable used on site MWh", f"{k.renewable_used_on_site_kwh / 1000:,.2f}"),
        ("curtailed MWh", f"{k.curtailed_kwh / 1000:,.2f}"),
        ("export MWh", f"{k.export_kwh / 1000:,.2f}"),
        ("grid import MWh", f"{k.import_kwh / 1000:,.2f}"),
        ("peak import kW", f"{k.peak_import_kw:,.0f}"),
        ("energy cost CNY", f"{k.energy_cost_cny:,.0f}"),
        ("demand charge CNY", f"{k.demand_charge_cny:,.0f}"),
        ("battery equivalent full cycles", f"{k.battery_equivalent_full_cycles:.2f}"),
        ("battery degradation CNY", f"{k.degradation_cost_cny:,.0f}"),
        ("fuel and CHP starts CNY", f"{k.fuel_cost_cny:,.0f}"),
        ("export revenue CNY", f"{k.export_revenue_cny:,.0f}"),
        ("total cost CNY", f"{k.total_cost_cny:,.0f}"),
        ("CO2 t", f"{k.co2_kg / 1000:,.2f}"),
        ("CO2 avoided t", f"{k.co2_avoided_kg / 1000:,.2f}"),
        ("heat unmet MWh_th", f"{k.heat_unmet_kwh_th / 1000:,.2f}"),
    ]
    if k.chp_run_hours > 0:  # NaN (a plan stored before) and 0 (no CHP ran) are left out
        rows += [
            ("CHP electricity MWh", f"{k.chp_electric_kwh / 1000:,.2f}"),
            ("CHP heat MWh_th", f"{k.chp_heat_kwh_th / 1000:,.2f}"),
            ("CHP hours run, starts", f"{k.chp_run_hours:,.1f} h, {k.chp_starts:.0f}"),
        ]
    if k.batch_energy_kwh > 0 or k.load_curtailed_kwh > 0 or k.load_shifted_kwh > 0:
        rows += [  # NaN (a plan stored before) and 0 (nothing flexible moved) are left out
            (
                "batch energy MWh, hours run",
                f"{k.batch_energy_kwh / 1000:,.2f}, {k.batch_run_hours:,.1f} h",
            ),
            (
                "load curtailed, shifted MWh",
                f"{k.load_curtailed_kwh / 1000:,.2f}, {k.load_shifted_kwh / 1000:,.2f}",
            ),
            ("curtailment and shift cost CNY", f"{k.curtailment_cost_cny:,.0f}"),
        ]
    if k.electrolyser_kwh > 0 or k.hydrogen_offtake_kg > 0 or k.hydrogen_fuel_cell_kwh > 0:
        rows += [
            (
                "hydrogen made, vented, taken off kg",
                f"{k.hydrogen_made_kg:,.1f}, {k.hydrogen_vented_kg:,.1f}, "
                f"{k.hydrogen_offtake_kg:,.1f}",
            ),
            ("hydrogen value CNY", f"{k.hydrogen_value_cny:,.0f}"),
            (
                "electrolyser in, fuel cell out MWh",
                f"{k.electrolyser_kwh / 1000:,.2f}, {k.hydrogen_fuel_cell_kwh / 1000:,.2f}",
            ),
        ]
    if k.recovery_power_kwh > 0:  # NaN and 0 left out, as above
        rows.append(("waste-heat/pressure power MWh", f"{k.recovery_power_kwh / 1000:,.2f}"))
    for name, value in rows:
        table.add_row(name, value, "", "")
    return table


def hourly_table(result: Plan) -> Table:
    import pandas as pd

    frame = result.frame
    hourly = frame.select_dtypes("number").resample("1h").mean()
    table = Table(title="Connection point and storage, hourly means")
    for col in ("hour", "band", "import kW", "export kW", "curtailed kW", "battery SoC kWh"):
        table.add_column(col, justify="right")
    curtailed = [c for c in frame.columns if c.endswith("_curtailed_kw")]
    soc = [c for c in frame.columns if c.endswith("_soc_kwh")]
    bands = frame["price_band"].resample("1h").first()
    for stamp, row in hourly.iterrows():
        table.add_row(
            f"{pd.Timestamp(str(stamp)):%H:%M}",
            str(bands.get(stamp, "")),
            f"{row['grid_import_kw']:,.0f}",
            f"{row['grid_export_kw']:,.0f}",
            f"{sum(row[c] for c in curtailed):,.0f}",
            f"{sum(row[c] for c in soc):,.0f}",
        )
    return table


def print_report(
    site: Site, result: Plan, forecast: PlanForecast, console: Console = console
) -> None:
    meta = result.metadata
    net = meta.network
    console.print(
        f"[bold]{site.name}[/bold] ({site.id}): {meta.kind.value} plan, "
        f"{result.index[0]:%Y-%m-%d %H:%M} .. {result.index[-1]:%H:%M} "
        f"({len(result.index)} intervals); status [bold]{meta.status.value}[/bold], "
        f"solver {meta.solver}, {meta.solve_time_s * 1000:,.0f} ms"
    )
    console.print(f"  forecast: {forecast.description}", markup=False)
    for column, reason in forecast.fallbacks.items():
        console.print(f"    fallback {column}: {reason}", markup=False)
    console.print(kpi_table(result.kpis))
    console.print(
        f"network (AC check): {'ok' if net.ok else f'{net.violations} violation(s)'}; "
        f"V {net.vm_min_pu:.3f}..{net.vm_max_pu:.3f} pu, max line "
        f"{net.max_line_loading_percent:.1f} %, max transformer "
        f"{net.max_trafo_loading_percent:.1f} %, losses {net.losses_kwh / 1000:,.2f} MWh; "
        f"{meta.ac_rounds} tightening round(s)"
    )
    if result.binding:
        console.print("constraints that bound the optimum:")
        for b in result.binding:
            where = f", from {b.first:%H:%M}" if b.first is not None else ""
            count = f"{b.intervals} interval(s)" if b.intervals else "over the horizon"
            console.print(f"  {b.constraint}: {count}{where}", markup=False)
    if result.relaxations:
        console.print("relaxations and data repairs:")
        for r in result.relaxations:
            console.print(f"  {r}", markup=False)
    from controller.plans.check import check_plan

    report = check_plan(site, result)
    console.print(f"invariant check: {report}", markup=False)
    console.print(hourly_table(result))


def plan_command(
    site: SiteOption,
    day: Annotated[
        datetime,
        typer.Option("--date", formats=["%Y-%m-%d"], help="the day to plan (YYYY-MM-DD)"),
    ],
    kind: Annotated[
        PlanKind, typer.Option(help="day-ahead: the whole day; intraday: from 12:00")
    ] = PlanKind.DAY_AHEAD,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, csv or json")
    ] = OutputFormat.TABLE,
    out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
    history: HistoryOption = None,
    timezone: TimezoneOption = None,
    forecast: Annotated[
        ForecastSource | None,
        typer.Option(
            help="actual: the history's values of that day as a perfect forecast; model: the "
            "forecaster fitted on the history before that day; default: actual where the "
            "history holds the day, model for a park without history or up to 7 days after it"
        ),
    ] = None,
) -> None:
    """Plan one day of a park and print the KPIs against the policy targets.

    The forecast is the history's own values for that day (a perfect forecast) where the
    history holds the day, else the production forecaster's, fitted on the history before
    the day (a park with little or no history gets fallback baselines, named in the
    report). An intraday plan runs from 12:00 to the end of the day, from the storage
    levels the day-ahead plan expected then, with the day-ahead connection-point schedule as
    the commitment.
    """

    def action() -> None:
        from controller.plans.serialise import plan_to_csv, plan_to_json

        park = park_of(site, history, timezone)
        result, used = make_plan(park, day.date(), kind, forecast)
        if output is OutputFormat.TABLE:
            if out is not None:
                with out.open("w", encoding="utf-8") as handle:
                    print_report(park.site, result, used, Console(file=handle, width=FILE_WIDTH))
            else:
                print_report(park.site, result, used)
            return
        text = plan_to_csv(result) if output is OutputFormat.CSV else plan_to_json(result, 2)
        if out is not None:
            out.write_text(text, encoding="utf-8")
            console.print(f"wrote {out}")
        else:
            typer.echo(text, nl=False)

    run_guarded(action)
