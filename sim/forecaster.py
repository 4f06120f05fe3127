"""The production forecaster inside a replay: fitted on the past only, refitted as time goes on."""

from __future__ import annotations

import pandas as pd

from forecasting.api import ForecastModels, fit
from sites import Site

DEFAULT_REFIT_EVERY = pd.Timedelta(days=28)


class RefittingForecaster:
    """Fits the forecasting models on the history before the first issue time, then refits
    every ``refit_every`` on the history before that issue time: never on the future."""

    def __init__(self, site: Site, refit_every: pd.Timedelta = DEFAULT_REFIT_EVERY) -> None:
        self.site = site
        self.refit_every = refit_every
        self.models: ForecastModels | None = None
        self.fitted_at: pd.Timestamp | None = None
        self.fits = 0

    def __call__(self, now: pd.Timestamp, end: pd.Timestamp, history: pd.DataFrame) -> pd.DataFrame:
        if (
            self.models is None
            or self.fitted_at is None
            or now - self.fitted_at >= self.refit_every
        ):
            self.models = fit(self.site, history, until=now)
            self.fitted_at = now
            self.fits += 1
        return self.models.predict(now, end - now, history).frame
