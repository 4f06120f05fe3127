"""A picture of a backtest: skill against each baseline, and the P10-P90 coverage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forecasting.backtest import BUCKETS, BacktestResult
from forecasting.baselines import Baseline

COVERAGE_TARGET = (0.70, 0.90)  # the acceptance band around the nominal 80 %


def plot_backtest(result: BacktestResult, path: Path) -> Path:
    """Write a PNG: per series and bucket, MAE skill vs. the baselines, and coverage."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    table = result.table
    series = list(dict.fromkeys(table["series"]))
    y = np.arange(len(series))
    fig = Figure(figsize=(14, 0.45 * len(series) + 2.5), layout="constrained")
    axes = fig.subplots(1, len(BUCKETS) + 1, sharey=True)
    height = 0.8 / len(Baseline)
    for ax, bucket in zip(axes, BUCKETS, strict=False):
        rows = table[table["bucket"] == bucket].set_index("series").reindex(series)
        for i, baseline in enumerate(Baseline):
            skill = rows[f"skill_{baseline.value}"].to_numpy(dtype=float)
            ax.barh(y + (i - 1) * height, skill, height, label=baseline.value.replace("_", " "))
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_title(f"MAE skill of P50, {bucket}")
        ax.set_xlabel("1 - MAE / MAE(baseline)")
        lowest = float(np.nanmin(table.filter(like="skill_").to_numpy()))
        ax.set_xlim(left=min(0.0, max(-1.0, lowest - 0.05)))
    axes[0].set_yticks(y, series)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(Baseline), title="baseline")
    coverage_ax = axes[-1]
    coverage_ax.axvspan(*COVERAGE_TARGET, color="tab:green", alpha=0.15)
    coverage_ax.axvline(0.8, color="tab:green", linewidth=0.8)
    for i, bucket in enumerate(BUCKETS):
        rows = table[table["bucket"] == bucket].set_index("series").reindex(series)
        coverage_ax.plot(
            rows["coverage"], y, linestyle="none", marker="os"[i % 2], label=bucket, alpha=0.8
        )
    coverage_ax.set_xlim(0.4, 1.0)
    coverage_ax.set_title("P10-P90 coverage (nominal 80 %)")
    coverage_ax.legend(loc="lower left", fontsize="small")
    fig.suptitle(
        f"{result.site_id}: rolling-origin backtest {result.start} .. {result.end}, "
        f"{result.origins} origins, {result.refits} fits"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
