"""Validation of per-interval set points for loads, sgens and storages.

Arrays enter as (T, n_element) numpy arrays aligned to `net.<element>.index`, or as frames
whose columns are that index; every error names the argument, its shape and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

SetpointArray = np.ndarray | pd.DataFrame
"""A (T, n_element) array aligned to `net.<element>.index`, or a frame whose columns are it."""


def coerce_setpoints(
    tables: Mapping[str, tuple[pd.Index, np.ndarray, np.ndarray]],
    arrays: Mapping[str, SetpointArray | None],
) -> tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Validate per-interval set points and fill the missing ones with the static values.

    `tables[element] = (index, static_p_mw, static_q_mvar)`; `arrays` is keyed by argument
    name (`load_p_mw`, `sgen_q_mvar`, ...). Returns the number of intervals T and, per element,
    float arrays (p_mw, q_mvar) of shape (T, n_element). With no arrays given, T is 1.
    """
    checked: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if value is None:
            continue
        element = name.split("_", 1)[0]
        index = tables[element][0]
        checked[name] = _as_2d(name, value, index)
    lengths = {name: arr.shape[0] for name, arr in checked.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(
            f"all set-point arrays must have the same number of intervals: {described}"
        )
    n_intervals = next(iter(lengths.values())) if lengths else 1
    setpoints: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for element, (_, static_p, static_q) in tables.items():
        p = checked.get(f"{element}_p_mw")
        q = checked.get(f"{element}_q_mvar")
        setpoints[element] = (
            p if p is not None else np.tile(static_p, (n_intervals, 1)),
            q if q is not None else np.tile(static_q, (n_intervals, 1)),
        )
    return n_intervals, setpoints


def _as_2d(name: str, value: SetpointArray, index: pd.Index) -> np.ndarray:
    element = name.split("_", 1)[0]
    if isinstance(value, pd.DataFrame):
        if set(value.columns) != set(index) or len(value.columns) != len(index):
            raise ValueError(
                f"{name}: frame columns {list(value.columns)[:8]} must be exactly "
                f"net.{element}.index {list(index)[:8]} (any order)"
            )
        arr = value.reindex(columns=index).to_numpy(dtype=float)
    else:
        arr = np.asarray(value, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != len(index):
        raise ValueError(
            f"{name} has shape {arr.shape}; expected (T, {len(index)}): one row per interval "
            f"and one column per row of net.{element}, in net.{element}.index order"
        )
    if not np.all(np.isfinite(arr)):
        row, col = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} must be finite; found {arr[row, col]} at interval {row}, "
            f"{element} {index[col]!r}"
        )
    return arr
