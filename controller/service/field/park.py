"""The field loop of one park: poll every device, store good values, send the plan's
setpoints with read-back, beat the heartbeat.

Every Modbus device is polled in its own task with its own timeout, and the MQTT devices'
telemetry arrives on their own connection, so a device that stops answering costs one
timeout in its own task and nothing in any other. A reading becomes a measurement only when
it is good: scaled, finite and within the physical bound of its series (the same bounds as
the REST path, :func:`controller.service.validation.series_bounds`); it is stamped with the
start of the quarter hour it was taken in and upserted into the same measurement store.
Whatever its quality, each reading updates the device's status (alarms in ``/health``) and
is counted in ``/metrics``.

Every reading's quality flag is stored too, per series and interval
(:func:`.records.record_readings`: the stored value's, good, or where nothing in the
interval was good, the latest reading's), and shown by ``GET .../field/readings`` and next
to each value by ``GET .../measurements``.

At an interval's start, :meth:`ParkField.apply_setpoints` takes the row of the plan in force
for that interval, turns it into one value per write point (:mod:`.setpoints`: clamped into
the device's limits from the map), records them as sent, writes them (devices in parallel,
each device's points in turn), reads each back and records it as confirmed (the device
reports the value sent), rejected (it refused, or reports another value, which is kept) or
failed (no answer). Devices in manual mode, or every device of a park in manual mode, are
not written.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from controller.service import db
from controller.service.field import records
from controller.service.field.codec import EncodeError, decode, encode, resolution
from controller.service.field.devicemap import DataType, Device, FieldMap
from controller.service.field.metrics import FieldMetrics
from controller.service.field.modbus import DeviceError, ModbusLink
from controller.service.field.mqtt import Broker, MqttLink
from controller.service.field.quality import Quality, Reading, assess
from controller.service.field.records import Outgoing, SetpointStatus
from controller.service.field.setpoints import Order, orders
from controller.service.field.status import FieldStatus, SetpointOutcome
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store.measurements import Point
from controller.service.validation import series_bounds
from sites import Site

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
ConnectionCaps = Callable[[datetime], tuple[float | None, float | None]]
"""The import and export limits of the grid events in force at an interval start (each
``None`` where no event limits it)."""
READBACK_RTOL = 1e-3


@dataclass(frozen=True)
class Sent:
    device: str
    point: str
    setpoint: str
    value: float
    status: SetpointStatus
    reported: float | None
    detail: str


@dataclass(frozen=True)
class SetpointRound:
    interval_start: datetime
    plan_id: int | None
    sent: list[Sent] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    """Devices not written: in manual mode."""
    seconds: float = 0.0
    """From the interval's start to the last answer."""

    def count(self, status: SetpointStatus) -> int:
        return sum(1 for s in self.sent if s.status is status)


def interval_start(at: datetime) -> datetime:
    """Start of the quarter hour ``at`` lies in (aware, UTC)."""
    return pd.Timestamp(at).tz_convert("UTC").floor("15min").to_pydatetime()


