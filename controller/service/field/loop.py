"""The field loop in a running service: one thread with its own event loop for every park
that has a device map.

Every ``poll_s`` (the map's) each park is polled and its heartbeats are written; when the
service's clock enters a new quarter hour, or another plan comes into force during one (a
re-plan), the park's setpoints for the quarter hour are sent; a device that did not answer
is sent its setpoints again every :data:`RETRY_S` until it does. A park's
round that fails in an unexpected way is logged and shown as an alarm; the next round runs
as usual. The wall clock is watched against a monotonic one: a jump of more than
:data:`CLOCK_JUMP_S` either way is an alarm for the next quarter hour; the setpoints then
follow the clock's new interval (the plan in force for it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from controller.service.field.devicemap import FieldMap
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import (
    Clock,
    ConnectionCaps,
    ParkField,
    SetpointRound,
    interval_start,
)
from controller.service.field.records import SetpointStatus
from controller.service.field.status import FieldStatus
from sites import Site
from sites.time_step import STEP

log = logging.getLogger(__name__)
CLOCK_JUMP_S = 30.0
JUMP_ALARM_S = 900.0
MQTT_START_S = 5.0
RETRY_S = 60.0
"""A device that did not answer its setpoints is sent them again this often (and at once
when the quarter hour or the plan changes)."""


@dataclass
class _Jump:
    seconds: float
    at: datetime
    noticed: float
    """Monotonic time it was noticed."""


class FieldLoop:
    def __init__(
        self,
        engine: Engine,
        parks: Iterable[tuple[Site, FieldMap]],
        clock: Clock,
        metrics: FieldMetrics,
        broker: Broker | None,
        connection_caps: dict[str, ConnectionCaps] | None = None,
    ) -> None:
        self.clock = clock
        self.maps = list(parks)
        self.broker = broker
        caps = connection_caps or {}
        self.parks = {
            site.id: ParkField(engine, site, m, clock, metrics, broker, caps.get(site.id))
            for site, m in self.maps
        }
        self._jump: _Jump | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._errors: dict[str, str] = {}
        self._stopped = False
        self._start_lock = threading.Lock()
        metrics.watch(self.statuses)

    def statuses(self) -> list[FieldStatus]:
        return [p.status for p in self.parks.values()]

    def alarms(self, site_id: str) -> list[str]:
        park = self.parks.get(site_id)
        if park is None:
            return []
        out = park.status.alarms()
        if site_id in self._errors:
            out.append(f"field loop round failed: {self._errors[site_id]}")
        jump = self._jump
        if jump is not None and time.monotonic() - jump.noticed < JUMP_ALARM_S:
            out.append(
                f"the clock jumped by {jump.seconds:+.0f} s at {jump.at:%Y-%m-%d %H:%M:%S} UTC; "
                "setpoints follow the new time"
            )
        return out

    def start(self) -> None:
        """Run the loop in its thread (once; not after :meth:`stop`)."""
        with self._start_lock:
            if self._stopped or self._thread is not None:
                return
            self._start()

    def _start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._stop = asyncio.Event()
            ready.set()
            try:
                loop.run_until_complete(self._run())
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="field", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        with self._start_lock:
            self._stopped = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    async def _run(self) -> None:
        assert self._stop is not None
        for park in self.parks.values():
            await park.start()
        links = [p.mqtt.connected.wait() for p in self.parks.values() if p.mqtt is not None]
        if links:  # give the broker connections a moment before the first round
            await asyncio.wait([asyncio.ensure_future(w) for w in links], timeout=MQTT_START_S)
        tasks = [asyncio.create_task(self._park(park)) for park in self.parks.values()]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for park in self.parks.values():
            await park.close()

    def _watch_clock(self, wall: datetime, mono: float, last: tuple[datetime, float]) -> None:
        drift = (wall - last[0]).total_seconds() - (mono - last[1])
        if abs(drift) > CLOCK_JUMP_S:
            log.warning("the clock jumped by %+.0f s", drift)
            self._jump = _Jump(drift, wall, mono)

    async def _park(self, park: ParkField) -> None:
        applied: tuple[datetime, int | None] | None = None
        unanswered: set[str] = set()
        retry_at = 0.0
        last = (self.clock(), time.monotonic())
        while True:
            now, mono = self.clock(), time.monotonic()
            self._watch_clock(now, mono, last)
            last = (now, mono)
            try:
                current = interval_start(now)
                plan_id = await asyncio.to_thread(park.plan_id_at, current)
                if (current, plan_id) != applied:
                    applied = (current, plan_id)
                    made = await park.apply_setpoints(current)
                    unanswered = _failed(made)
                    retry_at = mono + RETRY_S
                elif unanswered and mono >= retry_at:
                    made = await park.apply_setpoints(current, only=unanswered)
                    unanswered = _failed(made)
                    retry_at = mono + RETRY_S
                await park.heartbeat()
                await park.poll()
                self._errors.pop(park.site.id, None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one bad round must not end the park's loop
                log.exception("%s: field round failed", park.site.id)
                self._errors[park.site.id] = f"{type(exc).__name__}: {exc}"[:300]
            now = self.clock()
            to_next = (interval_start(now) + STEP - now).total_seconds()
            await asyncio.sleep(max(min(park.map.poll_s, to_next + 0.01), 0.01))


def _failed(made: SetpointRound) -> set[str]:
    return {s.device for s in made.sent if s.status is SetpointStatus.FAILED}
