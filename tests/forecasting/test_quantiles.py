"""Residual quantile tables: calibrated on their own kind of residuals."""

from __future__ import annotations

import numpy as np

from forecasting.quantiles import PROBABILITIES, band_table, fit_quantile_table, lead_bucket

COVERAGE_TOLERANCE = 0.02  # a few times the sampling error of a share on 20,000 draws


def test_band_covers_its_nominal_share_of_fresh_residuals_whose_spread_grows_with_lead() -> None:
    rng = np.random.default_rng(0)
    n = 60_000
    lead = rng.integers(0, 192, n)
    level = rng.uniform(0, 1, n)
    spread = 1.0 + lead / 48.0
    table = fit_quantile_table(lead, level, rng.normal(0, spread))
    assert table is not None
    fresh_lead = rng.integers(0, 192, 20_000)
    fresh = rng.normal(0, 1.0 + fresh_lead / 48.0)
    offsets = table.offsets_for(fresh_lead, rng.uniform(0, 1, 20_000))
    inside = (offsets[:, 0] <= fresh) & (fresh <= offsets[:, 1])
    assert abs(inside.mean() - (PROBABILITIES[1] - PROBABILITIES[0])) < COVERAGE_TOLERANCE
    short, long = table.offsets_for(np.array([0, 191]), np.array([0.5, 0.5]))
    assert long[1] - long[0] > 2 * (short[1] - short[0])


def test_too_few_residuals_give_no_table_and_a_fixed_band_has_its_width() -> None:
    assert fit_quantile_table(np.zeros(10), np.zeros(10), np.zeros(10)) is None
    offsets = band_table(-2.0, 3.0).offsets_for(np.array([0, 500]), np.array([0.0, 9.0]))
    np.testing.assert_array_equal(offsets, [[-2.0, 3.0], [-2.0, 3.0]])


def test_lead_buckets_are_by_hours() -> None:
    assert list(lead_bucket(np.array([0, 3, 4, 47, 48, 191, 1000]))) == [0, 0, 1, 4, 5, 10, 10]
