"""The forecast a caller gets: the frame of P10/P50/P90 per series, and how it was made.

The frame is on the site's timezone-aware 15-minute index, each label the start of its
interval, from the first quarter hour at or after the issue time; for every series column
``c`` it has ``quantile(c, 10)``, ``quantile(c, 50)`` and ``quantile(c, 90)``
(:func:`sites.columns.quantile`), with P10 <= P50 <= P90, flows >= 0, PV 0 while the sun is
down and never above the inverter rating, wind never above the rated power.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from forecasting.models import Method
from forecasting.quality import QualityReport
from sites.columns import QUANTILES, quantile

DISTRIBUTION = "park-microgrid"


@cache
def code_version() -> str:
    """The installed version of this code (read once per process)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class SeriesInfo:
    """How one series was forecast."""

    column: str
    method: Method
    description: str
    fallback: bool
    """True when a baseline stands in for the model."""
    reason: str | None
    """Why the baseline was used (e.g. the history is too short), else None."""
    quantiles: str
    """How P10 and P90 were obtained."""


@dataclass(frozen=True)
class ForecastMetadata:
    series: tuple[SeriesInfo, ...]
    quality: QualityReport
    """Findings in the history the forecast was made from (its recent window)."""
    training_quality: QualityReport
    """Findings in the history the models were fitted on."""
    trained_from: pd.Timestamp
    trained_until: pd.Timestamp
    """End of the training history (exclusive)."""
    out_of_sample: bool
    """False if the models were fitted on data after the issue time (an in-sample replay)."""
    weather_columns: tuple[str, ...]
    code_version: str

    def info(self, column: str) -> SeriesInfo:
        for info in self.series:
            if info.column == column:
                return info
        raise KeyError(column)

    @property
    def fallbacks(self) -> dict[str, str]:
        """Series that fell back to a baseline, with the reason."""
        return {s.column: s.reason or "" for s in self.series if s.fallback}

    @property
    def fallback_methods(self) -> dict[str, str]:
        """Series that fell back to a baseline: ``"<method>: <reason>"``, for a plan to carry."""
        return {s.column: f"{s.method.value}: {s.reason or ''}" for s in self.series if s.fallback}


@dataclass(frozen=True)
class Forecast:
    frame: pd.DataFrame
    site_id: str
    issued_at: pd.Timestamp
    metadata: ForecastMetadata

    def p50(self, column: str) -> pd.Series:
        return self.frame[quantile(column, 50)]


def assemble(
    index: pd.DatetimeIndex, bands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The forecast frame from (P10, P50, P90) per series column, in the given order."""
    names, data = [], []
    for column, band in bands.items():
        for percent, values in zip(QUANTILES, band, strict=True):
            names.append(quantile(column, percent))
            data.append(values)
    table = np.column_stack(data) if data else np.empty((len(index), 0))
    return pd.DataFrame(table, index=index, columns=names)


def ordered_band(
    p50: np.ndarray, low: np.ndarray, high: np.ndarray, lower: float, upper: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P10, P50, P90) clipped to [lower, upper] and sorted so that P10 <= P50 <= P90."""
    stacked = np.clip(np.vstack([low, p50, high]), lower, upper)
    stacked.sort(axis=0)
    return stacked[0], stacked[1], stacked[2]
