"""The sweep's table (every candidate's KPIs and economics), the recommendation, and the
outputs: ``candidates.csv``, ``candidates.parquet``, ``sizing.json`` and a self-contained
``report.html`` (charts inline, as :mod:`sim.report` builds the replay report).

Annual figures scale the replayed period to a year (:class:`sim.sizing.economics.
Annualisation`: energy terms x 365 / its days, the demand charge x 12 / the billing months it
touches, each billed whole): a period of a few weeks carries its season's bias; the sweep of a
full year has none. The policy targets are read on the replayed period's own ratios.

Beside each candidate's closed loop, the perfect-foresight sizing LP's promise at its sizes
(:mod:`sim.sizing.lp`, where it was solved): its annual savings and NPV, and the gap to
what the closed loop delivered.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.merit import figures
from sim.report import STYLE, _figure
from sim.report_charts import Chart, _png
from sim.sizing.candidates import Candidate
from sim.sizing.economics import Annualisation, Investment, SizingEconomics, appraise
from sim.sizing.evaluate import NO_STORAGE, PERFECT, PRODUCTION, RULE_BASED
from sim.sizing.lp import SizingSolution
from sim.sizing.sweep import REFERENCE, SweepResult
from sites import Site


def _investments(
    site: Site,
    c: Candidate,
    cycles: float,
    battery_discharged_kwh: float,
    thermal_discharged_kwh_th: float,
    annual: Annualisation,
) -> list[Investment]:
    """The candidate's technologies with what they did in the period, scaled to a year."""
    pv_now = sum(x.peak_kw for x in site.assets.pv)
    wind_now = sum(x.rated_kw * x.count for x in site.assets.wind)
    return [
        Investment(
            "battery",
            c.battery_kwh,
            c.battery_kw,
            cycles_per_year=cycles * annual.energy,
            discharged_kwh_per_year=battery_discharged_kwh * annual.energy,
        ),
        Investment(
            "thermal",
            c.tank_total_kwh_th,
            discharged_kwh_per_year=thermal_discharged_kwh_th * annual.energy,
        ),
        Investment("pv", power_kw=max(c.pv_scale - 1.0, 0.0) * pv_now),
        Investment("wind", power_kw=max(c.wind_scale - 1.0, 0.0) * wind_now),
    ]


def _run_investments(
    site: Site, c: Candidate, run: Mapping[str, Any], annual: Annualisation
) -> list[Investment]:
    return _investments(
        site,
        c,
        run["battery_equivalent_full_cycles"],
        run["battery_discharged_kwh"],
        run["thermal_discharged_kwh_th"],
        annual,
    )


def annual_cost(run: Mapping[str, Any], annual: Annualisation) -> float:
    """A replay's total cost scaled to a year (its demand charge by the billing months)."""
    return annual.cost(run["total_cost_cny"], run["demand_charge_cny"])


