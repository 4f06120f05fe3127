"""Replay outputs: per-interval Parquet, KPIs as JSON and a table, a self-contained HTML report."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from controller import columns as pc
from sim.replay import ReplayResult
from sites import Site, columns

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
    results: Sequence[ReplayResult],
    out: Path,
    merit: pd.DataFrame | None = None,
    monthly: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Per-interval Parquet per policy, ``kpis.json`` and ``report.html`` in ``out``
    (``merit`` and ``monthly``: see :class:`sim.run.RunResult`)."""
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
    report.write_text(html_report(site, results, table, merit, monthly), encoding="utf-8")
    written["report"] = report
    return written


def _png(fig: object) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buffer.getvalue()).decode()


def _sources_uses(site: Site, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = site.assets
    sources = pd.DataFrame(
        {
            "PV": sum((frame[columns.pv_kw(x.name)] for x in a.pv), pd.Series(0.0, frame.index)),
            "wind": sum(
                (frame[columns.wind_kw(x.name)] for x in a.wind), pd.Series(0.0, frame.index)
            ),
            "battery discharge": sum(
                (frame[columns.battery_discharge_kw(b.name)] for b in a.batteries),
                pd.Series(0.0, frame.index),
            ),
            "grid import": frame[pc.GRID_IMPORT_KW],
        }
    )
    uses = pd.DataFrame(
        {
            "loads": sum(
                (frame[columns.load_kw(x.name)] for x in a.electric_loads),
                pd.Series(0.0, frame.index),
            ),
            "heat pumps": sum(
                (frame[columns.heat_pump_kw(x.name)] for x in a.heat_pumps),
                pd.Series(0.0, frame.index),
            ),
            "battery charge": sum(
                (frame[columns.battery_charge_kw(b.name)] for b in a.batteries),
                pd.Series(0.0, frame.index),
            ),
            "grid export": frame[pc.GRID_EXPORT_KW],
        }
    )
    return sources, uses


def _html_table(table: pd.DataFrame, corner: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th>"
        + "".join(f"<td>{v:,.4g}</td>" for v in table.loc[k])
        + "</tr>"
        for k in table.index
    )
    return f"<table><tr><th>{html.escape(corner)}</th>{head}</tr>{rows}</table>"


def html_report(
    site: Site,
    results: Sequence[ReplayResult],
    table: pd.DataFrame,
    merit: pd.DataFrame,
    monthly: pd.DataFrame,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = results[0]
    sources, uses = _sources_uses(site, main.frame)
    figures: list[tuple[str, str]] = []

    fig, ax = plt.subplots(figsize=(10, 4))
    monthly = sources.resample("MS").sum() * 0.25 / 1000
    monthly.index = pd.DatetimeIndex(monthly.index).strftime("%Y-%m")
    monthly.plot.bar(stacked=True, ax=ax)
    ax.set_ylabel("MWh")
    ax.set_title(f"Monthly electricity sources - {main.policy}")
    figures.append(("Monthly energy balance", _png(fig)))
    plt.close(fig)

    for label, month in (("Summer week", 7), ("Winter week", 1)):
        index = pd.DatetimeIndex(main.frame.index)
        in_month = index[index.month == month]
        if len(in_month) < 7 * 96:
            continue
        week = slice(in_month[0], in_month[0] + pd.Timedelta(days=7) - pd.Timedelta(minutes=15))
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
        sources.loc[week].plot.area(ax=top, linewidth=0)
        (-uses.loc[week]).plot.area(ax=top, linewidth=0)
        top.set_ylabel("kW (uses negative)")
        top.set_title(f"{label} of dispatch - {main.policy}")
        for b in site.assets.batteries:
            main.frame.loc[week, pc.battery_soc_kwh(b.name)].plot(ax=bottom, label=f"SoC {b.name}")
        if pc.PRICE_CNY_PER_KWH in main.frame.columns:
            main.frame.loc[week, pc.PRICE_CNY_PER_KWH].plot(
                ax=bottom.twinx(), color="grey", label="price"
            )
        bottom.set_ylabel("kWh")
        bottom.legend(loc="upper left")
        figures.append((label, _png(fig)))
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 3.5))
    table.loc[
        ["self_consumption_ratio", "export_ratio", "renewable_share_of_consumption"]
    ].T.plot.barh(ax=ax)
    ax.axvline(site.policy.min_self_consumption_ratio, color="green", linestyle="--")
    ax.axvline(site.policy.max_export_ratio, color="red", linestyle="--")
    ax.set_title("Policies against the targets")
    figures.append(("KPI comparison", _png(fig)))
    plt.close(fig)

    images = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{d}'>"
        for t, d in figures
    )
    prov = html.escape(json.dumps({r.policy: r.provenance for r in results}, indent=1))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Replay {html.escape(site.id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "text-align:right}table{border-collapse:collapse}tr:nth-child(even){background:#eee}"
        "</style></head><body>"
        f"<h1>Replay of {html.escape(site.name)}</h1>"
        f"{_html_table(table, 'KPI')}"
        "<h2>Against the bound: regret, share of perfect, storage value captured</h2>"
        f"{_html_table(merit, 'figure')}"
        f"<h2>Total cost per month [CNY]</h2>{_html_table(monthly, 'month')}"
        f"{images}<h2>Provenance</h2><pre>{prov}</pre></body></html>"
    )
