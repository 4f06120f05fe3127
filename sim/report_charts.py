"""The replay report's charts (matplotlib, Agg, embedded as PNG).

Each chart also carries what a reader's eye checks, as figures: the dispatch charts their
y-axis range and the stacked totals it must hold, so a test can hold the drawn axis to the
data (``tests/sim/test_report.py``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from controller import billing_months, compute_kpis
from controller import columns as pc
from sim.merit import BOUND
from sim.replay import ReplayResult
from sites import Site, columns
from sites.schema.assets import Fuel
from sites.tariff import site_tariff
from sites.time_step import HOURS_PER_STEP, STEP

WEEK = pd.Timedelta(days=7)
AXIS_PAD_FRACTION = 0.05
"""Room above the highest stack and below the lowest, as a share of the data's span."""
SUMMER_MONTH, WINTER_MONTH = 7, 1


@dataclass(frozen=True)
class Chart:
    title: str
    png_base64: str
    facts: dict[str, str] = field(default_factory=dict)
    """Shown as the image's ``data-*`` attributes (axis ranges, window)."""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _sum(frame: pd.DataFrame, names: list[str]) -> pd.Series:
    return sum((frame[n] for n in names if n in frame.columns), pd.Series(0.0, frame.index))


def sources_uses(site: Site, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Electricity sources and uses of each interval [kW], all non-negative."""
    a = site.assets
    sources = pd.DataFrame(
        {
            "PV": _sum(frame, [columns.pv_kw(x.name) for x in a.pv]),
            "wind": _sum(frame, [columns.wind_kw(x.name) for x in a.wind]),
            "battery discharge": _sum(
                frame, [columns.battery_discharge_kw(b.name) for b in a.batteries]
            ),
            "grid import": frame[pc.GRID_IMPORT_KW],
        }
    )
    uses = pd.DataFrame(
        {
            "loads": _sum(frame, [columns.load_kw(x.name) for x in a.electric_loads]),
            "heat pumps": _sum(frame, [columns.heat_pump_kw(x.name) for x in a.heat_pumps]),
            "electric boilers": _sum(
                frame, [columns.boiler_kw(b.name) for b in a.boilers if b.fuel is Fuel.ELECTRIC]
            ),
            "battery charge": _sum(frame, [columns.battery_charge_kw(b.name) for b in a.batteries]),
            "network losses": _sum(frame, [pc.NETWORK_LOSSES_KW]),
            "grid export": frame[pc.GRID_EXPORT_KW],
        }
    )
    return sources.clip(lower=0.0), uses.clip(lower=0.0)


def dispatch_windows(index: pd.DatetimeIndex) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """The weeks the report charts, each ``(label, first, last interval)``: the first full
    week of July and of January where the period holds one; a period with neither charts
    its first week (or the whole period where shorter)."""
    windows = []
    for label, month in (("Summer week", SUMMER_MONTH), ("Winter week", WINTER_MONTH)):
        in_month = index[index.month == month]
        if len(in_month) and in_month[0] + WEEK - STEP <= index[-1]:
            windows.append((label, in_month[0], in_month[0] + WEEK - STEP))
    if not windows and len(index):
        last = min(index[0] + WEEK - STEP, index[-1])
        windows.append((f"Dispatch {index[0]:%Y-%m-%d} to {last:%Y-%m-%d}", index[0], last))
    return windows


def stacked_range_kw(sources: pd.DataFrame, uses: pd.DataFrame) -> tuple[float, float]:
    """The y-axis range a dispatch chart needs: the lowest stack of uses (negative) and the
    highest of sources, padded by :data:`AXIS_PAD_FRACTION` of the span."""
    top = float(sources.sum(axis=1).max()) if len(sources) else 0.0
    bottom = -float(uses.sum(axis=1).max()) if len(uses) else 0.0
    pad = AXIS_PAD_FRACTION * max(top - bottom, 1.0)
    return bottom - pad, top + pad


def _local(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.tz_localize(None) if index.tz is not None else index


def dispatch_chart(
    site: Site, result: ReplayResult, label: str, first: pd.Timestamp, last: pd.Timestamp
) -> Chart:
    """Sources stacked above zero and uses below, on one axis that fits them; below it the
    batteries' state of charge and the energy price."""
    import matplotlib.pyplot as plt

    frame = result.frame.loc[first:last]
    sources, uses = sources_uses(site, frame)
    x = _local(pd.DatetimeIndex(frame.index))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, height_ratios=(2, 1))
    top.stackplot(x, sources.T.to_numpy(), labels=list(sources.columns), step="post", alpha=0.85)
    top.stackplot(
        x, -uses.T.to_numpy(), labels=list(uses.columns), step="post", alpha=0.85,
        colors=plt.get_cmap("tab20b")(np.linspace(0.1, 0.9, len(uses.columns))),
    )  # fmt: skip
    top.axhline(0.0, color="black", linewidth=0.8)
    low, high = stacked_range_kw(sources, uses)
    top.set_ylim(low, high)
    top.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.set_ylabel("kW (sources above 0, uses below)")
    top.set_title(f"{label} - {result.policy}")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    for b in site.assets.batteries:
        bottom.plot(x, frame[pc.battery_soc_kwh(b.name)], label=f"SoC {b.name} [kWh]")
    bottom.set_ylabel("kWh")
    bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    prices = site_tariff(site).prices(pd.DatetimeIndex(frame.index)).to_numpy()
    twin = bottom.twinx()
    twin.step(x, prices, where="post", color="grey", linewidth=1.0, label="price [CNY/kWh]")
    twin.set_ylabel("CNY/kWh")
    handles = bottom.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    bottom.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8)
    bottom.set_xlabel(f"park local time ({site.location.timezone})")
    fig.autofmt_xdate()
    drawn_low, drawn_high = top.get_ylim()
    chart = Chart(
        label,
        _png(fig),
        {
            "chart": "dispatch",
            "policy": result.policy,
            "window-start": first.isoformat(),
            "window-end": last.isoformat(),
            "y-min-kw": f"{drawn_low:.3f}",
            "y-max-kw": f"{drawn_high:.3f}",
        },
    )
    plt.close(fig)
    return chart


