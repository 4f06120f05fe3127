"""Setpoints out with read-back: a park run for a few accelerated intervals against a
simulated plant behind real Modbus TCP servers and the MQTT broker; refused writes, device
limits and manual mode."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import pandas as pd
import pytest
from field_helpers import Plants, field_map_for
from prometheus_client import CollectorRegistry
from real_plans import real_plan
from sqlalchemy import Engine

from controller import columns as pc
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.field import records
from controller.service.field.devicemap import FieldMap
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import ParkField, SetpointRound
from controller.service.field.plant import plant_options
from controller.service.field.records import SetpointStatus
from controller.service.field.setpoints import orders
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store
from sites import Site, columns

T0 = pd.Timestamp("2026-03-10 10:00", tz="Asia/Shanghai")
STEP = pd.Timedelta(minutes=15)
INTERVAL_S = 5.0
"""Wall seconds per simulated quarter hour."""
SETTLE_S = 10.0
"""How long a test waits for the simulated plant to react (a loaded machine is slow)."""


def _sim_clock(wall0: float) -> Callable[[], datetime]:
    def now() -> datetime:
        elapsed = (time.time() - wall0) * 900.0 / INTERVAL_S
        moment = T0 + pd.Timedelta(seconds=round(elapsed, 6))
        return moment.tz_convert("UTC").floor("us").to_pydatetime()

    return now


def _store_plan(engine: Engine, steps: int = 8) -> tuple[int, pd.DataFrame]:
    plan = real_plan("gaotang-textile", T0, steps, PlanKind.DAY_AHEAD)
    header = store_plan(engine, plan, T0.date(), None, None)
    return header.id, plan.frame


def _wait_until(wall: float) -> None:
    time.sleep(max(wall - time.time(), 0.0))


def test_a_park_runs_accelerated_intervals_and_the_plant_follows_the_plan(
    engine: Engine, site: Site, broker: Broker, plants: Plants
) -> None:
    plan_id, frame = _store_plan(engine)
    field_map = field_map_for(site)
    wall0 = time.time() + 4.0
    plants.start(plant_options(site, field_map, T0, INTERVAL_S, broker, wall0=wall0), field_map)
    clock = _sim_clock(wall0)
    park = ParkField(engine, site, field_map, clock, FieldMetrics(CollectorRegistry()), broker)
    intervals = 4

    async def run() -> list[SetpointRound]:
        await park.start()
        assert park.mqtt is not None
        await asyncio.wait_for(park.mqtt.connected.wait(), 10)
        # the first round would otherwise load the plan too: ready before interval 0 begins
        await asyncio.to_thread(park._plan_row, T0.tz_convert("UTC").to_pydatetime())
        rounds = []
        for k in range(intervals):
            _wait_until(wall0 + k * INTERVAL_S + 0.05)
            start = (T0 + k * STEP).tz_convert("UTC").to_pydatetime()
            rounds.append(await park.apply_setpoints(start))
            await park.heartbeat()
            await park.poll()  # at once: a slow round on a loaded machine still reads in k
            await asyncio.sleep(0.4)  # the MQTT devices report the interval's flows
            await park.poll()
        await park.close()
        return rounds

    rounds = asyncio.run(run())
    row = {str(k): float(v) for k, v in frame.iloc[0].items() if isinstance(v, float)}
    written = len(orders(site, field_map, row))  # a point the plan has no column for is skipped
    assert written >= sum(len(d.writes) for d in field_map.devices) - 1
    for made in rounds:
        assert made.plan_id == plan_id and not made.held
        assert len(made.sent) == written
        assert made.count(SetpointStatus.CONFIRMED) == written, made.sent
        # how fast a round is: bench/bench_field.py (it depends on the load, so not a test)
    with db.read(engine) as connection:
        stored = records.recent(connection, site.id, limit=1000)
        start, end = T0.to_pydatetime(), (T0 + intervals * STEP).to_pydatetime()
        soc = measurement_store.read(connection, site.id, [pc.battery_soc_kwh("bess")], start, end)
        loads = measurement_store.read(
            connection, site.id, [columns.load_kw("dyeing_machines")], start, end
        )
    assert len(stored) == intervals * written  # every device answered: nothing resent
    assert {r.status for r in stored} == {SetpointStatus.CONFIRMED}
    discharge = [r for r in stored if r.setpoint == columns.battery_discharge_kw("bess")]
    planned = frame[columns.battery_discharge_kw("bess")].iloc[:intervals].to_numpy()
    sent = [r.reported_value for r in sorted(discharge, key=lambda r: r.interval_start)]
    assert sent == pytest.approx(list(planned), abs=0.01)
    # the plant's SoC (read over Modbus at each interval) moves as the plan says it will
    measured = [p.value for p in soc]
    expected = frame[pc.battery_soc_kwh("bess")].iloc[:intervals].to_numpy()
    assert len(measured) == intervals
    assert measured == pytest.approx(list(expected), abs=1.0)
    initial = site.assets.batteries[0].capacity_kwh * site.assets.batteries[0].initial_soc_fraction
    assert abs(expected[-1] - initial) > 200.0  # it does move
    assert len(loads) == intervals  # MQTT telemetry arrived in every interval


def _refusing_map(field_map: FieldMap) -> FieldMap:
    """The PCS's discharge limit in the map set below what the plan asks of it."""
    devices = []
    for d in field_map.devices:
        if d.name == "bess_pcs":
            points = [
                p.model_copy(update={"max": 50.0}) if p.name == "discharge_kw" else p
                for p in d.points
            ]
            d = d.model_copy(update={"points": points})
        devices.append(d)
    return field_map.model_copy(update={"devices": devices})