def candidate_table(
    site: Site,
    result: SweepResult,
    economics: SizingEconomics,
    annual: Annualisation,
    lp: Mapping[Candidate, SizingSolution] | None = None,
) -> pd.DataFrame:
    """One row per finished candidate: sizes, KPIs of each policy, economics, and the sizing
    LP's promise at its sizes where ``lp`` holds it."""
    lp = lp or {}
    reference = result.baselines.get(REFERENCE)
    reference_annual = annual_cost(reference["runs"][NO_STORAGE], annual) if reference else np.nan
    rows = []
    for c in result.candidates:
        record = result.records.get(c)
        if record is None:
            continue
        runs = record["runs"]
        prod = runs[PRODUCTION]
        baseline = result.baselines.get(c.renewables)
        bare = baseline["runs"][NO_STORAGE] if baseline else None
        # the shares of the storage value on a year's costs: over a week, a whole month's
        # demand charge would weigh as much as the week's energy
        costs = {name: annual_cost(run, annual) for name, run in runs.items()}
        if bare is not None:
            costs[NO_STORAGE] = annual_cost(bare, annual)
        merit = figures(costs)
        row: dict[str, Any] = {
            "candidate": c.label,
            "battery_kwh": c.battery_kwh,
            "battery_kw": c.battery_kw,
            "battery_duration_h": c.battery_kwh / c.battery_kw if c.battery_kw else 0.0,
            **{f"tank_{name}_kwh_th": kwh for name, kwh in c.tank_kwh_th},
            "tank_total_kwh_th": c.tank_total_kwh_th,
            "pv_scale": c.pv_scale,
            "wind_scale": c.wind_scale,
        }
        for name, run in runs.items():
            prefix = name.replace("-", "_")
            row[f"{prefix}_total_cost_cny"] = run["total_cost_cny"]
            row[f"{prefix}_demand_charge_cny"] = run["demand_charge_cny"]
            row[f"{prefix}_self_consumption_ratio"] = run["self_consumption_ratio"]
            row[f"{prefix}_export_ratio"] = run["export_ratio"]
            row[f"{prefix}_meets_targets"] = run["meets_targets"]
        row["no_storage_total_cost_cny"] = bare["total_cost_cny"] if bare else np.nan
        row["reference_annual_cost_cny"] = reference_annual
        row["co2_kg"] = prod["co2_kg"]
        row["co2_avoided_vs_no_storage_kg"] = (bare["co2_kg"] - prod["co2_kg"]) if bare else np.nan
        row["battery_full_cycles_per_year"] = prod["battery_equivalent_full_cycles"] * annual.energy
        row["network_violations"] = prod["network_violations"]
        row["setpoints_not_followed"] = prod["setpoints_not_followed"]
        row["storage_value_captured"] = merit[PRODUCTION]["storage_value_captured"]
        if RULE_BASED in merit:
            row["rule_based_storage_value_captured"] = merit[RULE_BASED]["storage_value_captured"]
        if PERFECT in merit:
            row["share_of_perfect"] = merit[PRODUCTION]["share_of_perfect"]
        investments = _run_investments(site, c, prod, annual)
        appraisal = appraise(economics, investments, reference_annual - costs[PRODUCTION])
        row.update(appraisal.as_dict())
        if PERFECT in runs:  # what the perfect-foresight replay promised at this size
            promised = appraise(
                economics,
                _run_investments(site, c, runs[PERFECT], annual),
                reference_annual - costs[PERFECT],
            )
            row["perfect_npv_cny"] = promised.npv_cny
            row["perfect_annual_savings_cny"] = promised.annual_savings_cny
        bound = lp.get(c)
        if bound is not None:  # what the sizing LP promised at this size
            lp_appraisal = appraise(
                economics,
                _investments(
                    site,
                    c,
                    bound.battery_equivalent_full_cycles,
                    bound.battery_discharged_kwh,
                    bound.thermal_discharged_kwh_th,
                    annual,
                ),
                reference_annual - bound.annual_operating_cost_cny,
            )
            row["lp_annual_savings_cny"] = lp_appraisal.annual_savings_cny
            row["lp_npv_cny"] = lp_appraisal.npv_cny
            row["lp_gap_npv_cny"] = lp_appraisal.npv_cny - appraisal.npv_cny
            # the share of the value the LP promised at this size that the closed loop
            # delivered (both on a year's costs against the reference)
            promised_value = reference_annual - bound.annual_operating_cost_cny
            row["lp_value_captured"] = (
                (reference_annual - costs[PRODUCTION]) / promised_value
                if promised_value
                else np.nan
            )
            row["lp_self_consumption_ratio"] = bound.self_consumption_ratio
            row["lp_export_ratio"] = bound.export_ratio
            row["lp_meets_targets"] = bool(
                bound.self_consumption_ratio >= site.policy.min_self_consumption_ratio - RATIO_TOL
                and bound.export_ratio <= site.policy.max_export_ratio + RATIO_TOL
            )
        row["inputs_hash"] = result.keys[c]
        row["code_version"] = record.get("code_version", "")
        rows.append(row)
    return pd.DataFrame(rows)


RATIO_TOL = 1e-6
"""The LP holds a target to the solver's feasibility tolerance: a ratio on the target meets it."""