class ParkField:
    def __init__(
        self,
        engine: Engine,
        site: Site,
        field_map: FieldMap,
        clock: Clock,
        metrics: FieldMetrics,
        broker: Broker | None,
        caps: ConnectionCaps | None = None,
    ) -> None:
        self.engine = engine
        self.site = site
        self.map = field_map
        self.clock = clock
        self.metrics = metrics
        self.bounds = series_bounds(site)
        self.modbus = {d.name: ModbusLink(d) for d in field_map.devices if d.modbus is not None}
        mqtt_devices = [d for d in field_map.devices if d.mqtt is not None]
        self.mqtt = (
            MqttLink(broker, mqtt_devices, clock, site.id)
            if broker is not None and mqtt_devices
            else None
        )
        where = {name: link.where for name, link in self.modbus.items()}
        for d in mqtt_devices:
            assert d.mqtt is not None
            where[d.name] = f"mqtt {d.mqtt.topic_prefix}/#" + ("" if self.mqtt else " (no broker)")
        self.status = FieldStatus(site.id, where)
        self._heartbeat = 0
        self._mqtt_task: asyncio.Task[None] | None = None
        self._caps = caps
        self._plan: tuple[int, pd.DataFrame] | None = None

    async def start(self) -> None:
        if self.mqtt is not None and self._mqtt_task is None:
            self._mqtt_task = asyncio.create_task(self.mqtt.run(), name=f"mqtt-{self.site.id}")

    async def close(self) -> None:
        if self._mqtt_task is not None:
            self._mqtt_task.cancel()
            await asyncio.gather(self._mqtt_task, return_exceptions=True)
            self._mqtt_task = None
        for link in self.modbus.values():
            link.close()

    # -- measurements in -------------------------------------------------------------------

    async def poll(self) -> list[Reading]:
        """Read every read point once; store the good values. Never raises for a device."""
        results = await asyncio.gather(
            *(self._poll_modbus(link) for link in self.modbus.values() if link.device.reads)
        )
        readings = [r for part in results for r in part] + self._mqtt_readings()
        self.status.readings(readings)
        for r in readings:
            protocol = "modbus" if r.device in self.modbus else "mqtt"
            self.metrics.points.labels(self.site.id, protocol, r.quality.value).inc()
        good = [
            Point(r.series, interval_start(r.at), r.value)
            for r in readings
            if r.quality is Quality.GOOD and r.value is not None
        ]
        await self._store(good, [(interval_start(r.at), r) for r in readings])
        return readings

    async def _poll_modbus(self, link: ModbusLink) -> list[Reading]:
        device = link.device
        at = self.clock()
        try:
            registers = await link.read_all()
        except DeviceError as exc:
            self.status.device_failed(device.name, at, str(exc))
            return [
                Reading(device.name, p.name, p.series or "", at, None, Quality.COMMS_LOST, str(exc))
                for p in device.reads
            ]
        self.status.device_ok(device.name, at)
        out = []
        for p in device.reads:
            series = p.series or ""
            value = decode(registers[p.name], p.data_type, p.scale)
            quality, detail = assess(value, self.bounds[series])
            out.append(Reading(device.name, p.name, series, at, value, quality, detail))
        return out

    def _mqtt_readings(self) -> list[Reading]:
        if self.mqtt is None:
            return []
        at = self.clock()
        stale_after = pd.Timedelta(seconds=3 * self.map.poll_s)
        latest, fresh = self.mqtt.take()
        out = []
        for device in self.mqtt.devices:
            if not self.mqtt.connected.is_set():
                error = self.mqtt.error or "not connected"
                self.status.device_failed(device.name, at, error)
                out += [
                    Reading(
                        device.name, p.name, p.series or "", at, None, Quality.COMMS_LOST, error
                    )
                    for p in device.reads
                ]
                continue
            heard = False
            for p in device.reads:
                series = p.series or ""
                message = latest.get((device.name, p.name))
                if message is None or (
                    (device.name, p.name) not in fresh
                    and pd.Timestamp(at) - pd.Timestamp(message.at) > stale_after
                ):
                    since = f"since {message.at:%H:%M:%S} UTC" if message else "yet"
                    out.append(
                        Reading(
                            device.name,
                            p.name,
                            series,
                            at,
                            None,
                            Quality.STALE,
                            f"no telemetry {since}",
                        )
                    )
                    continue
                heard = heard or (device.name, p.name) in fresh
                if message.detail:
                    quality, detail = Quality.OUT_OF_RANGE, message.detail
                else:
                    quality, detail = assess(message.value, self.bounds[series])
                if (device.name, p.name) not in fresh and quality is Quality.GOOD:
                    continue  # the same message was stored at the last poll
                out.append(
                    Reading(device.name, p.name, series, message.at, message.value, quality, detail)
                )
            if heard or not device.reads:
                self.status.device_ok(device.name, at)
        return out

    async def _store(self, points: list[Point], flags: list[tuple[datetime, Reading]]) -> None:
        """The good values as measurements and every reading's quality flag, together."""
        if not points and not flags:
            return

        def write() -> None:
            with db.write(self.engine) as connection:
                measurement_store.upsert(connection, self.site.id, points)
                records.record_readings(connection, self.site.id, flags)

        try:
            await asyncio.to_thread(write)
        except SQLAlchemyError as exc:
            log.warning("%s: field measurements not stored: %s", self.site.id, exc)
            self.status.store_failed(f"{type(exc).__name__}: {exc}"[:200])
        else:
            self.status.store_failed(None)

    # -- heartbeat -------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Write the next heartbeat count to every device that has a heartbeat."""
        self._heartbeat = (self._heartbeat + 1) % 65536
        beats = [d for d in self.map.devices if d.heartbeat is not None]
        await asyncio.gather(*(self._beat(d, self._heartbeat) for d in beats))

    async def _beat(self, device: Device, count: int) -> None:
        assert device.heartbeat is not None
        at = self.clock()
        try:
            if device.modbus is not None:
                address = device.heartbeat.address or 0
                await self.modbus[device.name].write(address, encode(count, DataType.UINT16, 1))
            elif self.mqtt is not None and device.mqtt is not None:
                await self.mqtt.publish(
                    f"{device.mqtt.topic_prefix}/{device.heartbeat.topic}", str(count)
                )
            else:
                return
        except DeviceError as exc:
            self.status.device_failed(device.name, at, str(exc))
            return
        if device.modbus is not None or not device.reads:
            self.status.device_ok(device.name, at)

    # -- setpoints out ---------------------------------------------------------------------

    def _plan_row(self, start: datetime) -> tuple[int | None, dict[str, float]]:
        zone = self.site.location.timezone
        with db.read(self.engine) as connection:
            header = plan_store.in_force(connection, self.site.id, start)
            if header is None:
                return None, {}
            if self._plan is None or self._plan[0] != header.id:
                stored = plan_store.load(connection, header.id, zone)
                if stored is None:
                    return None, {}
                self._plan = (header.id, stored.frame)
        frame = self._plan[1]
        at = pd.Timestamp(start).tz_convert(zone)
        if at not in frame.index:
            return header.id, {}
        row = frame.loc[at]
        return header.id, {
            str(k): float(v) for k, v in row.items() if isinstance(v, int | float) and v == v
        }

    def plan_id_at(self, start: datetime) -> int | None:
        """The id of the plan in force at ``start`` (blocking: call off the loop)."""
        with db.read(self.engine) as connection:
            header = plan_store.in_force(connection, self.site.id, start)
        return None if header is None else header.id

    def _manual(self) -> dict[str, tuple[datetime, str]]:
        with db.read(self.engine) as connection:
            return records.manual_devices(connection, self.site.id)

    async def apply_setpoints(self, start: datetime, only: set[str] | None = None) -> SetpointRound:
        """Send the plan in force's setpoints for the interval starting at ``start`` (to the
        devices named in ``only``, default every device)."""
        began = time.monotonic()
        late = max((self.clock() - start).total_seconds(), 0.0)
        plan_id, row = await asyncio.to_thread(self._plan_row, start)
        manual = await asyncio.to_thread(self._manual)
        if not row:
            self.status.no_plan(start if plan_id is None else None)
            return SetpointRound(start, plan_id)
        self.status.no_plan(None)
        imports, exports = (
            await asyncio.to_thread(self._caps, start) if self._caps is not None else (None, None)
        )
        everything = [
            o
            for o in orders(self.site, self.map, row, exports, imports)
            if only is None or o.device.name in only
        ]
        held = sorted(
            {o.device.name for o in everything if records.PARK in manual or o.device.name in manual}
        )
        todo = [o for o in everything if o.device.name not in held]
        if not todo:
            return SetpointRound(start, plan_id, [], held, late + time.monotonic() - began)
        outgoing = [
            Outgoing(
                o.device.name, o.point.name, o.point.setpoint or "", o.planned, o.value, o.detail
            )
            for o in todo
        ]
        sent_at = self.clock()

        def record_sent() -> list[int]:
            with db.write(self.engine) as connection:
                return records.insert_sent(
                    connection, self.site.id, start, plan_id, outgoing, sent_at
                )

        ids = await asyncio.to_thread(record_sent)
        by_device: dict[str, list[tuple[int, Order]]] = {}
        for record_id, order in zip(ids, todo, strict=True):
            by_device.setdefault(order.device.name, []).append((record_id, order))
        parts = await asyncio.gather(*(self._send_device(items) for items in by_device.values()))
        answered = [a for part in parts for a in part]
        seconds = late + time.monotonic() - began
        answered_at = self.clock()

        def record_answers() -> None:
            with db.write(self.engine) as connection:
                for record_id, sent in answered:
                    detail = "; ".join(x for x in (sent.detail, _clamp_note(todo, sent)) if x)
                    records.answer(
                        connection, record_id, sent.status, sent.reported, detail, answered_at
                    )

        await asyncio.to_thread(record_answers)
        for _, sent in answered:
            self.metrics.setpoints.labels(self.site.id, sent.status.value).inc()
            self.status.setpoint(
                SetpointOutcome(sent.device, sent.setpoint, sent.status.value, start, sent.detail)
            )
        self.metrics.setpoint_seconds.labels(self.site.id).observe(seconds)
        return SetpointRound(start, plan_id, [s for _, s in answered], held, seconds)

    async def _send_device(self, items: list[tuple[int, Order]]) -> list[tuple[int, Sent]]:
        out = []
        for record_id, order in items:
            out.append((record_id, await self._send(order)))
        return out

    async def _send(self, order: Order) -> Sent:
        device, point, value = order.device, order.point, order.value

        def sent(status: SetpointStatus, reported: float | None, detail: str) -> Sent:
            return Sent(
                device.name, point.name, point.setpoint or "", value, status, reported, detail
            )

        try:
            if device.modbus is not None:
                link = self.modbus[device.name]
                await link.write(point.address or 0, encode(value, point.data_type, point.scale))
                reported = decode(await link.read_point(point), point.data_type, point.scale)
            elif self.mqtt is not None:
                reported = await self.mqtt.write(device, point, value, self.map.readback_timeout_s)
            else:
                return sent(SetpointStatus.FAILED, None, "no MQTT broker configured")
        except EncodeError as exc:
            return sent(SetpointStatus.REJECTED, None, str(exc))
        except DeviceError as exc:
            if exc.answered:
                self.status.device_ok(device.name, self.clock())
                return sent(SetpointStatus.REJECTED, None, str(exc))
            self.status.device_failed(device.name, self.clock(), str(exc))
            return sent(SetpointStatus.FAILED, None, str(exc))
        self.status.device_ok(device.name, self.clock())
        tolerance = max(
            resolution(point.data_type, point.scale), READBACK_RTOL * max(1.0, abs(value))
        )
        if math.isfinite(reported) and abs(reported - value) <= tolerance:
            return sent(SetpointStatus.CONFIRMED, reported, "")
        return sent(
            SetpointStatus.REJECTED, reported, f"the device reports {reported:g}, not {value:g}"
        )


def _clamp_note(todo: list[Order], sent: Sent) -> str:
    for order in todo:
        if order.device.name == sent.device and order.point.name == sent.point:
            return order.detail
    return ""