def test_refused_writes_device_limits_and_manual_mode(
    engine: Engine, site: Site, plants: Plants
) -> None:
    plan_id, frame = _store_plan(engine)
    field_map = _refusing_map(field_map_for(site))
    modbus_only = field_map.model_copy(
        update={"devices": [d for d in field_map.devices if d.modbus is not None]}
    )
    refuse = ("pv_weaving_inverter.output_limit_kw",)
    options = plant_options(site, modbus_only, T0, 3600.0, None, refuse=refuse)
    plants.start(options, modbus_only)
    now = T0.tz_convert("UTC").to_pydatetime()
    metrics = FieldMetrics(CollectorRegistry())
    caps = (900.0, 1200.0)  # a grid event's import and export limits
    park = ParkField(engine, site, modbus_only, lambda: now, metrics, None, lambda _: caps)

    async def run() -> tuple[SetpointRound, SetpointRound, SetpointRound]:
        first = await park.apply_setpoints(now)
        again = await park.apply_setpoints(now, only={"pcc_meter"})  # a retry of one device
        assert {s.device for s in again.sent} == {"pcc_meter"}
        assert again.count(SetpointStatus.CONFIRMED) == len(again.sent) > 0
        with db.write(engine) as connection:
            records.set_mode(connection, site.id, "bess_pcs", True, now, "maintenance")
        second = await park.apply_setpoints(now)
        with db.write(engine) as connection:
            records.set_mode(connection, site.id, records.PARK, True, now, "operator takes over")
        third = await park.apply_setpoints(now)
        await park.close()
        return first, second, third

    first, second, third = asyncio.run(run())
    by_point = {(s.device, s.point): s for s in first.sent}
    refused = by_point[("pv_weaving_inverter", "output_limit_kw")]
    assert refused.status is SetpointStatus.REJECTED and "refuses the write" in refused.detail
    clamped = by_point[("bess_pcs", "discharge_kw")]
    planned = float(frame[columns.battery_discharge_kw("bess")].iloc[0])
    assert planned > 50.0
    assert clamped.value == 50.0 and clamped.status is SetpointStatus.CONFIRMED
    assert by_point[("pcc_meter", "export_limit_kw")].value == 1200.0  # a grid event's cap
    assert by_point[("pcc_meter", "import_limit_kw")].value == 900.0
    assert by_point[("pcc_meter", "import_limit_kw")].status is SetpointStatus.CONFIRMED
    others = [
        s for s in first.sent if s.point != "output_limit_kw" or s.device != "pv_weaving_inverter"
    ]
    assert {s.status for s in others} == {SetpointStatus.CONFIRMED}
    assert park.status.alarms() == [
        f"setpoint {columns.pv_kw('pv_weaving')} to field device 'pv_weaving_inverter' for "
        f"{now:%Y-%m-%d %H:%M} UTC rejected: {refused.detail}"
    ]
    assert second.held == ["bess_pcs"] and all(s.device != "bess_pcs" for s in second.sent)
    to_pcs = sum(1 for s in first.sent if s.device == "bess_pcs")
    assert to_pcs >= 2 and len(second.sent) == len(first.sent) - to_pcs
    assert third.sent == [] and len(third.held) == len({s.device for s in first.sent})
    with db.read(engine) as connection:
        stored = records.recent(connection, site.id, limit=1000)
    row = next(r for r in stored if r.setpoint == columns.battery_discharge_kw("bess"))
    assert row.planned_value == pytest.approx(planned) and row.sent_value == 50.0
    assert "clamped from" in row.detail and row.plan_id == plan_id


def test_a_device_whose_heartbeat_goes_quiet_falls_back_to_its_local_rules(
    engine: Engine, site: Site, plants: Plants
) -> None:
    _store_plan(engine)
    field_map = field_map_for(site)
    devices = []
    for d in field_map.devices:
        if d.modbus is None:
            continue
        if d.heartbeat is not None:
            d = d.model_copy(
                update={"heartbeat": d.heartbeat.model_copy(update={"timeout_s": 1.0})}
            )
        devices.append(d)
    field_map = field_map.model_copy(update={"devices": devices})
    plants.start(plant_options(site, field_map, T0, 3600.0, None), field_map)
    now = T0.tz_convert("UTC").to_pydatetime()
    park = ParkField(engine, site, field_map, lambda: now, FieldMetrics(CollectorRegistry()), None)
    soc = ("bess_pcs", "soc_kwh")
    initial = site.assets.batteries[0].capacity_kwh * site.assets.batteries[0].initial_soc_fraction

    async def soc_now() -> float:
        readings = {(r.device, r.point): r for r in await park.poll()}
        value = readings[soc].value
        assert value is not None
        return value

    async def settled(expected: float) -> float:
        """The SoC read until it is ``expected`` or ``SETTLE_S`` have passed (the plant
        notices the heartbeat within a tenth of a second on a quiet machine)."""
        deadline = time.monotonic() + SETTLE_S
        value = await soc_now()
        while abs(value - expected) > 0.01 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            value = await soc_now()
        return value

    async def run() -> tuple[float, float, float]:
        await park.heartbeat()
        made = await park.apply_setpoints(now)
        assert made.count(SetpointStatus.CONFIRMED) == len(made.sent)
        following = await soc_now()
        await asyncio.sleep(2.0)  # no heartbeat for twice the device's timeout
        local = await settled(initial)
        await park.heartbeat()
        back = await settled(following)
        await park.close()
        return following, local, back

    following, local, back = asyncio.run(run())
    assert abs(following - initial) > 20.0  # the PCS follows the plan's setpoint
    assert local == pytest.approx(initial, abs=0.01)  # quiet controller: the PCS holds zero
    assert back == pytest.approx(following, abs=0.01)  # the setpoint applies again
