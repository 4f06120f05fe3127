"""Adherence to the committed schedule: the band's edges, intervals without a commitment."""

from __future__ import annotations

import numpy as np
import pytest

from controller.config import DEFAULT_CONFIG, DispatchConfig
from controller.plans.adherence import schedule_adherence

CONFIG = DispatchConfig(deviation_band_fraction=0.05, deviation_band_min_kw=200.0)


def test_the_band_is_the_larger_of_its_share_and_its_floor() -> None:
    band = CONFIG.deviation_band_kw(np.array([10_000.0, -10_000.0, 1_000.0, np.nan]))
    np.testing.assert_array_equal(band[:3], [500.0, 500.0, 200.0])
    assert np.isnan(band[3])


def test_within_the_band_counts_and_beyond_it_the_excess_energy_is_measured() -> None:
    committed = np.array([10_000.0, 10_000.0, 1_000.0, 1_000.0, np.nan])
    actual = np.array([10_500.0, 11_000.0, 800.0, 1_600.0, 5_000.0])
    result = schedule_adherence(actual, committed, CONFIG)
    assert result.intervals_committed == 4  # the NaN interval had no commitment
    assert result.intervals_within_band == 2  # exactly on the edge is within
    # 500 kW and 400 kW beyond the band, a quarter hour each
    assert result.energy_outside_band_kwh == pytest.approx((500.0 + 400.0) * 0.25)
    assert result.share_within_band == 0.5


def test_no_commitment_gives_no_share() -> None:
    result = schedule_adherence(np.ones(3), np.full(3, np.nan), DEFAULT_CONFIG)
    assert result.intervals_committed == 0
    assert np.isnan(result.share_within_band)


def test_series_of_different_length_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="actual_net_kw has shape \\(3,\\) but committed_net_kw"):
        schedule_adherence(np.ones(3), np.ones(4), DEFAULT_CONFIG)
