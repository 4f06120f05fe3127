"""Forecasts of a park's series from its history: P10/P50/P90 per 15-minute interval.

``make_forecast(site, history, issue_time, horizon)`` is the entry point; ``fit`` returns
reusable :class:`ForecastModels`; :mod:`forecasting.backtest` evaluates them from rolling
origins. ``forecasting/README.md`` describes the models, the bands and the data-quality rules.
"""

from forecasting.api import ForecastModels, fit, make_forecast
from forecasting.frame import Forecast, ForecastMetadata, SeriesInfo
from forecasting.models import Method
from forecasting.quality import QualityReport
from forecasting.weather import WeatherForecast

__all__ = [
    "Forecast",
    "ForecastMetadata",
    "ForecastModels",
    "Method",
    "QualityReport",
    "SeriesInfo",
    "WeatherForecast",
    "fit",
    "make_forecast",
]
