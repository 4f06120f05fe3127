"""How closely the connection-point flow kept the committed day-ahead schedule.

The utility receives each day's schedule at the gate; what the park then draws is settled
against it. An interval is within the schedule when the actual net import (import -
export) is inside the tolerance band around the committed one
(:meth:`controller.config.DispatchConfig.deviation_band_kw`, the band the intraday planner
also keeps to); the energy outside is what lies beyond the band's edge. Intervals without a
committed value are not counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from controller.config import DispatchConfig
from sites.time_step import HOURS_PER_STEP


@dataclass(frozen=True)
class Adherence:
    intervals_committed: int
    intervals_within_band: int
    energy_outside_band_kwh: float

    @property
    def share_within_band(self) -> float:
        """Within-band share of the committed intervals (NaN where none was committed)."""
        if not self.intervals_committed:
            return float("nan")
        return self.intervals_within_band / self.intervals_committed

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()} | {
            "share_within_band": self.share_within_band
        }


def outside_band_kw(
    actual_net_kw: np.ndarray, committed_net_kw: np.ndarray, config: DispatchConfig
) -> np.ndarray:
    """Per interval, how far ``actual_net_kw`` lies beyond the tolerance band around
    ``committed_net_kw`` [kW, >= 0]; NaN where nothing was committed."""
    actual = np.asarray(actual_net_kw, dtype=float)
    committed = np.asarray(committed_net_kw, dtype=float)
    if actual.shape != committed.shape:
        raise ValueError(
            f"actual_net_kw has shape {actual.shape} but committed_net_kw {committed.shape}; "
            "they must cover the same intervals"
        )
    excess = np.abs(actual - committed) - config.deviation_band_kw(committed)
    return np.where(np.isnan(committed), np.nan, np.clip(excess, 0.0, None))


def schedule_adherence(
    actual_net_kw: np.ndarray, committed_net_kw: np.ndarray, config: DispatchConfig
) -> Adherence:
    """Adherence of ``actual_net_kw`` to ``committed_net_kw`` (same intervals; NaN where
    nothing was committed)."""
    return adherence_of(outside_band_kw(actual_net_kw, committed_net_kw, config))


def adherence_of(outside_kw: np.ndarray) -> Adherence:
    """Adherence from each interval's flow beyond the band (:func:`outside_band_kw`)."""
    outside = np.asarray(outside_kw, dtype=float)
    known = outside[~np.isnan(outside)]
    return Adherence(
        intervals_committed=int(known.size),
        intervals_within_band=int((known <= 0).sum()),
        energy_outside_band_kwh=float(known.sum() * HOURS_PER_STEP),
    )
