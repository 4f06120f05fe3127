"""A fitted gradient-boosting regressor's prediction without its per-call overhead.

``HistGradientBoostingRegressor.predict`` validates its input and builds a partial function
for each of its trees on every call; a forecast predicts a few hundred rows with eight
boosters of 60 trees, so that overhead costs more than the trees. :class:`FastBooster`
reads the fitted trees once and runs the same compiled tree walk of scikit-learn on each,
adding the trees' outputs to the baseline in the same order: the same numbers, bit for bit
(``tests/forecasting/test_fast_paths.py`` holds it to that). The walk is scikit-learn's
private function, so a booster is read only after a probe predicts exactly what
``booster.predict`` does; one it cannot read (another scikit-learn layout, categorical
splits, a non-identity link) is predicted the usual way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]

try:  # the compiled walk the booster's own trees use
    from sklearn.ensemble._hist_gradient_boosting._predictor import (  # type: ignore[import-untyped]
        _predict_from_raw_data,
    )
except ImportError:  # pragma: no cover - another scikit-learn layout
    _predict_from_raw_data = None


class FastBooster:
    """Predicts like ``booster.predict`` on a float64 matrix, with one call per tree."""

    def __init__(self, booster: HistGradientBoostingRegressor) -> None:
        self.booster = booster
        self._trees: list[tuple[Any, Any]] | None = None
        self._known: Any = None
        self._feature_map: Any = None
        self._baseline: np.ndarray | None = None
        try:
            self._read(booster)
            if self._trees is not None and not self._agrees():
                self._trees = None
        except (AttributeError, TypeError, ValueError, IndexError):
            self._trees = None

    def _read(self, booster: HistGradientBoostingRegressor) -> None:
        if _predict_from_raw_data is None or booster.n_trees_per_iteration_ != 1:
            return
        if type(booster._loss.link).__name__ != "IdentityLink":
            return
        predictors = [iteration[0] for iteration in booster._predictors]
        if any(len(iteration) != 1 for iteration in booster._predictors):
            return
        if any(p.nodes["is_categorical"].any() for p in predictors):
            return
        self._known, self._feature_map = booster._bin_mapper.make_known_categories_bitsets()
        self._baseline = np.asarray(booster._baseline_prediction)
        self._trees = [(p.nodes, p.raw_left_cat_bitsets) for p in predictors]

    def _agrees(self) -> bool:
        """The compiled walk gives the booster's own numbers on a probe (this scikit-learn's
        private function takes the arguments it is given here)."""
        probe = np.linspace(-1e3, 1e3, 4 * self.booster.n_features_in_).reshape(4, -1)
        probe[1, ::2] = np.nan
        return bool(self.predict(probe).tobytes() == self.booster.predict(probe).tobytes())

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """P50 correction per row of ``matrix`` (rows x the booster's features, float64)."""
        if self._trees is None or self._baseline is None:
            return np.asarray(self.booster.predict(matrix))
        matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        n = len(matrix)
        raw = np.zeros((n, 1), dtype=self._baseline.dtype, order="F")
        raw += self._baseline  # as the booster starts: zeros plus its baseline
        column = raw[:, 0]
        out = np.empty(n, dtype=np.float64)
        for nodes, bitsets in self._trees:
            _predict_from_raw_data(nodes, matrix, bitsets, self._known, self._feature_map, 1, out)
            column += out
        return raw.ravel()