def monthly_sources_chart(site: Site, result: ReplayResult) -> Chart:
    import matplotlib.pyplot as plt

    sources, _ = sources_uses(site, result.frame)
    months = billing_months(pd.DatetimeIndex(sources.index))
    energy_mwh = sources.groupby(months).sum() * HOURS_PER_STEP / 1000
    energy_mwh.index = [str(m) for m in energy_mwh.index]
    fig, ax = plt.subplots(figsize=(10, 3.8))
    energy_mwh.plot.bar(stacked=True, ax=ax, rot=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("MWh")
    ax.set_xlabel("month (park local time)")
    ax.set_title(f"Electricity sources per month - {result.policy}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    chart = Chart("Electricity sources per month", _png(fig), {"chart": "monthly-sources"})
    plt.close(fig)
    return chart


def cumulative_cost_cny(site: Site, frame: pd.DataFrame) -> pd.Series:
    """Total cost (:func:`controller.plans.kpi.compute_kpis`) from the start to the end of each
    day, indexed by the end of the day's last interval, after a 0 at the period's start; the
    last value is the period's total cost."""
    with_prices = frame.assign(
        **{pc.PRICE_CNY_PER_KWH: site_tariff(site).prices(pd.DatetimeIndex(frame.index))}
    )
    local = _local(pd.DatetimeIndex(frame.index))
    ends = np.flatnonzero(np.r_[local[1:].normalize() != local[:-1].normalize(), True])
    costs = [compute_kpis(site, with_prices.iloc[: end + 1]).total_cost_cny for end in ends]
    index = pd.DatetimeIndex(frame.index)
    return pd.Series([0.0, *costs], index=index[:1].append(index[ends] + STEP))


def cumulative_cost_chart(site: Site, results: Mapping[str, ReplayResult]) -> Chart:
    """Cumulative cost of each policy, the bound (perfect foresight) dashed; below it each
    policy's cost above the bound."""
    import matplotlib.pyplot as plt

    curves = {name: cumulative_cost_cny(site, r.frame) for name, r in results.items()}
    bound = curves.get(BOUND)
    rows = 2 if bound is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(10, 3.2 * rows + 0.6), sharex=True, squeeze=False)
    top = axes[0][0]
    for name, curve in curves.items():
        style = {"color": "black", "linestyle": "--"} if name == BOUND else {}
        top.plot(_local(pd.DatetimeIndex(curve.index)), curve / 1000, label=name, **style)
    top.set_ylabel("thousand CNY")
    top.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.set_title("Cumulative cost of each policy against the bound")
    top.legend(loc="upper left", fontsize=8)
    if bound is not None:
        regret = axes[1][0]
        for name, curve in curves.items():
            if name != BOUND:
                regret.plot(
                    _local(pd.DatetimeIndex(curve.index)), (curve - bound) / 1000, label=name
                )
        regret.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
        regret.set_ylabel("above the bound, thousand CNY")
        regret.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.1f}"))
    axes[-1][0].set_xlabel(f"end of day, park local time ({site.location.timezone})")
    fig.autofmt_xdate()
    facts = {"chart": "cumulative-cost"} | {
        f"final-{name}": f"{curve.iloc[-1]:.2f}" for name, curve in curves.items()
    }
    chart = Chart("Cumulative cost against the bound", _png(fig), facts)
    plt.close(fig)
    return chart


