"""Forecasts of a park's series from its history: P10/P50/P90 per 15-minute interval.

``make_forecast(site, history, issue_time, horizon)`` is the entry point; ``fit`` returns
reusable :class:`ForecastModels`; :func:`run_backtest` evaluates them from rolling origins.
``forecasting/README.md`` describes the models, the bands and the data-quality rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sites.lazy_api import lazy_api

if TYPE_CHECKING:
    from forecasting.api import ForecastModels, fit, make_forecast
    from forecasting.backtest import run_backtest
    from forecasting.frame import Forecast, ForecastMetadata, SeriesInfo, code_version
    from forecasting.models import Method
    from forecasting.plot import plot_backtest
    from forecasting.quality import QualityReport
    from forecasting.weather import WeatherForecast

_HOME: dict[str, str] = {
    "Forecast": "forecasting.frame",
    "ForecastMetadata": "forecasting.frame",
    "ForecastModels": "forecasting.api",
    "Method": "forecasting.models",
    "QualityReport": "forecasting.quality",
    "SeriesInfo": "forecasting.frame",
    "WeatherForecast": "forecasting.weather",
    "code_version": "forecasting.frame",
    "fit": "forecasting.api",
    "make_forecast": "forecasting.api",
    "plot_backtest": "forecasting.plot",
    "run_backtest": "forecasting.backtest",
}
"""Each public name and the module that defines it: imported when the name is first read,
so that importing one light module of the package does not load the whole of it."""

__all__ = [
    "Forecast",
    "ForecastMetadata",
    "ForecastModels",
    "Method",
    "QualityReport",
    "SeriesInfo",
    "WeatherForecast",
    "code_version",
    "fit",
    "make_forecast",
    "plot_backtest",
    "run_backtest",
]


__getattr__, __dir__ = lazy_api(__name__, _HOME, globals(), __all__)
