"""What the field loop knows of each device now: answering or not, each point's quality, and
the alarms that ``/health`` and ``/metrics`` show. Written by the loop's thread, read by the
API's threads (one lock; readers get copies)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from controller.service.field.quality import Quality, Reading


@dataclass(frozen=True)
class DeviceState:
    name: str
    where: str
    up: bool | None = None
    """None until first contacted."""
    since: datetime | None = None
    """When ``up`` last changed."""
    last_ok: datetime | None = None
    error: str | None = None
    points: dict[str, Reading] = field(default_factory=dict)


@dataclass(frozen=True)
class SetpointOutcome:
    device: str
    setpoint: str
    status: str
    interval_start: datetime
    detail: str


class FieldStatus:
    def __init__(self, site_id: str, devices: dict[str, str]) -> None:
        """``devices``: name -> where it is reached (for the alarms)."""
        self.site_id = site_id
        self._lock = threading.Lock()
        self._devices = {name: DeviceState(name, where) for name, where in devices.items()}
        self._store_error: str | None = None
        self._no_plan: datetime | None = None
        self._rejected: dict[tuple[str, str], SetpointOutcome] = {}

    def device_ok(self, name: str, at: datetime) -> None:
        with self._lock:
            old = self._devices[name]
            since = old.since if old.up else at
            self._devices[name] = replace(old, up=True, since=since, last_ok=at, error=None)

    def device_failed(self, name: str, at: datetime, error: str) -> None:
        with self._lock:
            old = self._devices[name]
            since = at if old.up is not False else old.since
            self._devices[name] = replace(old, up=False, since=since, error=error)

    def readings(self, readings: list[Reading]) -> None:
        with self._lock:
            for r in readings:
                old = self._devices[r.device]
                self._devices[r.device] = replace(old, points={**old.points, r.point: r})

    def store_failed(self, error: str | None) -> None:
        with self._lock:
            self._store_error = error

    def no_plan(self, interval_start: datetime | None) -> None:
        """No plan covered ``interval_start`` (``None``: one did): nothing could be sent."""
        with self._lock:
            self._no_plan = interval_start

    def setpoint(self, outcome: SetpointOutcome) -> None:
        """Keep a device's latest refused or failed setpoint until one is confirmed again."""
        key = (outcome.device, outcome.setpoint)
        with self._lock:
            if outcome.status in ("rejected", "failed"):
                self._rejected[key] = outcome
            else:
                self._rejected.pop(key, None)

    def devices(self) -> list[DeviceState]:
        with self._lock:
            return list(self._devices.values())

    def alarms(self) -> list[str]:
        out = []
        with self._lock:
            devices = list(self._devices.values())
            rejected = list(self._rejected.values())
            store_error = self._store_error
            no_plan = self._no_plan
        for d in devices:
            if d.up is False:
                since = f"{d.since:%Y-%m-%d %H:%M:%S} UTC" if d.since else "start"
                out.append(
                    f"field device '{d.name}' ({d.where}): comms lost since {since}: {d.error}"
                )
                continue
            for r in d.points.values():
                if r.quality in (Quality.OUT_OF_RANGE, Quality.STALE):
                    out.append(
                        f"field point '{d.name}.{r.point}' ({r.series}): {r.quality.value}: "
                        f"{r.detail}"
                    )
        for s in rejected:
            out.append(
                f"setpoint {s.setpoint} to field device '{s.device}' for "
                f"{s.interval_start:%Y-%m-%d %H:%M} UTC {s.status}: {s.detail}"
            )
        if no_plan is not None:
            out.append(f"no plan in force for {no_plan:%Y-%m-%d %H:%M} UTC: no setpoints sent")
        if store_error:
            out.append(f"field measurements could not be stored: {store_error}")
        return out

    def document(self) -> dict[str, Any]:
        """JSON of every device's state (for the API)."""
        return {
            "devices": [
                {
                    "name": d.name,
                    "where": d.where,
                    "up": d.up,
                    "since": d.since.isoformat() if d.since else None,
                    "last_ok": d.last_ok.isoformat() if d.last_ok else None,
                    "error": d.error,
                    "points": {
                        name: {
                            "series": r.series,
                            "value": r.value,
                            "quality": r.quality.value,
                            "at": r.at.isoformat(),
                            "detail": r.detail,
                        }
                        for name, r in sorted(d.points.items())
                    },
                }
                for d in self.devices()
            ],
            "alarms": self.alarms(),
        }
