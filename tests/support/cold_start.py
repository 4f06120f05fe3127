"""What the forecaster is documented to fall back to with a short history, per series.

Computed from the forecasting package's own documented minimums (``MIN_HISTORY_DAYS``; each
model's ``MIN_TRAIN_DAYS`` after the days held back to calibrate its band), so a test states
the rule, not a table of results.
"""

from __future__ import annotations

from forecasting.api import MIN_HISTORY_DAYS
from forecasting.declared import DECLARED_METHODS
from forecasting.fitting import builder, calibration_days
from forecasting.models import Method
from sites.history.series import expected_series
from sites.schema import Site

HISTORY_DAYS = (0, 1, 2, 7, 14, 21)  # the lengths the issue names


def expected_methods(site: Site, days: float) -> dict[str, Method]:
    """Per series that falls back at ``days`` of history: the baseline it must use."""
    out = {}
    for column, spec in expected_series(site).items():
        if days < MIN_HISTORY_DAYS:
            out[column] = DECLARED_METHODS[spec.kind]
            continue
        _, min_days = builder(site, spec)
        if days - calibration_days(days) < min_days:
            out[column] = Method.BASELINE_DAILY_PERSISTENCE
    return out
