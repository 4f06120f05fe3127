"""A simulated park behind real protocols: the demo plant and the tests' devices.

:func:`run_plant` (a process of its own) serves a device map's Modbus devices with pymodbus
TCP servers and publishes its MQTT devices' telemetry on a broker. Behind them runs the
simulator's plant model (:class:`sim.plant.Plant`, imported inside the process so that the
service never imports ``sim`` at module level): the park's historical year is the truth, and
the setpoints the devices receive drive the batteries, PV caps, heat pumps, boilers,
thermal stores, CHP units, recovery turbines, flexible process loads (a batch's draw, a
shed, a shift), electrolysers, fuel cells and a hydrogen tank's offtake; the connection
point's import limit is held by the batteries as the plan's import ceiling is (the lower of
the two).

Time runs faster than the wall clock: interval ``k`` (starting ``start + k * 15 min``) lasts
from ``wall0 + k * interval_s`` to the next such moment. During an interval the read points
show the interval's flows and the levels at its end as they stand with the setpoints received
so far (every write re-runs the interval from its start state); at its end the state is kept.

A device whose map gives a heartbeat and whose counter has not changed for its
``timeout_s`` (wall seconds) falls back to its local rules: a PCS holds zero power, an
inverter runs uncapped, a heat pump or boiler follows its demand, a tank's controller
neither charges nor discharges, a CHP unit stops, a waste-heat or waste-pressure turbine runs
uncapped, a process controller draws no batch power and sheds and moves nothing (its load
runs as it would), an electrolyser or fuel cell stops, a hydrogen tank's controller gives no
offtake, the connection point drops a lowered limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, cast

import pandas as pd

from controller import columns as pc
from controller.inputs.dispatch_inputs import layout_for
from controller.service.field.codec import decode, encode
from controller.service.field.devicemap import (
    CONNECTION_LIMITS,
    IMPORT_LIMIT_KW,
    Device,
    FieldMap,
    Point,
)
from controller.service.field.mqtt import Broker, topic_of
from sites import Site, columns
from sites.time_step import STEP

log = logging.getLogger(__name__)
BLOCK = 256
TELEMETRY_S = 2.0
"""MQTT devices publish their telemetry (retained) at least this often, and at once when an
interval begins or a setpoint changes what they report."""


@dataclass(frozen=True)
class PlantOptions:
    site_json: str
    map_json: str
    start: str
    """Local start of interval 0 (ISO with offset)."""
    wall0: float
    """Wall-clock time (``time.time()``) at which interval 0 starts."""
    interval_s: float
    broker: Broker | None = None
    devices: tuple[str, ...] | None = None
    """Serve only these devices (default: all)."""
    refuse: tuple[str, ...] = ()
    """``device.point`` write points that answer every write with an exception."""
    garbage: tuple[str, ...] = ()
    """``device.point`` read points whose registers hold NaN."""


@dataclass
class _Device:
    device: Device
    registers: list[int] = field(default_factory=lambda: [0] * (BLOCK + 1))
    beat: int | None = None
    beat_at: float = 0.0

    def local(self, now: float) -> bool:
        hb = self.device.heartbeat
        return hb is not None and self.beat is not None and now - self.beat_at > hb.timeout_s


class SimulatedPark:
    """The plant model and the device registers it feeds (no I/O of its own)."""

    def __init__(self, options: PlantOptions) -> None:
        from sim import Plant, PlantState

        self.options = options
        self.site = Site.model_validate_json(options.site_json)
        self.map = FieldMap.model_validate_json(options.map_json)
        self.plant = Plant(self.site)
        self.state = PlantState.initial(self.site)
        self.start = pd.Timestamp(options.start)
        wanted = options.devices
        self.devices = {
            d.name: _Device(d) for d in self.map.devices if wanted is None or d.name in wanted
        }
        self.setpoints: dict[str, float] = {}
        self.interval = -1
        self.truth: dict[str, float] = {}
        self.values: dict[str, float] = {}
        self.local: frozenset[str] = frozenset()
        self.steps: list[dict[str, float]] = []
        """Actuals of every finished interval (plan column names), for tests."""

    def interval_at(self, now: float) -> int:
        return max(int((now - self.options.wall0) // self.options.interval_s), 0)

    def advance(self, now: float) -> bool:
        """Finish intervals up to the one ``now`` lies in; True when a new one began."""
        from controller.service.feeder import replay_values

        target = self.interval_at(now)
        if target == self.interval:
            return False
        while self.interval < target:
            if self.interval >= 0:
                result = self._step(now, commit=True)
                self.steps.append(result)
            self.interval += 1
            index = pd.DatetimeIndex([self.start + self.interval * STEP])
            row = replay_values(self.site, index).iloc[0]
            self.truth = {str(k): float(v) for k, v in row.items()}
        self.refresh(now)
        return True

    def _step(self, now: float, commit: bool) -> dict[str, float]:
        # a preview runs from a copy of every level and memory (SoC, tanks, hydrogen, a
        # CHP unit's last output, a batch's energy, a shift's backlog): the state at the
        # interval's start stays as it is until the interval ends
        state = self.state if commit else copy.deepcopy(self.state)
        result = self.plant.step(state, self._effective_setpoints(now), self.truth)
        return dict(result.actual)

    def _effective_setpoints(self, now: float) -> dict[str, float]:
        """What the devices apply: the received setpoints, or local rules where they fell back."""
        wanted: dict[str, float] = {}
        for d in self.devices.values():
            if d.local(now):
                continue
            for p in d.device.writes:
                if p.setpoint is not None and p.setpoint in self.setpoints:
                    wanted[p.setpoint] = self.setpoints[p.setpoint]
        out: dict[str, float] = {}
        for units, col, curtailed in (
            (self.site.assets.pv, columns.pv_kw, pc.pv_curtailed_kw),
            (self.site.assets.wind, columns.wind_kw, pc.wind_curtailed_kw),
        ):
            for unit in units:
                available = max(self.truth.get(col(unit.name), 0.0), 0.0)
                cap = wanted.get(col(unit.name), math.inf)
                out[col(unit.name)] = min(cap, available)
                out[curtailed(unit.name)] = max(available - cap, 0.0)
        for r in self.site.assets.recovery_power:  # capped by its limit, as an inverter
            available = r.available_kw(self.truth.get(columns.load_kw(r.process_load), 0.0))
            cap = wanted.get(columns.recovery_kw(r.name), math.inf)
            out[columns.recovery_kw(r.name)] = min(cap, available)
            out[pc.recovery_available_kw(r.name)] = available
        for name, value in wanted.items():
            if name not in out and name not in CONNECTION_LIMITS:
                out[name] = value
        # the connection point's import limit is held as the batteries' local controller
        # holds the plan's import ceiling: the lower of the two applies
        ceiling = min(
            wanted.get(pc.GRID_IMPORT_CEILING_KW, math.inf), wanted.get(IMPORT_LIMIT_KW, math.inf)
        )
        if math.isfinite(ceiling):
            out[pc.GRID_IMPORT_CEILING_KW] = ceiling
        return out

    def local_devices(self, now: float) -> frozenset[str]:
        """Devices on their local rules now (their heartbeat went quiet)."""
        return frozenset(name for name, d in self.devices.items() if d.local(now))

    def refresh(self, now: float) -> None:
        """The current interval's flows and end levels with the setpoints received so far."""
        self.local = self.local_devices(now)
        actual = self._step(now, commit=False)
        values = dict(self.truth)
        values.update(actual)
        self.values = values
        garbage = set(self.options.garbage)
        for d in self.devices.values():
            if d.device.modbus is None:
                continue
            for p in d.device.reads:
                value = (
                    math.nan if f"{d.device.name}.{p.name}" in garbage else values[p.series or ""]
                )
                d.registers[p.address or 0 : (p.address or 0) + p.data_type.registers] = encode_raw(
                    value, p
                )

    def write(self, device: _Device, point: Point, value: float, now: float) -> float:
        """A setpoint arrives: keep it within the asset's physical limit; returns what applies."""
        applied = min(max(value, 0.0), self._physical_limits.get(point.setpoint or "", math.inf))
        if point.setpoint is not None:
            self.setpoints[point.setpoint] = applied
        self.refresh(now)
        return applied

    @cached_property
    def _physical_limits(self) -> dict[str, float]:
        """The rating each setpoint may not exceed (made once): each electric column's
        (:attr:`controller.inputs.layout.Layout.injection_capacity_kw`), and each heat,
        on/off and hydrogen setpoint's."""
        a = self.site.assets
        limits: dict[str, float] = dict.fromkeys(
            (pc.GRID_IMPORT_CEILING_KW, *CONNECTION_LIMITS), math.inf
        )
        limits.update(layout_for(self.site).injection_capacity_kw)
        for bo in a.boilers:
            limits[pc.boiler_heat_kw_th(bo.name)] = bo.capacity_kw_th
        for t in a.thermal_storage:
            limits[pc.thermal_storage_charge_kw_th(t.name)] = t.charge_kw_th
            limits[pc.thermal_storage_discharge_kw_th(t.name)] = t.discharge_kw_th
        for c in a.chp:
            limits[pc.chp_on(c.name)] = 1.0
        for e in a.electrolysers:
            limits[columns.electrolyser_kw(e.name)] = e.rated_kw
        for cell in a.hydrogen_fuel_cells:
            limits[columns.hydrogen_fuel_cell_kw(cell.name)] = cell.rated_kw
        for h2 in a.hydrogen_tanks:
            limits[pc.tank_offtake_kg_per_h(h2.name)] = h2.max_offtake_kg_per_h
        return limits

    def telemetry(self) -> list[tuple[str, str]]:
        """(topic, payload) of every MQTT read point now."""
        out = []
        for d in self.devices.values():
            if d.device.mqtt is None:
                continue
            for p in d.device.reads:
                value = self.values.get(p.series or "", math.nan)
                if f"{d.device.name}.{p.name}" in self.options.garbage:
                    out.append((topic_of(d.device, p), "garbage"))
                else:
                    out.append((topic_of(d.device, p), json.dumps({"value": value})))
        return out


