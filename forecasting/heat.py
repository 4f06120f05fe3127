"""Heat demand and waste heat: physical relations to the load and temperature forecasts.

- Heat demand = a + b x process load + c x heating degree-hours, the degree-hours being
  ``max(0, HEATING_BASE_DEGC - temperature)`` (``sites.history.derive``) inside the heating
  season (15 November - 15 March, Shandong's statutory central-heating season). A demand
  without a process load has no ``b`` term.
- Waste heat = a + b x process load, capped at the stream's ``max_kw_th``.

The coefficients are fitted by least squares on the observed history (actual load and
temperature; waste heat only where below its cap). A forecast evaluates the relation on the
load and temperature P50 and adds the recent residual of the relation, blended out with
lead time (:mod:`forecasting.anomaly`), in case the relation drifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.anomaly import Blend, deviation_window, fit_blend, origin_anomalies
from forecasting.models import Method, TrainingSpan, training_pairs
from forecasting.timeline import Pairs, Panel
from sites import columns
from sites.history.derive import heating_degrees
from sites.schema import HeatDemand, WasteHeatStream
from sites.time_step import STEPS_PER_DAY

MIN_TRAIN_DAYS = 7
TRAIN_STRIDE = 16  # an origin every 4 h
RECENT_STEPS = 4
_CAP_RTOL = 1e-6


def _design(
    load: np.ndarray | None, temperature: np.ndarray | None, index: pd.DatetimeIndex
) -> np.ndarray:
    """Columns 1, load (if any), heating degree-hours (if a temperature is given)."""
    terms = [np.ones(len(index))]
    if load is not None:
        terms.append(load)
    if temperature is not None:
        terms.append(heating_degrees(temperature, index))
    return np.column_stack(terms)


@dataclass(frozen=True)
class DerivedModel:
    """``coefficients @ [1, load, degree-hours]`` (terms it has), plus the residual blend."""

    column: str
    method: Method
    load_column: str | None
    temperature_column: str | None
    coefficients: np.ndarray
    cap: float
    blend: Blend

    def scale(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        return np.ones(len(pairs))

    def history_design(self, panel: Panel) -> np.ndarray:
        """The relation's terms on the observed inputs at every position of the panel."""
        load = panel.values[self.load_column] if self.load_column else None
        temp = panel.values[self.temperature_column] if self.temperature_column else None
        return _design(load, temp, panel.index)

    def anomalies(self, panel: Panel, pairs: Pairs) -> np.ndarray:
        window = deviation_window(pairs.origins)
        position = np.maximum(window, 0)
        deviation = panel.values[self.column] - self.history_design(panel) @ self.coefficients
        return origin_anomalies(np.where(window >= 0, deviation[position], np.nan), RECENT_STEPS)

    def p50(self, panel: Panel, pairs: Pairs, upstream: Mapping[str, np.ndarray]) -> np.ndarray:
        load = upstream[self.load_column] if self.load_column else None
        temp = upstream[self.temperature_column] if self.temperature_column else None
        base = _design(load, temp, panel.index[pairs.target]) @ self.coefficients
        forecast = self.blend.apply(pairs, base, self.anomalies(panel, pairs))
        return np.clip(forecast, 0.0, self.cap)


def _fit(
    column: str,
    method: Method,
    load_column: str | None,
    temperature_column: str | None,
    cap: float,
    panel: Panel,
    span: TrainingSpan,
) -> DerivedModel:
    n_terms = 1 + (load_column is not None) + (temperature_column is not None)
    model = DerivedModel(
        column, method, load_column, temperature_column, np.zeros(n_terms), cap, Blend.base_only()
    )
    design = model.history_design(panel)
    y = panel.values[column]
    rows = np.zeros(len(y), dtype=bool)
    rows[span.start : span.end] = True
    rows &= ~np.isnan(design).any(axis=1) & ~np.isnan(y) & (y < cap * (1 - _CAP_RTOL))
    if rows.sum() > n_terms:
        coefficients, *_ = np.linalg.lstsq(design[rows], y[rows], rcond=None)
        model = replace(model, coefficients=coefficients)
    pairs = training_pairs(span, STEPS_PER_DAY, TRAIN_STRIDE)
    base = (design @ model.coefficients)[pairs.target]
    blend = fit_blend(pairs, base, model.anomalies(panel, pairs), y[pairs.target])
    return replace(model, blend=blend)


def fit_heat_demand(demand: HeatDemand, panel: Panel, span: TrainingSpan) -> DerivedModel:
    load = columns.load_kw(demand.process_load) if demand.process_load else None
    temperature = columns.AMBIENT_TEMPERATURE_DEGC if demand.space_heating_share > 0 else None
    column = columns.heat_demand_kw_th(demand.name)
    method = Method.HEAT_PROCESS_AND_DEGREE_HOURS
    return _fit(column, method, load, temperature, np.inf, panel, span)


def fit_waste_heat(stream: WasteHeatStream, panel: Panel, span: TrainingSpan) -> DerivedModel:
    column = columns.waste_heat_kw_th(stream.name)
    load = columns.load_kw(stream.process_load)
    return _fit(column, Method.WASTE_HEAT_FROM_LOAD, load, None, stream.max_kw_th, panel, span)
