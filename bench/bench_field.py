"""The field loop's figures: points read per second per protocol, and the time from an
interval's start to the last setpoint confirmed, for the park with the most field points.

The park's simulated plant (pymodbus TCP servers and an MQTT publisher, one process of its
own, :mod:`controller.service.field.plant`) runs on loopback; the controller side runs in
this process against a fresh SQLite store, as the service does:

- Modbus: every read point of every Modbus device, polled in rounds (one task per device,
  one block read each) and the good values upserted into the store;
- MQTT: a burst of telemetry messages published on the park's point topics by a second
  client, counted as the park's subscriber receives them (parsed and kept per point);
- setpoints: rounds of the plan in force's setpoints (a real plan of the park, stored like
  the service's): written, read back (Modbus) or echoed (MQTT), and recorded, timed from
  the interval's start to the last answer.

Without an MQTT broker on 127.0.0.1:1883 the MQTT figures are left out (and said so).
Both processes share the machine's cores with anything else running.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
from prometheus_client import CollectorRegistry

from controller.planner import plan as make_plan
from controller.plans.plan import Plan, PlanKind
from controller.service import db, migrate
from controller.service.feeder import replay_values
from controller.service.field.devicemap import FieldMap, bundled_map_path, load_field_map
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker, topic_of
from controller.service.field.park import ParkField
from controller.service.field.plant import plant_options, run_plant
from controller.service.field.records import SetpointStatus
from controller.service.pipeline import store_plan
from controller.service.store.sites import upsert_sites
from sites import Site, bundled_sites, columns

T0 = pd.Timestamp("2026-03-10 10:00", tz="Asia/Shanghai")
POLL_ROUNDS = 200
MQTT_MESSAGES = 20_000
SETPOINT_ROUNDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _largest() -> tuple[Site, FieldMap]:
    maps = [(s, load_field_map(bundled_map_path(s.id), s)) for s in bundled_sites()]
    return max(maps, key=lambda sm: sum(len(d.points) for d in sm[1].devices))


def _on_free_ports(field_map: FieldMap, broker: Broker | None) -> FieldMap:
    devices = []
    for d in field_map.devices:
        if d.modbus is not None:
            d = d.model_copy(update={"modbus": d.modbus.model_copy(update={"port": _free_port()})})
        elif broker is None or d.mqtt is None:
            continue
        else:
            prefix = d.mqtt.topic_prefix.replace("parks", f"bench-{os.getpid()}", 1)
            d = d.model_copy(update={"mqtt": d.mqtt.model_copy(update={"topic_prefix": prefix})})
        devices.append(d)
    return field_map.model_copy(update={"devices": devices})


def _plan(site: Site) -> Plan:
    index = pd.date_range(T0, periods=16, freq="15min")
    values = replay_values(site, index)
    forecast = pd.DataFrame(
        {columns.quantile(c, p): values[c] for c in values.columns for p in (10, 50, 90)}
    )
    return make_plan(site, forecast, kind=PlanKind.DAY_AHEAD, forecast_issued_at=T0.to_pydatetime())


async def _modbus_rate(park: ParkField) -> tuple[float, int]:
    points = sum(len(link.device.reads) for link in park.modbus.values())
    await park.poll()  # connections made
    started = time.perf_counter()
    for _ in range(POLL_ROUNDS):
        await park.poll()
    return POLL_ROUNDS * points / (time.perf_counter() - started), points


async def _mqtt_rate(park: ParkField, broker: Broker) -> float:
    import aiomqtt

    assert park.mqtt is not None
    await asyncio.wait_for(park.mqtt.connected.wait(), 10)
    topics = [topic_of(d, p) for d in park.mqtt.devices for p in d.reads]
    await asyncio.sleep(0.5)
    link = park.mqtt
    before = link.messages
    async with aiomqtt.Client(broker.host, broker.port) as client:
        started = time.perf_counter()
        for i in range(MQTT_MESSAGES):
            await client.publish(topics[i % len(topics)], f'{{"value": {i % 100}}}', qos=0)
        deadline = time.monotonic() + 60
        while link.messages - before < MQTT_MESSAGES and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
    return (link.messages - before) / elapsed


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def _setpoint_rounds(park: ParkField) -> list[tuple[float, int, int]]:
    out = []
    for k in range(SETPOINT_ROUNDS):
        start = (T0 + (k % 16) * pd.Timedelta(minutes=15)).tz_convert("UTC").to_pydatetime()
        park.clock = _fixed(start)
        made = await park.apply_setpoints(start)
        out.append((made.seconds, len(made.sent), made.count(SetpointStatus.CONFIRMED)))
    return out


def main() -> int:
    site, bundled = _largest()
    broker: Broker | None = Broker("127.0.0.1", 1883)
    if not _answers(1883):
        print("no MQTT broker answers on 127.0.0.1:1883: Modbus figures only")
        broker = None
    field_map = _on_free_ports(bundled, broker)
    options = plant_options(site, field_map, T0.to_pydatetime(), 3600.0, broker)
    plant = multiprocessing.get_context("spawn").Process(target=run_plant, args=(options,))
    plant.start()
    try:
        ports = [d.modbus.port for d in field_map.devices if d.modbus is not None]
        deadline = time.monotonic() + 60
        while not all(_answers(p) for p in ports):
            if time.monotonic() > deadline:
                print("the simulated plant did not start")
                return 1
            time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            engine = db.make_engine(f"sqlite:///{Path(tmp) / 'store.db'}", "NORMAL")
            migrate.upgrade(engine)
            with db.write(engine) as connection:
                upsert_sites(connection, {site.id: (site, "bundled")})
            store_plan(engine, _plan(site), T0.date(), None, None)
            start = T0.tz_convert("UTC").to_pydatetime()
            park = ParkField(
                engine, site, field_map, lambda: start, FieldMetrics(CollectorRegistry()), broker
            )
            devices = len(field_map.devices)
            writes = sum(len(d.writes) for d in field_map.devices)
            print(f"park {site.id}: {devices} devices, {writes} write points (largest map)")

            async def run() -> None:
                await park.start()
                rate, points = await _modbus_rate(park)
                print(
                    f"modbus: {rate:,.0f} points read/s ({points} read points per round, "
                    f"{POLL_ROUNDS} rounds, stored each round)"
                )
                if broker is not None:
                    print(
                        f"mqtt:   {await _mqtt_rate(park, broker):,.0f} points received/s "
                        f"({MQTT_MESSAGES} telemetry messages)"
                    )
                rounds = await _setpoint_rounds(park)
                seconds = sorted(r[0] for r in rounds)
                confirmed = sum(r[2] for r in rounds)
                sent = sum(r[1] for r in rounds)
                p95 = seconds[int(0.95 * (len(seconds) - 1))]
                print(
                    f"interval start to last setpoint confirmed: median "
                    f"{statistics.median(seconds) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                    f"max {seconds[-1] * 1000:.0f} ms over {len(rounds)} rounds "
                    f"({confirmed}/{sent} confirmed)"
                )
                await park.close()

            asyncio.run(run())
            engine.dispose()
    finally:
        plant.kill()
        plant.join(10)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