@dataclass(frozen=True)
class Recommendation:
    candidate: str | None
    reason: str
    perfect_choice: str | None
    """What the perfect-foresight replays alone would have chosen by the same rule."""
    build_out: str | None
    """The largest renewable build-out the policy targets allow, and its storage."""
    lp_choice: str | None = None
    """What the sizing LP's promises alone would have chosen among the candidates."""
    lp_optimum: str | None = None
    """The sizing LP's own optimum (continuous sizes) and what it promised."""

    def as_dict(self) -> dict[str, str | None]:
        return dict(vars(self))


def _choose(table: pd.DataFrame, meets: str, npv: str) -> tuple[int | None, str]:
    if table.empty:
        return None, "no candidate finished"
    meeting = table[table[meets].astype(bool)]
    if meeting.empty:
        return None, "no candidate meets the policy targets"
    paying = meeting[meeting[npv] > 0]
    if not paying.empty:
        return int(paying[npv].idxmax()), "the largest NPV among those meeting the policy targets"
    return (
        int(meeting["annualised_cost_cny"].idxmin()),
        "none meeting the targets pays back: the cheapest (annualised cost) meeting them",
    )


def _label(table: pd.DataFrame, index: int | None) -> str | None:
    return None if index is None else str(table.loc[index, "candidate"])


def recommend(table: pd.DataFrame, lp_optimum: str | None = None) -> Recommendation:
    best, reason = _choose(table, "production_meets_targets", "npv_cny")
    perfect = None
    if "perfect_npv_cny" in table.columns:
        perfect = _label(table, _choose(table, "perfect_meets_targets", "perfect_npv_cny")[0])
    lp = None
    if "lp_npv_cny" in table.columns:
        known = table[table["lp_npv_cny"].notna()]
        lp = _label(known, _choose(known, "lp_meets_targets", "lp_npv_cny")[0])
    build_out = None
    if not table.empty:
        meeting = table[table["production_meets_targets"].astype(bool)]
        if not meeting.empty:
            top = meeting.sort_values(["pv_scale", "wind_scale"]).iloc[-1]
            allowed = meeting[
                (meeting["pv_scale"] == top["pv_scale"])
                & (meeting["wind_scale"] == top["wind_scale"])
            ]
            cheapest = allowed.loc[allowed["annualised_cost_cny"].idxmin()]
            build_out = (
                f"PV x{top['pv_scale']:g}, wind x{top['wind_scale']:g}, with "
                f"{cheapest['candidate']} (the cheapest storage meeting the targets there)"
            )
    return Recommendation(_label(table, best), reason, perfect, build_out, lp, lp_optimum)


def lp_optimum_summary(
    site: Site,
    economics: SizingEconomics,
    annual: Annualisation,
    reference: Mapping[str, Any] | None,
    solution: SizingSolution,
) -> str:
    """The LP's optimum as a sentence: its sizes, its promised savings and NPV against the
    reference (the park without storage under the rules), its policy ratios."""
    c = solution.candidate
    text = (
        f"{c.label} (self-consumption {solution.self_consumption_ratio:.3f}, export "
        f"{solution.export_ratio:.3f}"
    )
    if reference is None:
        return text + ")"
    appraisal = appraise(
        economics,
        _investments(
            site,
            c,
            solution.battery_equivalent_full_cycles,
            solution.battery_discharged_kwh,
            solution.thermal_discharged_kwh_th,
            annual,
        ),
        annual_cost(reference["runs"][NO_STORAGE], annual) - solution.annual_operating_cost_cny,
    )
    return (
        f"{text}; promised savings {appraisal.annual_savings_cny / 1e6:,.2f} M CNY/a, NPV "
        f"{appraisal.npv_cny / 1e6:,.2f} M CNY)"
    )


def pareto_front(table: pd.DataFrame) -> pd.Series:
    """Candidates no other beats on both annualised cost (lower) and self-consumption."""
    cost = table["annualised_cost_cny"] - table["annual_savings_cny"]
    ratio = table["production_self_consumption_ratio"]
    return pd.Series(
        [
            not bool(
                (
                    (cost <= cost[i])
                    & (ratio >= ratio[i])
                    & ((cost < cost[i]) | (ratio > ratio[i]))
                ).any()
            )
            for i in table.index
        ],
        index=table.index,
    )


