"""Choices the command line's options take that belong to a heavy module's subject: kept
here, light, so that the options are built without importing that module."""

from __future__ import annotations

from enum import StrEnum


class ForecastSource(StrEnum):
    """Where `microgrid plan` takes its forecast from (see `controller.cli.plan_forecast`)."""

    ACTUAL = "actual"
    """The history's own values of the planned day, as a perfect forecast."""
    MODEL = "model"
    """The production forecaster, fitted on the history before the planned day."""
