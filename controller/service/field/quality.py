"""What a reading from a device is worth: its quality flag, and the one rule that sets it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from controller.service.validation import Bound


class Quality(StrEnum):
    GOOD = "good"
    STALE = "stale"
    """No fresh value: the device (or its telemetry) has not reported within the poll window."""
    OUT_OF_RANGE = "out_of_range"
    """The device answered with a value that is not a number or lies outside the physical
    bound of its series (garbage in a register, a wrong scale): never stored."""
    COMMS_LOST = "comms_lost"
    """The device did not answer at all."""


@dataclass(frozen=True)
class Reading:
    device: str
    point: str
    series: str
    at: datetime
    """When the value was read or received (aware)."""
    value: float | None
    quality: Quality
    detail: str = ""


def assess(value: float, bound: Bound) -> tuple[Quality, str]:
    if not math.isfinite(value):
        return Quality.OUT_OF_RANGE, f"value {value} is not a finite number"
    if not bound.low <= value <= bound.high:
        return Quality.OUT_OF_RANGE, f"value {value:g} outside the physical bound {bound}"
    return Quality.GOOD, ""
