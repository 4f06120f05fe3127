"""Faults of the field loop: the broker restarts, the clock jumps. Each gives an alarm and no
crash, the other devices keep working, and nothing stored is lost."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from field_helpers import REQUIRE_MQTT, Plants, answers, field_map_for, free_port, wait_for
from prometheus_client import CollectorRegistry
from real_plans import real_plan
from sqlalchemy import Engine

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.field import records
from controller.service.field.loop import FieldLoop
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import ParkField
from controller.service.field.plant import plant_options
from controller.service.field.quality import Quality
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store
from sites import Site

T0 = pd.Timestamp("2026-03-10 10:00", tz="Asia/Shanghai")


class OwnBroker:
    """A Mosquitto process of this test's own on a free port (stopped and started at will)."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(binary):
            if REQUIRE_MQTT:
                pytest.fail("the mosquitto binary is needed for the broker restart test")
            pytest.skip("no mosquitto binary")
        self.port = free_port()
        self.config = tmp / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: answers("127.0.0.1", self.port), 10, "the broker answers")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    made = OwnBroker(tmp_path)
    made.start()
    yield made
    made.stop()


def _count(engine: Engine, site: Site) -> int:
    with db.read(engine) as connection:
        return measurement_store.count(connection, site.id)


def test_a_broker_restart_loses_mqtt_for_a_while_and_nothing_else(
    engine: Engine, site: Site, own_broker: OwnBroker, plants: Plants
) -> None:
    broker = Broker("127.0.0.1", own_broker.port)
    field_map = field_map_for(site)
    plants.start(plant_options(site, field_map, T0, 3600.0, broker), field_map)
    park = ParkField(
        engine,
        site,
        field_map,
        lambda: datetime.now(UTC),
        FieldMetrics(CollectorRegistry()),
        broker,
    )
    mqtt_point = ("dyeing_machines_meter", "power_kw")
    modbus_point = ("pcc_meter", "import_kw")

    async def until(quality: Quality, seconds: float) -> dict[tuple[str, str], Quality]:
        deadline = time.monotonic() + seconds
        while True:
            polled = {(r.device, r.point): r.quality for r in await park.poll()}
            if polled.get(mqtt_point) is quality or time.monotonic() > deadline:
                return polled
            await asyncio.sleep(0.1)

    async def run() -> tuple[dict[tuple[str, str], Quality], ...]:
        await park.start()
        before = await until(Quality.GOOD, 15)
        stored = _count(engine, site)
        own_broker.stop()
        during = await until(Quality.COMMS_LOST, 15)
        alarms = park.status.alarms()
        own_broker.start()
        after = await until(Quality.GOOD, 20)
        # every MQTT device reports again, each at its own pace (a loaded machine's publishers
        # take a few seconds more): wait for the last one, up to 20 s, before closing
        deadline = time.monotonic() + 20
        while [a for a in park.status.alarms() if "MQTT" in a] and time.monotonic() < deadline:
            await park.poll()
            await asyncio.sleep(0.1)
        await park.close()
        assert _count(engine, site) >= stored > 0  # nothing stored was lost
        assert any(f"MQTT broker {broker} does not answer" in a for a in alarms), alarms
        return before, during, after

    before, during, after = asyncio.run(run())
    assert before[mqtt_point] is Quality.GOOD and before[modbus_point] is Quality.GOOD
    assert during[mqtt_point] is Quality.COMMS_LOST and during[modbus_point] is Quality.GOOD
    assert after[mqtt_point] is Quality.GOOD and after[modbus_point] is Quality.GOOD
    assert not [a for a in park.status.alarms() if "MQTT" in a]


class JumpingClock:
    def __init__(self, start: datetime) -> None:
        self._base = start
        self._mono = time.monotonic()
        self.offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._base + timedelta(seconds=time.monotonic() - self._mono) + self.offset


def test_a_clock_jump_is_an_alarm_and_the_setpoints_follow_the_new_time_and_plan(
    engine: Engine, site: Site, plants: Plants
) -> None:
    plan = real_plan(site.id, T0, 8, PlanKind.DAY_AHEAD)
    store_plan(engine, plan, T0.date(), None, None)
    field_map = field_map_for(site)
    field_map = field_map.model_copy(
        update={"poll_s": 0.2, "devices": [d for d in field_map.devices if d.modbus is not None]}
    )
    plants.start(plant_options(site, field_map, T0, 3600.0, None), field_map)
    clock = JumpingClock((T0 + pd.Timedelta(minutes=1)).tz_convert("UTC").to_pydatetime())
    loop = FieldLoop(engine, [(site, field_map)], clock, FieldMetrics(CollectorRegistry()), None)

    def sent_for() -> set[datetime]:
        with db.read(engine) as connection:
            return {r.interval_start for r in records.recent(connection, site.id, 1000)}

    def plans_sent(at: datetime) -> set[int | None]:
        with db.read(engine) as connection:
            return {
                r.plan_id
                for r in records.recent(connection, site.id, 1000)
                if r.interval_start == at
            }

    first = T0.tz_convert("UTC").to_pydatetime()
    later = first + timedelta(hours=1)
    loop.start()
    try:
        wait_for(lambda: first in sent_for(), 20, "setpoints for the first interval")
        stored = _count(engine, site)
        clock.offset = timedelta(hours=1)
        wait_for(lambda: later in sent_for(), 20, "setpoints for the interval after the jump")
        alarms = loop.alarms(site.id)
        assert any(a.startswith("the clock jumped by +3600 s") for a in alarms), alarms
        wait_for(lambda: _count(engine, site) > stored, 20, "polling goes on after the jump")
        replanned = store_plan(engine, plan, T0.date(), None, None)  # a new version comes in
        wait_for(lambda: replanned.id in plans_sent(later), 20, "the new plan's setpoints, at once")
    finally:
        loop.stop()
    assert not [a for a in loop.alarms(site.id) if "round failed" in a]
