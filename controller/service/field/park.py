"""The field loop of one park: poll every device, store good values, beat the heartbeat.

Every Modbus device is polled in its own task with its own timeout, and the MQTT devices'
telemetry arrives on their own connection, so a device that stops answering costs one
timeout in its own task and nothing in any other. A reading becomes a measurement only when
it is good: scaled, finite and within the physical bound of its series (the same bounds as
the REST path, :func:`controller.service.validation.series_bounds`); it is stamped with the
start of the quarter hour it was taken in and upserted into the same measurement store.
Whatever its quality, each reading updates the device's status (alarms in ``/health``) and
is counted in ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from controller.service import db
from controller.service.field.codec import decode, encode
from controller.service.field.devicemap import DataType, Device, FieldMap
from controller.service.field.metrics import FieldMetrics
from controller.service.field.modbus import DeviceError, ModbusLink
from controller.service.field.mqtt import Broker, MqttLink
from controller.service.field.quality import Quality, Reading, assess
from controller.service.field.status import FieldStatus
from controller.service.store import measurements as measurement_store
from controller.service.store.measurements import Point
from controller.service.validation import series_bounds
from sites import Site

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


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
        await self._store(good)
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

    async def _store(self, points: list[Point]) -> None:
        if not points:
            return

        def write() -> None:
            with db.write(self.engine) as connection:
                measurement_store.upsert(connection, self.site.id, points)

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