def monthly_ratios(site: Site, result: ReplayResult) -> pd.DataFrame:
    """Self-consumption and export ratio of each calendar month (rows ``YYYY-MM``)."""
    months = billing_months(pd.DatetimeIndex(result.frame.index))
    rows = {}
    for month in months.unique():
        kpis = compute_kpis(site, result.frame.iloc[np.flatnonzero(months == month)])
        rows[str(month)] = {
            "self_consumption_ratio": kpis.self_consumption_ratio,
            "export_ratio": kpis.export_ratio,
        }
    return pd.DataFrame(rows).T


def monthly_self_consumption_chart(site: Site, results: Mapping[str, ReplayResult]) -> Chart:
    """Each month's renewable self-consumption per policy against the target, and the
    export ratio against its limit."""
    import matplotlib.pyplot as plt

    ratios = {name: monthly_ratios(site, r) for name, r in results.items()}
    consumed = pd.DataFrame({n: r["self_consumption_ratio"] for n, r in ratios.items()}) * 100
    exported = pd.DataFrame({n: r["export_ratio"] for n, r in ratios.items()}) * 100
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    consumed.plot.bar(ax=top, rot=0)
    target = 100 * site.policy.min_self_consumption_ratio
    top.axhline(target, color="green", linestyle="--", label=f"target, at least {target:.0f} %")
    top.set_ylim(0, 105)
    top.set_ylabel("self-consumption, %")
    top.set_title("Renewable self-consumption per month against the target")
    top.legend(loc="lower left", fontsize=8)
    exported.plot.bar(ax=bottom, rot=0, legend=False)
    limit = 100 * site.policy.max_export_ratio
    bottom.axhline(limit, color="red", linestyle="--", label=f"limit, at most {limit:.0f} %")
    bottom.set_ylim(0, max(limit * 1.5, float(np.nan_to_num(exported.to_numpy()).max()) * 1.1))
    bottom.set_ylabel("export ratio, %")
    bottom.set_xlabel("month (park local time)")
    bottom.legend(loc="upper left", fontsize=8)
    chart = Chart("Self-consumption per month", _png(fig), {"chart": "monthly-self-consumption"})
    plt.close(fig)
    return chart


def targets_chart(site: Site, table: pd.DataFrame) -> Chart:
    import matplotlib.pyplot as plt

    shown = table.loc[["self_consumption_ratio", "export_ratio", "renewable_share_of_consumption"]]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    (shown.T * 100).plot.barh(ax=ax)
    ax.axvline(100 * site.policy.min_self_consumption_ratio, color="green", linestyle="--")
    ax.axvline(100 * site.policy.max_export_ratio, color="red", linestyle="--")
    ax.set_xlabel("% of the renewable generation available (share: of consumption)")
    ax.set_title(
        "Policies against the targets (dashed: self-consumption at least "
        f"{100 * site.policy.min_self_consumption_ratio:.0f} %, export at most "
        f"{100 * site.policy.max_export_ratio:.0f} %)"
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    chart = Chart("Policies against the targets", _png(fig), {"chart": "targets"})
    plt.close(fig)
    return chart
