"""Register values <-> engineering values: data type (big-endian words), then scale."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from controller.service.field.devicemap import DataType

_FORMAT = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.FLOAT32: ">f",
}


class EncodeError(ValueError):
    """A value that the point's data type cannot carry."""


def decode(registers: Sequence[int], data_type: DataType, scale: float) -> float:
    """The engineering value of a point's registers (NaN stays NaN: the caller flags it)."""
    raw = struct.pack(f">{len(registers)}H", *registers)
    (value,) = struct.unpack(_FORMAT[data_type], raw)
    return float(value) * scale


def encode(value: float, data_type: DataType, scale: float) -> list[int]:
    """The registers that carry ``value`` (rounded to the type's resolution)."""
    if not math.isfinite(value):
        raise EncodeError(f"value {value} is not a finite number")
    raw: float | int = value / scale
    if data_type is not DataType.FLOAT32:
        raw = round(raw)
    try:
        packed = struct.pack(_FORMAT[data_type], raw)
    except struct.error as exc:
        raise EncodeError(f"value {value} does not fit a {data_type.value}: {exc}") from None
    return list(struct.unpack(f">{len(packed) // 2}H", packed))


def resolution(data_type: DataType, scale: float) -> float:
    """The smallest step a point can carry: how close a read-back must come to confirm."""
    return abs(scale) if data_type is not DataType.FLOAT32 else 0.0
