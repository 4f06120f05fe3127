"""The time step of every series, forecast, plan and replay: 15 minutes, each row labelling
the interval that starts there (the one definition; the planning horizons built on it are in
:mod:`controller.horizons`)."""

from __future__ import annotations

import pandas as pd

STEP_MINUTES = 15
STEP = pd.Timedelta(minutes=STEP_MINUTES)
"""One interval. A ``pandas.Timedelta``, which is also a ``datetime.timedelta``."""
STEP_NS = STEP.value
"""One interval in nanoseconds (the unit of a ``DatetimeIndex``'s integer values)."""
STEPS_PER_HOUR = 60 // STEP_MINUTES
STEPS_PER_DAY = 24 * STEPS_PER_HOUR
HOURS_PER_STEP = STEP_MINUTES / 60
"""kWh per kW held over one interval (0.25)."""