def _pareto_chart(table: pd.DataFrame, target: float) -> Chart:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    net = (table["annualised_cost_cny"] - table["annual_savings_cny"]) / 1e6
    front = pareto_front(table)
    ax.scatter(net, table["production_self_consumption_ratio"], c="tab:blue", label="candidate")
    ax.scatter(
        net[front],
        table["production_self_consumption_ratio"][front],
        c="tab:red",
        label="Pareto front",
    )
    for i in table.index:
        short = f"{table.loc[i, 'battery_kwh'] / 1000:g} MWh"
        if table.loc[i, "pv_scale"] != 1.0 or table.loc[i, "wind_scale"] != 1.0:
            short += f" PV x{table.loc[i, 'pv_scale']:g} wind x{table.loc[i, 'wind_scale']:g}"
        ax.annotate(short, (net[i], table.loc[i, "production_self_consumption_ratio"]), fontsize=7)
    if len(table):
        ax.axhline(target, color="grey", linestyle="--", label=f"target {target:g}")
    ax.set_xlabel("net annualised cost: storage cost - savings [M CNY/a]")
    ax.set_ylabel("renewable self-consumption ratio (production)")
    ax.legend()
    png = _png(fig)
    plt.close(fig)
    return Chart(
        "Pareto: annualised cost against self-consumption", png, {"front": str(int(front.sum()))}
    )


def _npv_chart(table: pd.DataFrame) -> Chart:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    # one line per thermal size, renewables and battery duration; the candidates without a
    # battery start every line of their thermal size and renewables
    bare = table[table["battery_kwh"] == 0]
    sized = table[table["battery_kwh"] > 0]
    same = ["tank_total_kwh_th", "pv_scale", "wind_scale"]
    groups = (
        sized.groupby([*same, "battery_duration_h"])
        if not sized.empty
        else bare.groupby([*same, "battery_duration_h"])
    )
    for keys, part in groups:
        tank, pv, wind, hours = (float(k) for k in cast(tuple[Any, ...], keys))
        start = bare[(bare[same] == [tank, pv, wind]).all(axis=1)]
        part = pd.concat([start, part]) if not sized.empty else part
        part = part.sort_values("battery_kwh")
        label = f"tanks {tank / 1000:g} MWh_th, PV x{pv:g}, wind x{wind:g}, {hours:g} h"
        ax.plot(part["battery_kwh"] / 1000, part["npv_cny"] / 1e6, marker="o", label=label)
        if "perfect_npv_cny" in part.columns:
            ax.plot(
                part["battery_kwh"] / 1000,
                part["perfect_npv_cny"] / 1e6,
                marker="x",
                linestyle=":",
                color=ax.lines[-1].get_color(),
                label=f"{label} (perfect)",
            )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("battery energy [MWh]")
    ax.set_ylabel("NPV [M CNY]")
    ax.legend(fontsize=7)
    png = _png(fig)
    plt.close(fig)
    return Chart("NPV against battery size (closed loop; dotted: perfect foresight)", png)


TABLE_COLUMNS = (
    "candidate",
    "npv_cny",
    "lp_npv_cny",
    "lp_gap_npv_cny",
    "lp_value_captured",
    "perfect_npv_cny",
    "irr",
    "simple_payback_years",
    "annualised_cost_cny",
    "annual_savings_cny",
    "lcos_battery_cny_per_kwh",
    "production_self_consumption_ratio",
    "production_export_ratio",
    "production_meets_targets",
    "rule_based_self_consumption_ratio",
    "storage_value_captured",
    "rule_based_storage_value_captured",
    "battery_full_cycles_per_year",
    "co2_avoided_vs_no_storage_kg",
    "network_violations",
)


