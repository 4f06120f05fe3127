"""Row hashes of a frame, as ``pandas.util.hash_pandas_object(frame, index=True)`` gives
them, computed straight from the arrays (that function builds a Series per column; the
tests hold the two equal). Plans and their input hashes are stamped with them.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

_FLOAT = np.dtype(np.float64)


def _mix(bits: np.ndarray) -> np.ndarray:
    """pandas' hash of 64-bit values (``pandas.core.util.hashing._hash_ndarray``): a
    splitmix64 finaliser applied to the raw bits, in place."""
    bits ^= bits >> np.uint64(30)
    bits *= np.uint64(0xBF58476D1CE4E5B9)
    bits ^= bits >> np.uint64(27)
    bits *= np.uint64(0x94D049BB133111EB)
    bits ^= bits >> np.uint64(31)
    return bits


def _index_hash(index: pd.Index) -> np.ndarray:
    """pandas' hash of an index: a datetime index hashes its int64 time stamps."""
    if isinstance(index, pd.DatetimeIndex):
        return _mix(index.values.view(np.int64).astype(np.uint64))
    return pd.util.hash_pandas_object(index, index=False).to_numpy()


def _column_hash(column: pd.Series) -> np.ndarray:
    """pandas' hash of a column that is not float64. A column of strings is hashed without
    pandas' categorising first (which only saves time where values repeat, and gives the same
    numbers where no value is missing); anything else as pandas hashes it."""
    values = column.to_numpy()
    if values.dtype == object and all(type(v) is str for v in values):
        return pd.util.hash_array(values, categorize=False)
    return pd.util.hash_pandas_object(column, index=False).to_numpy()


def _column_hashes(frame: pd.DataFrame) -> list[np.ndarray]:
    """pandas' hash of each column: the float64 ones (all of a forecast, all but the price
    band of a plan) together, by their bits."""
    if all(dtype == _FLOAT for dtype in frame.dtypes):
        # a copy: the bits are mixed in place
        bits = np.array(frame.to_numpy(dtype=np.float64).T, order="C").view(np.uint64)
        return list(_mix(bits))
    columns = [column for _, column in frame.items()]
    hashes = [np.empty(0, dtype=np.uint64)] * len(columns)
    floats = [j for j, column in enumerate(columns) if column.dtype == _FLOAT]
    if floats:
        bits = np.vstack([columns[j].to_numpy() for j in floats]).view(np.uint64)
        for j, hashed in zip(floats, _mix(bits), strict=True):
            hashes[j] = hashed
    for j in sorted(set(range(len(columns))) - set(floats)):
        hashes[j] = _column_hash(columns[j])
    return hashes


@functools.lru_cache(maxsize=64)
def _multipliers(n_items: int) -> tuple[np.uint64, ...]:
    """The multiplier pandas' ``combine_hash_arrays`` applies after each of ``n_items``."""
    mult = np.uint64(1000003)
    out = []
    for i in range(n_items):
        out.append(mult)
        inverse_i = n_items - i
        mult += np.uint64(82520 + inverse_i + inverse_i)
    return tuple(out)


def frame_row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """``pandas.util.hash_pandas_object(frame, index=True).to_numpy()``, computed from the
    arrays; columns and index are combined as pandas combines them
    (``pandas.core.util.hashing.combine_hash_arrays``)."""
    items = [*_column_hashes(frame), _index_hash(frame.index)]
    out = np.zeros(len(frame), dtype=np.uint64) + np.uint64(0x345678)
    for hashed, mult in zip(items, _multipliers(len(items)), strict=True):
        np.bitwise_xor(out, hashed, out=out)
        np.multiply(out, mult, out=out)
    out += np.uint64(97531)
    return out
