"""The chemical CHP park's flexible process loads and hydrogen in the field: a real plan's
batch draw and electrolyser power, written by the park's loop over Modbus, reach the
simulated plant, and the batch's metered draw (Modbus) and the hydrogen tank's level (MQTT)
come back as measurements that move as the plan says."""

from __future__ import annotations

import asyncio
import time

import pandas as pd
import pytest
from field_helpers import Plants, field_map_for
from prometheus_client import CollectorRegistry
from real_plans import real_plan
from sqlalchemy import Engine

from controller import columns as pc
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import ParkField, SetpointRound
from controller.service.field.plant import SimulatedPark, plant_options
from controller.service.field.quality import Quality
from controller.service.field.records import SetpointStatus
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store
from sites import Site, columns, load_bundled_site
from sites.time_step import HOURS_PER_STEP, STEP

PARK = "liaocheng-chemical-chp"
DAY = pd.Timestamp("2026-04-12 00:00", tz="Asia/Shanghai")
"""A day whose plan runs the resin batch and the electrolyser together from 08:15."""
T0 = pd.Timestamp("2026-04-12 10:00", tz="Asia/Shanghai")
BATCH = columns.batch_kw("resin_batch")
ELECTROLYSER = columns.electrolyser_kw("pem_electrolyser")
CURTAILED = columns.curtailed_kw("air_separation_turndown")
LEVEL = pc.tank_level_kg("h2_store")
FLOAT32_KW = 0.01
"""A kW value around 2,500 read back from a float32 register (resolution about 2e-4 kW)."""
HYDROGEN_KG = 0.01
"""The plan's and the plant's hydrogen made in a quarter hour agree within 10 g: both use
the electrolyser's curve (the plan its segments, the plant the curve itself) and the tank's
standing loss; the level travels as a float over MQTT."""
SETTLE_S = 10.0
"""How long the test waits for the plant's telemetry to show a setpoint (a loaded machine
is slow; the plant publishes at least every 2 s)."""


@pytest.fixture
def site() -> Site:
    return load_bundled_site(PARK)


def test_batch_and_electrolyser_setpoints_reach_the_plant_and_their_effect_is_measured(
    engine: Engine, site: Site, broker: Broker, plants: Plants
) -> None:
    plan = real_plan(PARK, DAY, 96, PlanKind.DAY_AHEAD)
    header = store_plan(engine, plan, DAY.date(), None, None)
    frame = plan.frame
    row = {name: float(frame[name].loc[T0]) for name in (BATCH, ELECTROLYSER, CURTAILED, LEVEL)}
    assert row[BATCH] > 1000.0 and row[ELECTROLYSER] > 100.0  # the plan runs both here
    tank = site.assets.hydrogen_tanks[0]
    kept = tank.kept_over(HOURS_PER_STEP)
    planned_gain = row[LEVEL] - float(frame[LEVEL].loc[T0 - STEP]) * kept
    assert planned_gain > 1.0  # the tank fills: the electrolyser's hydrogen is seen

    field_map = field_map_for(site)
    plants.start(plant_options(site, field_map, T0, 3600.0, broker), field_map)
    now = T0.tz_convert("UTC").to_pydatetime()
    park = ParkField(
        engine, site, field_map, lambda: now, FieldMetrics(CollectorRegistry()), broker
    )

    async def read() -> dict[str, float]:
        readings = await park.poll()
        return {
            r.series: r.value for r in readings if r.quality is Quality.GOOD and r.value is not None
        }

    async def settled(check: str, differs_from: float) -> dict[str, float]:
        """Poll until ``check`` is read and differs from ``differs_from`` (or time is up)."""
        deadline = time.monotonic() + SETTLE_S
        values = await read()
        while (
            abs(values.get(check, differs_from) - differs_from) < 1e-6
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.1)
            values = await read()
        return values

    async def run() -> tuple[dict[str, float], dict[str, float], SetpointRound]:
        await park.start()
        try:
            assert park.mqtt is not None
            await asyncio.wait_for(park.mqtt.connected.wait(), 10)
            before = await settled(LEVEL, -1.0)  # the retained telemetry has arrived
            made = await park.apply_setpoints(now)
            after = await settled(LEVEL, before[LEVEL])
            return before, after, made
        finally:
            await park.close()

    before, after, made = asyncio.run(run())
    sent = {s.setpoint: s for s in made.sent}
    assert made.plan_id == header.id
    for name in (BATCH, ELECTROLYSER, CURTAILED):
        assert sent[name].status is SetpointStatus.CONFIRMED, sent[name]
        assert sent[name].value == pytest.approx(row[name], abs=FLOAT32_KW)
    assert {s.status for s in sent.values()} == {SetpointStatus.CONFIRMED}

    # before the setpoints: no batch, and the tank only loses its standing loss
    initial = tank.capacity_kg * tank.initial_level_fraction
    assert before[LEVEL] == pytest.approx(initial * kept, abs=HYDROGEN_KG)
    assert before[BATCH] == 0.0
    # after: the batch draws its setpoint and the tank gains what the plan made there
    assert after[BATCH] == pytest.approx(row[BATCH], abs=FLOAT32_KW)
    assert after[LEVEL] - before[LEVEL] == pytest.approx(planned_gain, abs=HYDROGEN_KG)
    with db.read(engine) as connection:
        stored = measurement_store.read(
            connection, site.id, [BATCH, LEVEL], now, (T0 + STEP).tz_convert("UTC")
        )
    latest = {p.series: p.value for p in stored}
    assert latest[BATCH] == pytest.approx(after[BATCH], abs=FLOAT32_KW)
    assert latest[LEVEL] == pytest.approx(after[LEVEL], abs=HYDROGEN_KG)


def test_the_plant_keeps_the_tank_level_from_one_interval_to_the_next(site: Site) -> None:
    """What the devices show during an interval starts from where the last one ended: the
    hydrogen made in interval 0 is still in the tank in interval 1's readings."""
    field_map = field_map_for(site)
    wall0 = 1_000_000.0
    options = plant_options(site, field_map, T0, 60.0, None, wall0=wall0)
    park = SimulatedPark(options)
    park.advance(wall0 + 1.0)
    device = park.devices["pem_electrolyser_controller"]
    (point,) = device.device.writes
    assert park.write(device, point, 400.0, wall0 + 1.0) == 400.0
    first = park.values[LEVEL]
    tank = site.assets.hydrogen_tanks[0]
    initial = tank.capacity_kg * tank.initial_level_fraction * tank.kept_over(HOURS_PER_STEP)
    gain = first - initial
    assert gain > 1.0  # 400 kW for a quarter hour makes about 2 kg
    park.advance(wall0 + 61.0)  # interval 1: the setpoint still applies
    kept = tank.kept_over(HOURS_PER_STEP)
    assert park.values[LEVEL] == pytest.approx(first * kept + gain, abs=HYDROGEN_KG)
