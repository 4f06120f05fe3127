"""One MQTT connection per park: its devices' telemetry in, commands and heartbeats out.

A device publishes each point's value on ``<prefix>/<point topic>`` (a plain number, or JSON
``{"value": ...}``); the controller writes a setpoint by publishing it on
``<prefix>/<point topic>/set`` and takes the device's next message on the point's own topic
as the read-back. The connection is kept up by :meth:`MqttLink.run`, which reconnects with a
growing pause when the broker goes away; meanwhile every MQTT device counts as comms lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiomqtt

from controller.service.field.devicemap import Device, Point
from controller.service.field.modbus import DeviceError

log = logging.getLogger(__name__)
RECONNECT_S = (0.2, 5.0)
"""First and longest pause between two connection attempts."""


@dataclass(frozen=True)
class Broker:
    host: str = "127.0.0.1"
    port: int = 1883

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Message:
    value: float
    """NaN where the payload was not a number (the quality rule flags it)."""
    detail: str
    at: datetime


def parse(payload: bytes) -> tuple[float, str]:
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        return math.nan, f"payload {text[:40]!r} is not a number"
    if isinstance(loaded, dict):
        loaded = loaded.get("value")
    if isinstance(loaded, bool) or not isinstance(loaded, int | float):
        return math.nan, f"payload {text[:40]!r} is not a number"
    return float(loaded), ""


def topic_of(device: Device, point: Point) -> str:
    assert device.mqtt is not None
    return f"{device.mqtt.topic_prefix}/{point.topic}"


class MqttLink:
    def __init__(
        self, broker: Broker, devices: list[Device], clock: Callable[[], datetime], name: str
    ) -> None:
        self.broker = broker
        self.devices = devices
        self._clock = clock
        self._name = name
        self._points = {topic_of(d, p): (d.name, p.name) for d in devices for p in d.points}
        self._latest: dict[tuple[str, str], Message] = {}
        self._fresh: set[tuple[str, str]] = set()
        self._waiters: dict[str, list[asyncio.Future[Message]]] = {}
        self._client: aiomqtt.Client | None = None
        self.messages = 0
        """Messages received on the park's point topics since start."""
        self.error: str | None = "not connected yet"
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Stay connected until cancelled."""
        pause = RECONNECT_S[0]
        while True:
            try:
                async with aiomqtt.Client(
                    self.broker.host, self.broker.port, keepalive=10, timeout=5
                ) as client:
                    for device in self.devices:
                        assert device.mqtt is not None
                        await client.subscribe(f"{device.mqtt.topic_prefix}/#", qos=1)
                    self._client, self.error = client, None
                    self.connected.set()
                    pause = RECONNECT_S[0]
                    log.info("%s: MQTT broker %s connected", self._name, self.broker)
                    async for message in client.messages:
                        self._received(str(message.topic), message.payload)
                raise aiomqtt.MqttError("the broker closed the connection")
            except aiomqtt.MqttError as exc:
                self._lost(f"MQTT broker {self.broker} does not answer: {exc}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_S[1])

    def _lost(self, error: str) -> None:
        if self.error is None:
            log.warning("%s: %s", self._name, error)
        self._client, self.error = None, error
        self.connected.clear()

    def _received(self, topic: str, payload: object) -> None:
        key = self._points.get(topic)
        if key is None or not isinstance(payload, bytes | bytearray):
            return
        self.messages += 1
        value, detail = parse(bytes(payload))
        message = Message(value, detail, self._clock())
        self._latest[key] = message
        self._fresh.add(key)
        for waiter in self._waiters.pop(topic, []):
            if not waiter.done():
                waiter.set_result(message)

    def take(self) -> tuple[dict[tuple[str, str], Message], set[tuple[str, str]]]:
        """The newest message of every point, and which arrived since the last call."""
        fresh, self._fresh = self._fresh, set()
        return dict(self._latest), fresh

    async def publish(self, topic: str, payload: str) -> None:
        client = self._client
        if client is None:
            raise DeviceError(self.error or f"MQTT broker {self.broker} not connected")
        try:
            await client.publish(topic, payload, qos=1, timeout=5)
        except aiomqtt.MqttError as exc:
            raise DeviceError(f"MQTT publish to {topic} failed: {exc}") from None

    async def write(self, device: Device, point: Point, value: float, timeout_s: float) -> float:
        """Publish a setpoint and wait for the device's read-back; returns the value it reports.

        DeviceError when the broker is away or the device does not report within the timeout.
        """
        topic = topic_of(device, point)
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(topic, []).append(waiter)
        try:
            await self.publish(f"{topic}/set", json.dumps(value))
            message = await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            raise DeviceError(
                f"{device.name} did not report {point.name} within {timeout_s:g} s"
            ) from None
        finally:
            if not waiter.done():
                waiter.cancel()
        return message.value
