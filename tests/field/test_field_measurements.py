"""Measurements in: Modbus polling and MQTT telemetry from a simulated park into the store."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from field_helpers import Plants, field_map_for
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine

from controller import columns as pc
from controller.service import db
from controller.service.field import records
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import ParkField
from controller.service.field.plant import plant_options
from controller.service.field.quality import Quality
from controller.service.store import measurements as measurement_store
from sites import Site, columns

NOW = datetime(2026, 3, 10, 4, 7, tzinfo=UTC)  # 12:07 in the park: PV produces
INTERVAL = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def _stored(engine: Engine, site: Site) -> dict[str, float]:
    with db.read(engine) as connection:
        points = measurement_store.read(
            connection, site.id, None, INTERVAL, INTERVAL + pd.Timedelta(minutes=15)
        )
    assert all(p.ts == INTERVAL for p in points)
    return {p.series: p.value for p in points}


def test_modbus_and_mqtt_measurements_reach_the_store(
    engine: Engine, site: Site, broker: Broker, plants: Plants
) -> None:
    field_map = field_map_for(site)
    plants.start(plant_options(site, field_map, INTERVAL, 3600.0, broker), field_map)
    registry = CollectorRegistry()

    read_series = {p.series for d in field_map.devices for p in d.reads}

    async def run() -> set[Quality]:
        park = ParkField(engine, site, field_map, lambda: NOW, FieldMetrics(registry), broker)
        await park.start()
        qualities: set[Quality] = set()
        try:
            assert park.mqtt is not None
            await asyncio.wait_for(park.mqtt.connected.wait(), 10)
            for _ in range(100):  # retained telemetry arrives just after the subscription
                qualities |= {r.quality for r in await park.poll()}
                if set(_stored(engine, site)) == read_series:
                    break
                await asyncio.sleep(0.05)
            return qualities
        finally:
            await park.close()

    qualities = asyncio.run(run())
    assert Quality.GOOD in qualities and Quality.OUT_OF_RANGE not in qualities
    stored = _stored(engine, site)
    assert set(stored) == read_series
    soc = stored[pc.battery_soc_kwh("bess")]
    assert soc == pytest.approx(4000.0, abs=1.0)  # initial 50 % of 8 MWh, nothing set yet
    assert stored[columns.pv_kw("pv_dye_house")] > 100.0  # midday in March
    assert stored[columns.load_kw("dyeing_machines")] > 0.0
    text = generate_latest(registry).decode()
    assert (
        'microgrid_field_points_read_total{protocol="modbus",quality="good",site="gaotang-textile"}'
        in text
    )
    assert (
        'microgrid_field_points_read_total{protocol="mqtt",quality="good",site="gaotang-textile"}'
        in text
    )
    assert (
        'microgrid_field_device_up{device="bess_pcs",site="gaotang-textile"}' not in text
    )  # not watched


def test_a_dead_device_and_garbage_registers_are_flagged_and_block_nothing(
    engine: Engine, site: Site, plants: Plants
) -> None:
    field_map = field_map_for(site)
    modbus_names = tuple(d.name for d in field_map.devices if d.modbus is not None)
    garbage = ("pv_weaving_inverter.output_kw",)
    lone = plants.start(
        plant_options(site, field_map, INTERVAL, 3600.0, None, devices=("bess_pcs",)), field_map
    )
    others = tuple(n for n in modbus_names if n != "bess_pcs")
    plants.start(
        plant_options(site, field_map, INTERVAL, 3600.0, None, devices=others, garbage=garbage),
        field_map,
    )
    registry = CollectorRegistry()
    metrics = FieldMetrics(registry)
    park = ParkField(engine, site, field_map, lambda: NOW, metrics, None)
    metrics.watch(lambda: [park.status])

    async def poll() -> dict[tuple[str, str], Quality]:
        return {(r.device, r.point): r.quality for r in await park.poll()}

    async def run() -> tuple[dict[tuple[str, str], Quality], ...]:
        first = await poll()
        stored = _stored(engine, site)
        plants.stop(lone)
        t0 = time.monotonic()
        second = await poll()
        took = time.monotonic() - t0
        third = await poll()
        await park.close()
        return first, second, third, stored, took  # type: ignore[return-value]

    first, second, third, before, took = asyncio.run(run())
    assert first[("bess_pcs", "soc_kwh")] is Quality.GOOD
    assert first[("pv_weaving_inverter", "output_kw")] is Quality.OUT_OF_RANGE
    assert first[("pv_dye_house_inverter", "output_kw")] is Quality.GOOD
    assert pc.battery_soc_kwh("bess") in before
    assert columns.pv_kw("pv_weaving") not in before  # garbage is never stored
    for polled in (second, third):
        assert polled[("bess_pcs", "soc_kwh")] is Quality.COMMS_LOST
        assert polled[("pv_dye_house_inverter", "output_kw")] is Quality.GOOD
        assert polled[("pcc_meter", "import_kw")] is Quality.GOOD
    assert took < 2.0  # the dead device costs its own timeout at most, not the others'
    alarms = park.status.alarms()
    assert any(a.startswith("field device 'bess_pcs' (modbus 127.0.0.1:") for a in alarms)
    assert any("pv_weaving_inverter.output_kw" in a and "out_of_range" in a for a in alarms)
    after = _stored(engine, site)
    assert after[pc.battery_soc_kwh("bess")] == before[pc.battery_soc_kwh("bess")]  # kept
    text = generate_latest(registry).decode()
    assert 'microgrid_field_device_up{device="bess_pcs",site="gaotang-textile"} 0.0' in text
    assert 'microgrid_field_device_up{device="pcc_meter",site="gaotang-textile"} 1.0' in text

    # the flags are stored per series and interval: the stored SoC stays flagged good
    # (comms were lost after it was read), garbage is out of range with its value
    with db.read(engine) as connection:
        flags = {
            r.series: r
            for r in records.readings(
                connection, site.id, None, INTERVAL, INTERVAL + pd.Timedelta(minutes=15)
            )
        }
    soc_flag = flags[pc.battery_soc_kwh("bess")]
    assert soc_flag.quality is Quality.GOOD and soc_flag.value == before[soc_flag.series]
    assert (soc_flag.readings, soc_flag.good_readings) == (3, 1)
    junk = flags[columns.pv_kw("pv_weaving")]
    assert junk.quality is Quality.OUT_OF_RANGE and junk.good_readings == 0
    assert junk.value is None and "not a finite number" in junk.detail  # NaN in the register
    assert flags[pc.GRID_IMPORT_KW].quality is Quality.GOOD


def test_an_interval_whose_device_never_answered_is_flagged_comms_lost(
    engine: Engine, site: Site
) -> None:
    field_map = field_map_for(site)  # no plant: nobody answers
    park = ParkField(engine, site, field_map, lambda: NOW, FieldMetrics(CollectorRegistry()), None)

    async def run() -> None:
        await park.poll()
        await park.close()

    asyncio.run(run())
    with db.read(engine) as connection:
        flags = records.readings(connection, site.id, [pc.battery_soc_kwh("bess")], INTERVAL, NOW)
        stored = measurement_store.read(connection, site.id, None, INTERVAL, NOW)
    assert [f.quality for f in flags] == [Quality.COMMS_LOST] and flags[0].value is None
    assert flags[0].device == "bess_pcs" and flags[0].detail
    assert stored == []
