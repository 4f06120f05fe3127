"""P10 and P90 from empirical quantiles of out-of-sample residuals, by lead time and level.

A fit holds back the last weeks of its history, trains each model on the weeks before, and
forecasts the held-back weeks from rolling origins (a backtest inside the training history).
The residuals ``actual - P50`` of that backtest, divided by the model's scale (the clear-sky
output for PV, 1 otherwise), are grouped by lead-time bucket and by forecast level (terciles
of ``P50 / scale``), and their 10 % and 90 % quantiles become the offsets of P10 and P90 from
P50 — so the band is as wide as the model's errors were, at that lead and that level.
A cell with fewer than ``MIN_CELL_RESIDUALS`` residuals uses its lead bucket's quantiles
over all levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sites.time_step import STEPS_PER_HOUR as _STEPS_PER_HOUR

LEAD_BUCKET_EDGES_H = (1.0, 2.0, 4.0, 8.0, 12.0, 18.0, 24.0, 30.0, 36.0, 42.0)
"""Upper edges [h] of the lead-time buckets; leads beyond the last edge share one bucket."""
LEVEL_BINS = 3
MIN_CELL_RESIDUALS = 50  # below this, a 10 % quantile rests on fewer than 5 residuals
MIN_RESIDUALS = 200  # a table needs at least this many residuals in all
PROBABILITIES = (0.075, 0.925)
"""Residual quantiles taken for P10 and P90. Wider than 10/90 % on purpose: the held-back
weeks are a small sample (an origin's errors over a day move together, so ~50 independent
days) of errors whose spread changes with the season, and quantiles estimated from such a
sample cover less of the following weeks than they do of their own. In rolling backtests of
the bundled year, 10/90 % residual quantiles covered 69-78 % day-ahead, 7.5/92.5 % about 80 %."""


def lead_bucket(lead_steps: np.ndarray) -> np.ndarray:
    hours = np.asarray(lead_steps) / _STEPS_PER_HOUR
    return np.searchsorted(np.asarray(LEAD_BUCKET_EDGES_H), hours, side="right")


@dataclass(frozen=True)
class QuantileTable:
    level_edges: np.ndarray
    """Inner edges of the level bins (``LEVEL_BINS - 1`` values)."""
    offsets: np.ndarray
    """Shape (lead buckets, level bins, 2): residual quantiles for P10 and P90."""
    residuals: int
    """How many residuals the table was estimated from."""

    def offsets_for(self, lead_steps: np.ndarray, level: np.ndarray) -> np.ndarray:
        """Offsets (n, 2) of P10 and P90 from P50, in units of the model's scale."""
        level_bin = np.searchsorted(self.level_edges, np.nan_to_num(level), side="right")
        return np.asarray(self.offsets[lead_bucket(lead_steps), level_bin])


def fit_quantile_table(
    lead_steps: np.ndarray, level: np.ndarray, residual: np.ndarray
) -> QuantileTable | None:
    """The table from residuals (actual - P50) / scale; None if there are too few."""
    keep = ~np.isnan(residual) & ~np.isnan(level)
    lead_steps, level, residual = lead_steps[keep], level[keep], residual[keep]
    if len(residual) < MIN_RESIDUALS:
        return None
    edges = np.unique(np.quantile(level, np.linspace(0, 1, LEVEL_BINS + 1)[1:-1]))
    level_bin = np.searchsorted(edges, level, side="right")
    bucket = lead_bucket(lead_steps)
    n_buckets = len(LEAD_BUCKET_EDGES_H) + 1
    offsets = np.empty((n_buckets, len(edges) + 1, len(PROBABILITIES)))
    overall = np.quantile(residual, PROBABILITIES)
    previous = overall
    for b in range(n_buckets):
        in_bucket = bucket == b
        # a bucket without residuals (leads never backtested) borrows the previous bucket's
        marginal = (
            np.quantile(residual[in_bucket], PROBABILITIES)
            if in_bucket.sum() >= MIN_CELL_RESIDUALS
            else previous
        )
        previous = marginal
        for j in range(len(edges) + 1):
            cell = in_bucket & (level_bin == j)
            offsets[b, j] = (
                np.quantile(residual[cell], PROBABILITIES)
                if cell.sum() >= MIN_CELL_RESIDUALS
                else marginal
            )
    return QuantileTable(edges, offsets, int(len(residual)))


def band_table(low: float, high: float) -> QuantileTable:
    """A fixed band ``P50 + low .. P50 + high`` at every lead (for histories too short)."""
    offsets = np.empty((len(LEAD_BUCKET_EDGES_H) + 1, 1, 2))
    offsets[..., 0], offsets[..., 1] = low, high
    return QuantileTable(np.empty(0), offsets, 0)
