"""Replay outputs: per-interval Parquet, KPIs as JSON and a table, a self-contained HTML report.

The report's tables are :mod:`sim.report_tables` (themes, words, units, formatting), its
charts :mod:`sim.report_charts`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from sim import report_charts, report_tables
from sim.replay import ReplayResult
from sites import Site

ADHERENCE_ROWS = (
    "intervals_committed",
    "intervals_within_band",
    "share_within_band",
    "energy_outside_band_kwh",
)
"""Adherence to the committed schedule, as KPI rows (NaN for a policy that commits none)."""
SLUG_CHARS = str.maketrans({" ": "_", "(": "", ")": "", "+": "plus", "-": "_"})


def slug(name: str) -> str:
    return name.translate(SLUG_CHARS)


def kpi_table(results: Sequence[ReplayResult]) -> pd.DataFrame:
    """One column per policy, one row per KPI and counter."""
    data = {}
    for r in results:
        values = dict(r.kpis.as_dict())
        values.update(
            {f"count_{k}": float(v) for k, v in vars(r.counters).items() if not isinstance(v, dict)}
        )
        adherence = r.adherence.as_dict() if r.adherence is not None else {}
        values.update({f"schedule_{k}": adherence.get(k, float("nan")) for k in ADHERENCE_ROWS})
        data[r.policy] = values
    return pd.DataFrame(data)


def write_outputs(
    site: Site,
    runs: Mapping[str, ReplayResult],
    out: Path,
    merit: pd.DataFrame | None = None,
    monthly: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Per-interval Parquet per policy, ``kpis.json`` and ``report.html`` in ``out``
    (``runs`` by run name, as :func:`sim.run.run_policies` makes them; ``merit`` and
    ``monthly``: see :class:`sim.run.RunResult`)."""
    results = list(runs.values())
    merit = merit if merit is not None else pd.DataFrame()
    monthly = monthly if monthly is not None else pd.DataFrame()
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for r in results:
        path = out / f"intervals_{slug(r.policy)}.parquet"
        r.frame.to_parquet(path)
        written[f"intervals {r.policy}"] = path
    table = kpi_table(results)
    kpis_path = out / "kpis.json"
    kpis_path.write_text(
        json.dumps(
            {
                "site": site.id,
                "kpis": {p: table[p].to_dict() for p in table.columns},
                "merit": {p: merit[p].to_dict() for p in merit.columns},
                "monthly_total_cost_cny": {p: monthly[p].to_dict() for p in monthly.columns},
                "provenance": {r.policy: r.provenance for r in results},
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    written["kpis"] = kpis_path
    report = out / "report.html"
    report.write_text(html_report(site, runs, table, merit, monthly), encoding="utf-8")
    written["report"] = report
    return written


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1200px}"
    "td,th{padding:2px 10px;text-align:right;white-space:nowrap}th[scope=row]{text-align:left}"
    "th[scope=col]{white-space:normal;max-width:11em;vertical-align:bottom}"
    "table{border-collapse:collapse;margin-bottom:1em}tr:nth-child(even){background:#eee}"
    "img{max-width:100%}figure{margin:1em 0}"
)


def _figure(chart: report_charts.Chart) -> str:
    facts = "".join(f" data-{html.escape(k)}='{html.escape(v)}'" for k, v in chart.facts.items())
    title = html.escape(chart.title)
    return (
        f"<figure><figcaption><h3>{title}</h3></figcaption>"
        f"<img alt='{title}'{facts} src='data:image/png;base64,{chart.png_base64}'></figure>"
    )


def html_report(
    site: Site,
    runs: Mapping[str, ReplayResult],
    table: pd.DataFrame,
    merit: pd.DataFrame,
    monthly: pd.DataFrame,
) -> str:
    import matplotlib

    matplotlib.use("Agg")

    results = list(runs.values())
    main = results[0]
    index = pd.DatetimeIndex(main.frame.index)
    charts = [report_charts.monthly_sources_chart(site, main)]
    charts += [
        report_charts.dispatch_chart(site, main, label, first, last)
        for label, first, last in report_charts.dispatch_windows(index)
    ]
    charts += [
        report_charts.cumulative_cost_chart(site, runs),
        report_charts.monthly_self_consumption_chart(site, runs),
        report_charts.targets_chart(site, table),
    ]
    last = index[-1] + pd.Timedelta(minutes=15) if len(index) else None
    period = f"{index[0]:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}" if last is not None else ""
    prov = html.escape(json.dumps({r.policy: r.provenance for r in results}, indent=1))
    merit_html = (
        "<h2>Against the bound: regret, share of perfect, storage value captured</h2>"
        + report_tables.merit_table_html(merit)
        if not merit.empty
        else ""
    )
    monthly_html = (
        f"<h2>Total cost per month</h2>{report_tables.monthly_cost_table_html(monthly)}"
        if not monthly.empty
        else ""
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Replay {html.escape(site.id)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Replay of {html.escape(site.name)}</h1>"
        f"<p>Period: {html.escape(period)} (park local time, "
        f"{html.escape(site.location.timezone)})."
        f" Policies: {html.escape(', '.join(r.policy for r in results))}.</p>"
        f"<h2>KPIs by theme</h2>{report_tables.kpi_tables_html(table)}"
        f"{merit_html}{monthly_html}"
        f"<h2>Charts</h2>{''.join(_figure(c) for c in charts)}"
        f"<h2>Provenance</h2><pre>{prov}</pre></body></html>"
    )