def _table_html(table: pd.DataFrame) -> str:
    shown = [c for c in TABLE_COLUMNS if c in table.columns]
    head = "".join(f"<th scope=col>{html.escape(c.replace('_', ' '))}</th>" for c in shown[1:])
    body = []
    for _, row in table.sort_values("npv_cny", ascending=False).iterrows():
        cells = []
        for c in shown:
            v = row[c]
            if c == "candidate":
                cells.append(f"<th scope=row>{html.escape(str(v))}</th>")
            elif isinstance(v, (bool, np.bool_)):
                cells.append(f"<td>{'yes' if v else 'no'}</td>")
            else:
                cells.append(f"<td>{float(v):,.4g}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def html_report(
    site: Site,
    table: pd.DataFrame,
    rec: Recommendation,
    result: SweepResult,
    economics: SizingEconomics,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    charts = (
        [_pareto_chart(table, site.policy.min_self_consumption_ratio), _npv_chart(table)]
        if not table.empty
        else []
    )
    failures = "".join(
        f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.failures.items()
    )
    settings = html.escape(json.dumps(result.settings, indent=1, default=str))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Storage sizing {html.escape(site.id)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Storage sizing of {html.escape(site.name)}</h1>"
        f"<p>Period {html.escape(result.settings.get('start', ''))} to "
        f"{html.escape(result.settings.get('end', ''))}; every candidate replayed in closed "
        "loop through the production controller (forecasts from the past only), beside the "
        "rule-based policy at the same size, the perfect-foresight bound and the park without "
        "storage, and the sizing LP's promise at each size (lp npv; lp gap npv: what it promised "
        "beyond what the closed loop delivered). Annual figures scale the period to a year "
        "(the demand charge by the billing months it touches).</p>"
        f"<h2>Recommendation</h2><p><b>{html.escape(rec.candidate or 'none')}</b>: "
        f"{html.escape(rec.reason)}.</p>"
        f"<p>The sizing LP's optimum (perfect foresight, sizes as variables): "
        f"{html.escape(rec.lp_optimum or 'not solved')}.</p>"
        f"<p>What the sizing LP's promises alone would have chosen among the candidates: "
        f"{html.escape(rec.lp_choice or 'none')}; the perfect-foresight replays alone: "
        f"{html.escape(rec.perfect_choice or 'none')}.</p>"
        f"<p>Largest renewable build-out the policy targets allow: "
        f"{html.escape(rec.build_out or 'none of the candidates meets the targets')}.</p>"
        f"<h2>Candidates</h2>{_table_html(table) if not table.empty else '<p>none finished</p>'}"
        + (f"<h2>Failed candidates</h2><ul>{failures}</ul>" if failures else "")
        + f"<h2>Charts</h2>{''.join(_figure(c) for c in charts)}"
        f"<h2>Economics</h2><pre>{html.escape(economics.model_dump_json(indent=1))}</pre>"
        f"<h2>Settings and provenance</h2><pre>{settings}</pre></body></html>"
    )


def write_outputs(
    site: Site,
    result: SweepResult,
    economics: SizingEconomics,
    annual: Annualisation,
    out: Path,
    lp: Mapping[Candidate, SizingSolution] | None = None,
    lp_optimum: SizingSolution | None = None,
) -> tuple[pd.DataFrame, Recommendation, dict[str, Path]]:
    table = candidate_table(site, result, economics, annual, lp)
    summary = None
    if lp_optimum is not None:
        summary = lp_optimum_summary(
            site, economics, annual, result.baselines.get(REFERENCE), lp_optimum
        )
    rec = recommend(table, summary)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "csv": out / "candidates.csv",
        "parquet": out / "candidates.parquet",
        "json": out / "sizing.json",
        "report": out / "report.html",
    }
    stamped = table.assign(
        settings=json.dumps(result.settings, default=str),
        economics=economics.model_dump_json(),
    )
    stamped.to_csv(written["csv"], index=False)
    stamped.to_parquet(written["parquet"], index=False)
    written["json"].write_text(
        json.dumps(
            {
                "recommendation": rec.as_dict(),
                "lp_optimum": None if lp_optimum is None else lp_optimum.as_dict(),
                "settings": result.settings,
                "economics": economics.model_dump(),
                "failures": result.failures,
                "ran": result.ran,
                "reused": result.reused,
                "wall_time_s": result.wall_time_s,
            },
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    written["report"].write_text(html_report(site, table, rec, result, economics), encoding="utf-8")
    return table, rec, written
