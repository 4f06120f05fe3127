"""The replay report's tables: each KPI with its theme, words and unit, numbers formatted for
a reader (thousands separators, ratios as per cent, the unit beside every number)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd


class Theme(StrEnum):
    ENERGY = "Energy"
    COST = "Cost"
    POLICY = "Policy targets"
    SCHEDULE = "Committed schedule"
    CARBON = "Carbon"
    SHORTFALLS = "What the plant could not do"
    OTHER = "Other figures"


@dataclass(frozen=True)
class Unit:
    label: str
    scale: float = 1.0
    """Factor from the stored value to the shown number (100 for a ratio shown in per cent)."""
    decimals: int | None = None
    """Fixed decimals (per cent: 1, counts: 0); ``None``: by magnitude."""


KWH = Unit("kWh")
KWH_TH = Unit("kWh th")
KW = Unit("kW")
CNY = Unit("CNY")
KG_CO2 = Unit("kg CO2")
RATIO_PERCENT = Unit("%", 100.0, decimals=1)
PERCENT = Unit("%", decimals=1)
CYCLES = Unit("cycles")
COUNT = Unit("", decimals=0)


@dataclass(frozen=True)
class Row:
    theme: Theme
    label: str
    unit: Unit


ROWS: dict[str, Row] = {
    # energy
    "renewable_available_kwh": Row(Theme.ENERGY, "Renewable generation available", KWH),
    "renewable_used_on_site_kwh": Row(Theme.ENERGY, "Renewable energy used on site", KWH),
    "curtailed_kwh": Row(Theme.ENERGY, "Renewable energy curtailed", KWH),
    "import_kwh": Row(Theme.ENERGY, "Grid import", KWH),
    "export_kwh": Row(Theme.ENERGY, "Grid export", KWH),
    "peak_import_kw": Row(Theme.ENERGY, "Peak 15-minute import", KW),
    "heat_demand_kwh_th": Row(Theme.ENERGY, "Heat demand", KWH_TH),
    "battery_equivalent_full_cycles": Row(Theme.ENERGY, "Battery equivalent full cycles", CYCLES),
    # cost
    "energy_cost_cny": Row(Theme.COST, "Energy bought", CNY),
    "demand_charge_cny": Row(Theme.COST, "Demand charge", CNY),
    "degradation_cost_cny": Row(Theme.COST, "Battery degradation", CNY),
    "fuel_cost_cny": Row(Theme.COST, "Boiler fuel", CNY),
    "export_revenue_cny": Row(Theme.COST, "Export revenue (subtracted)", CNY),
    "deviation_cost_cny": Row(Theme.COST, "Deviation from the committed schedule", CNY),
    "lost_production_cny": Row(Theme.COST, "Lost production (heat not delivered)", CNY),
    "total_cost_cny": Row(Theme.COST, "Total cost", CNY),
    # policy
    "self_consumption_ratio": Row(Theme.POLICY, "Renewable self-consumption", RATIO_PERCENT),
    "min_self_consumption_ratio": Row(
        Theme.POLICY, "Self-consumption target (at least)", RATIO_PERCENT
    ),
    "export_ratio": Row(Theme.POLICY, "Renewable export ratio", RATIO_PERCENT),
    "max_export_ratio": Row(Theme.POLICY, "Export ratio limit (at most)", RATIO_PERCENT),
    "renewable_share_of_consumption": Row(
        Theme.POLICY, "Renewable share of consumption", RATIO_PERCENT
    ),
    # the committed day-ahead schedule
    "schedule_intervals_committed": Row(Theme.SCHEDULE, "Intervals committed", COUNT),
    "schedule_intervals_within_band": Row(Theme.SCHEDULE, "Intervals within the band", COUNT),
    "schedule_share_within_band": Row(Theme.SCHEDULE, "Share within the band", RATIO_PERCENT),
    "schedule_energy_outside_band_kwh": Row(Theme.SCHEDULE, "Energy outside the band", KWH),
    # carbon
    "co2_kg": Row(Theme.CARBON, "CO2 emitted (grid import and fuel)", KG_CO2),
    "co2_avoided_kg": Row(Theme.CARBON, "CO2 avoided by renewables used on site", KG_CO2),
    # what the plant could not do
    "heat_unmet_kwh_th": Row(Theme.SHORTFALLS, "Heat demand not met", KWH_TH),
    "deviation_outside_band_kwh": Row(Theme.SHORTFALLS, "Energy outside the schedule's band", KWH),
    "count_setpoints_not_followed": Row(Theme.SHORTFALLS, "Setpoints not followed", COUNT),
    "count_boiler_backup_kwh_th": Row(Theme.SHORTFALLS, "Boiler backup heat", KWH_TH),
    "count_heat_unmet_kwh_th": Row(Theme.SHORTFALLS, "Heat not delivered by the plant", KWH_TH),
    "count_heat_dumped_kwh_th": Row(Theme.SHORTFALLS, "Heat dumped", KWH_TH),
    "count_grid_limit_violations": Row(Theme.SHORTFALLS, "Grid limit violations", COUNT),
    "count_peak_guard_kwh": Row(Theme.SHORTFALLS, "Battery energy moved to hold the peak", KWH),
    "count_heat_pump_shed_kwh": Row(
        Theme.SHORTFALLS, "Heat-pump input given to boilers to hold the peak", KWH
    ),
    "count_network_violations": Row(Theme.SHORTFALLS, "Network violations (AC check)", COUNT),
    "count_intervals_not_converged": Row(Theme.SHORTFALLS, "Power flows not converged", COUNT),
    "count_plans_made": Row(Theme.SHORTFALLS, "Plans made", COUNT),
    "count_plans_failing_check": Row(Theme.SHORTFALLS, "Plans failing the check", COUNT),
}
MERIT_ROWS: dict[str, Row] = {
    "total_cost_cny": Row(Theme.COST, "Total cost", CNY),
    "regret_cny": Row(Theme.COST, "Regret (cost above the bound)", CNY),
    "regret_percent": Row(Theme.COST, "Regret, share of the bound's cost", PERCENT),
    "share_of_perfect": Row(Theme.COST, "Share of perfect (bound / cost)", RATIO_PERCENT),
    "storage_value_captured": Row(Theme.COST, "Storage value captured", RATIO_PERCENT),
    "regret_of_energy_cost_cny": Row(Theme.COST, "Regret in energy cost", CNY),
    "regret_of_demand_charge_cny": Row(Theme.COST, "Regret in demand charge", CNY),
    "regret_of_degradation_cost_cny": Row(Theme.COST, "Regret in degradation", CNY),
    "regret_of_fuel_cost_cny": Row(Theme.COST, "Regret in fuel", CNY),
    "regret_of_export_revenue_cny": Row(Theme.COST, "Regret in export revenue", CNY),
    "regret_of_deviation_cost_cny": Row(
        Theme.COST, "Regret in deviation from the schedule (forecast error)", CNY
    ),
    "regret_of_lost_production_cny": Row(Theme.COST, "Regret in lost production", CNY),
}
SUFFIX_UNITS = (
    ("_kwh_th", KWH_TH),
    ("_kwh", KWH),
    ("_kw", KW),
    ("_cny", CNY),
    ("_kg", KG_CO2),
    ("_ratio", RATIO_PERCENT),
    ("_percent", PERCENT),
)
NOT_APPLICABLE = "–"
"""Shown for NaN: a figure the policy has none of (a schedule it did not commit)."""


def row_of(name: str) -> Row:
    """The theme, words and unit of a KPI row; a row the report does not know yet is shown
    under "Other figures" with the unit its name ends in."""
    if name in ROWS:
        return ROWS[name]
    unit = next((u for suffix, u in SUFFIX_UNITS if name.endswith(suffix)), COUNT)
    return Row(Theme.OTHER, name.replace("_", " "), unit)


def format_value(value: float, unit: Unit) -> str:
    """``value`` for a reader: thousands separators, at most three significant digits after
    the point, the unit after it (``"68,910 kWh"``, ``"61.2 %"``, ``"2.11 cycles"``)."""
    if math.isnan(value):
        return NOT_APPLICABLE
    shown = float(value) * unit.scale
    magnitude = abs(shown)
    if unit.decimals is not None:
        text = f"{shown:,.{unit.decimals}f}"
    elif magnitude >= 100 or magnitude < 0.005:
        text = f"{shown:,.0f}"
    elif magnitude >= 10:
        text = f"{shown:,.1f}"
    else:
        text = f"{shown:,.2f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]
    return f"{text} {unit.label}".rstrip()


def _rows_html(table: pd.DataFrame, rows: dict[str, Row]) -> str:
    return "".join(
        f"<tr><th scope='row'>{html.escape(rows[name].label)}</th>"
        + "".join(
            f"<td data-kpi='{html.escape(str(name))}'>"
            f"{html.escape(format_value(float(v), rows[name].unit))}</td>"
            for v in table.loc[name].to_numpy(dtype=float)
        )
        + "</tr>"
        for name in rows
    )


def _head(table: pd.DataFrame, corner: str) -> str:
    cells = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in table.columns)
    return f"<tr><th>{html.escape(corner)}</th>{cells}</tr>"


def kpi_tables_html(table: pd.DataFrame) -> str:
    """One table per theme (rows in the order of :data:`ROWS`, unknown rows last)."""
    by_theme: dict[Theme, dict[str, Row]] = {theme: {} for theme in Theme}
    for name in sorted(table.index, key=lambda n: list(ROWS).index(n) if n in ROWS else len(ROWS)):
        row = row_of(str(name))
        by_theme[row.theme][str(name)] = row
    parts = []
    for theme, rows in by_theme.items():
        if rows:
            parts.append(
                f"<h3>{html.escape(theme.value)}</h3><table class='kpis' "
                f"data-theme='{theme.name.lower()}'>{_head(table, 'KPI')}"
                f"{_rows_html(table, rows)}</table>"
            )
    return "".join(parts)


def merit_table_html(merit: pd.DataFrame) -> str:
    rows = {str(n): MERIT_ROWS.get(str(n), row_of(str(n))) for n in merit.index}
    return f"<table class='merit'>{_head(merit, 'figure')}{_rows_html(merit, rows)}</table>"


def monthly_cost_table_html(monthly: pd.DataFrame) -> str:
    rows = {str(n): Row(Theme.COST, str(n), CNY) for n in monthly.index}
    table = monthly.set_axis([str(i) for i in monthly.index])
    return f"<table class='monthly'>{_head(table, 'month')}{_rows_html(table, rows)}</table>"
