"""The month's peak as a decision: the import a month's plans may use without charge.

The demand charge is billed on each calendar month's highest 15-minute import. A plan covers
a day or two, so on its own it sees too little of the month to choose that peak: early in
a month it holds the peak too low (and burns fuel or gives up arbitrage to do so), and
forecast error then raises it anyway. :class:`MonthPeakTarget` chooses the peak once per
month, as the peak of the best dispatch of the park over the latest month of history with
hindsight (the bound on the history so far): the previous calendar month where the history
holds it, else the days of the current month already past. Plans then hold their import
below the larger of this target and the month's peak so far, less the forecast margin
(:mod:`controller.model.electric`), and raise it where the increase pays for its charge.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from controller import columns as pc
from controller.config import DEFAULT_CONFIG, DispatchConfig
from controller.inputs.forecast_data import as_forecast
from controller.inputs.state import MeasuredState, default_state
from controller.planner import plan
from controller.plans.plan import PlanKind, PlanStatus
from controller.solver.cache import ModelCache
from sites import Site

TARGET_TIME_LIMIT_S = 600.0
"""A month-long problem solves in seconds; a loaded machine must not make it fall back."""
MONTH_STEPS = 31 * 96
"""Every window is padded to the longest month, so that one compiled problem serves every
choice (a compiled month-long problem holds hundreds of MB; one per window length would
hold gigabytes after a month of daily choices)."""
MIN_HISTORY_DAYS = 1
"""The fewest days of the current month that give a target when the previous month is not
in the history (fewer: no target, the peak so far alone)."""


def _month_start(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.normalize().replace(day=1)


class MonthPeakTarget:
    """``target(now, state, history)``: the target peak of ``now``'s month [kW] (0: no
    history to choose from). Chosen at the month's first call from the whole previous month
    and kept for the rest of it; where the history does not hold the previous month, chosen
    from the days of this month already past, again every day as they grow, with the demand
    charge prorated to the days it is chosen on (a week earns a week's arbitrage against a
    month's charge: unprorated, it would choose a peak too low for the month)."""

    def __init__(self, site: Site, config: DispatchConfig = DEFAULT_CONFIG) -> None:
        self.site = site
        self.config = dataclasses.replace(
            config, time_limit_s=TARGET_TIME_LIMIT_S, horizon_bucket_steps=MONTH_STEPS
        )
        self.cache = ModelCache(size=1)
        self.month: pd.Timestamp | None = None
        self.chosen_on: pd.Timestamp | None = None
        """The day the target was chosen; None once chosen from a whole month."""
        self.target_kw = 0.0

    def __call__(self, now: pd.Timestamp, state: MeasuredState, history: pd.DataFrame) -> float:
        month, day = _month_start(now), now.normalize()
        if month != self.month or (self.chosen_on is not None and day != self.chosen_on):
            self.month = month
            self.target_kw, whole = self._choose(month, day, history)
            self.chosen_on = None if whole else day
        return self.target_kw

    def _choose(
        self, month: pd.Timestamp, day: pd.Timestamp, history: pd.DataFrame
    ) -> tuple[float, bool]:
        """The target and whether it was chosen from a whole month."""
        previous = _month_start(month - pd.Timedelta(days=1))
        window = history.loc[previous : month - pd.Timedelta(minutes=15)]
        whole = len(window) > 0 and window.index[0] <= previous
        if not whole:
            window = history.loc[month : day - pd.Timedelta(minutes=15)]
        if len(window) < MIN_HISTORY_DAYS * 96:
            return 0.0, whole
        share = 1.0 if whole else len(window) / (96 * month.days_in_month)
        made = plan(
            self.site,
            as_forecast(window),
            default_state(self.site),
            PlanKind.DAY_AHEAD,
            config=dataclasses.replace(self.config, demand_charge_share=share),
            cache=self.cache,
        )
        if made.metadata.status is PlanStatus.FALLBACK:
            return 0.0, whole
        return float(made.frame[pc.GRID_IMPORT_KW].max()), whole