def encode_raw(value: float, point: Point) -> list[int]:
    if math.isnan(value):
        return encode_nan(point)
    return encode(value, point.data_type, point.scale)


def encode_nan(point: Point) -> list[int]:
    """Garbage: NaN for a float, the type's largest value otherwise."""
    if point.data_type.registers == 2:
        return [0x7FC0, 0x0000]
    return [0x7FFF]


async def _serve(options: PlantOptions) -> None:
    from pymodbus.constants import ExcCodes
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    park = SimulatedPark(options)
    park.advance(time.time())
    refuse = set(options.refuse)
    servers = []

    def action_for(sim: _Device) -> Any:
        writes = {p.address: p for p in sim.device.writes}
        beat = sim.device.heartbeat.address if sim.device.heartbeat else None

        async def action(
            function_code: int,
            start: int,
            address: int,
            count: int,
            registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            now = time.time()
            park.advance(now)
            if set_values is None:
                registers[: len(sim.registers)] = sim.registers
                return None
            values = [int(v) for v in set_values]
            if address == beat:
                sim.beat, sim.beat_at = values[0], now
                sim.registers[address] = values[0]
                return None
            point = writes.get(address)
            if point is None:
                return ExcCodes.ILLEGAL_ADDRESS
            if f"{sim.device.name}.{point.name}" in refuse:
                return ExcCodes.ILLEGAL_VALUE
            applied = park.write(sim, point, decode(values, point.data_type, point.scale), now)
            words = encode(applied, point.data_type, point.scale)
            sim.registers[address : address + len(words)] = words
            cast(list[int], set_values)[:] = words
            return None

        return action

    for sim in park.devices.values():
        address = sim.device.modbus
        if address is None:
            continue
        device = SimDevice(
            address.unit_id,
            simdata=[SimData(0, count=BLOCK + 1, values=0, datatype=DataType.REGISTERS)],
            action=action_for(sim),
        )
        server = ModbusTcpServer([device], address=(address.host, address.port))
        servers.append(asyncio.create_task(server.serve_forever()))
    tasks = [*servers, asyncio.create_task(_clock(park))]
    if options.broker is not None and any(d.device.mqtt for d in park.devices.values()):
        tasks.append(asyncio.create_task(_mqtt(park, options.broker)))
    await asyncio.gather(*tasks)


async def _clock(park: SimulatedPark) -> None:
    while True:
        now = time.time()
        if not park.advance(now) and park.local_devices(now) != park.local:
            park.refresh(now)  # a heartbeat went quiet or came back
        await asyncio.sleep(min(park.options.interval_s / 20, 0.1))


async def _mqtt(park: SimulatedPark, broker: Broker) -> None:
    import aiomqtt

    mqtt_devices = {d.device.name: d for d in park.devices.values() if d.device.mqtt}
    commands = {
        f"{topic_of(d.device, p)}/set": (d, p)
        for d in mqtt_devices.values()
        for p in d.device.writes
    }
    beats = {
        f"{d.device.mqtt.topic_prefix}/{d.device.heartbeat.topic}": d
        for d in mqtt_devices.values()
        if d.device.mqtt and d.device.heartbeat and d.device.heartbeat.topic
    }

    async def publish_loop(client: aiomqtt.Client) -> None:
        interval, last = -2, 0.0
        while True:
            now = time.time()
            if park.interval != interval or now - last > TELEMETRY_S:
                interval, last = park.interval, now
                for topic, payload in park.telemetry():
                    await client.publish(topic, payload, qos=1, retain=True)
            await asyncio.sleep(min(park.options.interval_s / 20, 0.1))

    while True:
        publisher: asyncio.Task[None] | None = None
        try:
            async with aiomqtt.Client(broker.host, broker.port, keepalive=10) as client:
                for topic in [*commands, *beats]:
                    await client.subscribe(topic, qos=1)
                publisher = asyncio.create_task(publish_loop(client))
                async for message in client.messages:
                    topic = str(message.topic)
                    payload = message.payload
                    if not isinstance(payload, bytes | bytearray):
                        continue
                    now = time.time()
                    if topic in beats:
                        with contextlib.suppress(ValueError):
                            beats[topic].beat, beats[topic].beat_at = int(payload), now
                        continue
                    sim, point = commands[topic]
                    try:
                        value = float(json.loads(payload))
                    except (ValueError, TypeError):
                        continue
                    applied = park.write(sim, point, value, now)
                    await client.publish(topic_of(sim.device, point), json.dumps(applied), qos=1)
                    for t, p in park.telemetry():
                        await client.publish(t, p, qos=1, retain=True)
        except aiomqtt.MqttError:
            pass
        finally:
            if publisher is not None:
                publisher.cancel()
                await asyncio.gather(publisher, return_exceptions=True)
        await asyncio.sleep(0.5)


def run_plant(options: PlantOptions) -> None:
    """Process entry point: serve until killed."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(options))


def plant_options(
    site: Site,
    field_map: FieldMap,
    start: datetime,
    interval_s: float,
    broker: Broker | None,
    wall0: float | None = None,
    **extra: Any,
) -> PlantOptions:
    return PlantOptions(
        site_json=site.model_dump_json(),
        map_json=field_map.model_dump_json(),
        start=pd.Timestamp(start).tz_convert(site.location.timezone).isoformat(),
        wall0=time.time() if wall0 is None else wall0,
        interval_s=interval_s,
        broker=broker,
        **extra,
    )
