"""The whole loop in the running service, on an accelerated clock: the field loop reads the
simulated plant over Modbus and MQTT into the store, the service's own pipeline re-plans from
those measurements (forecast from the stored history, storage levels as measured), the loop
writes the new plan's setpoints and reads them back, and the plant follows them."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from field_helpers import PARK, Plants, field_map_for, wait_for

from controller import columns as pc
from controller.service import db
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.field import records
from controller.service.field.mqtt import Broker
from controller.service.field.plant import plant_options
from controller.service.field.quality import Quality
from controller.service.settings import ServiceSettings
from controller.service.store import plans as plan_store
from sites import Site, columns

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

T0 = pd.Timestamp("2026-03-10 14:00", tz="Asia/Shanghai")  # the plans charge the battery
STEP = pd.Timedelta(minutes=15)
INTERVAL_S = 8.0
"""Wall seconds per quarter hour: a re-plan and a round of setpoints fit in one."""
LEAD_S = 25.0
"""Wall seconds before the clock starts: the service starts and makes its first plan (the
forecast models' fit, about 10 s, is part of it)."""
REPLANS = 2
SOC = pc.battery_soc_kwh("bess")  # read from the PCS over Modbus
TANK = pc.thermal_storage_level_kwh_th("hot_water_tank")  # from its sensor over MQTT
LOAD = columns.load_kw("dyeing_machines")  # an MQTT load meter


def _clock(wall0: float) -> Callable[[], datetime]:
    """The park's time: interval 0 until ``wall0``, then a quarter hour per ``INTERVAL_S``."""

    def now() -> datetime:
        elapsed = max(time.time() - wall0, 0.0) * 900.0 / INTERVAL_S
        moment = T0 + pd.Timedelta(seconds=round(elapsed, 6))
        return moment.tz_convert("UTC").floor("us").to_pydatetime()

    return now


def _utc(k: int) -> datetime:
    return (T0 + k * STEP).tz_convert("UTC").to_pydatetime()


def test_the_service_replans_from_field_measurements_and_the_plant_follows(
    tmp_path: Path, site: Site, broker: Broker, plants: Plants
) -> None:
    field_map = field_map_for(site).model_copy(update={"poll_s": 0.25})
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(field_map.model_dump(mode="json")), encoding="utf-8")
    # interval 0 lasts LEAD_S + INTERVAL_S wall seconds; interval k >= 1 INTERVAL_S each
    wall0 = time.time() + LEAD_S
    plants.start(
        plant_options(site, field_map, T0.to_pydatetime(), INTERVAL_S, broker, wall0=wall0),
        field_map,
    )
    clock = _clock(wall0)
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        sites=[PARK],
        scheduler=False,
        startup_catch_up=False,
        forecast_processes=0,
        key_cache_ttl_s=0.0,
        field_devices=True,
        device_maps=[path],
        history_days=3,
    )
    app = create_app(settings, clock=clock)
    service = app.state.service
    service.runner.clock = clock
    ReplayFeeder(service.engine, service.parks, clock, 3).feed_site(
        service.parks.by_id[PARK], pd.Timestamp(T0)
    )  # the history before interval 0; from then on only the field brings values
    token = create_key(service.engine, Role.OPERATOR, [], service.parks.ids).token
    operator = {"Authorization": f"Bearer {token}"}

    def replan(client: TestClient) -> dict[str, Any]:
        run: dict[str, Any] = client.post(
            f"/api/v1/sites/{PARK}/replan", headers=operator, params={"wait": True}
        ).json()
        assert run["status"] == "succeeded", run
        return run

    def confirmed(client: TestClient, plan_id: int, k: int) -> bool:
        state = client.get(f"/api/v1/sites/{PARK}/field", headers=operator).json()
        mine = [
            s
            for s in state["setpoints"]
            if s["plan_id"] == plan_id
            and pd.Timestamp(s["interval_start"]) == pd.Timestamp(_utc(k))
        ]
        names = {s["setpoint"] for s in mine}
        return wanted <= names and all(s["status"] == "confirmed" for s in mine)

    def measured(series: str, k: int) -> float | None:
        with db.read(service.engine) as connection:
            flags = records.readings(connection, PARK, [series], _utc(k), _utc(k + 1))
        good = [f for f in flags if f.quality is Quality.GOOD]
        return good[0].value if good else None

    wanted = {columns.battery_charge_kw("bess"), columns.battery_discharge_kw("bess")}
    wanted |= {pc.thermal_storage_charge_kw_th("hot_water_tank"), "import_limit_kw"}
    plans: list[tuple[int, int]] = []  # (interval, id of the plan made in it)
    with TestClient(app) as client:
        wait_for(lambda: measured(SOC, 0) is not None, 20, "the PCS's SoC read in interval 0")
        for k in range(REPLANS + 1):
            if k:  # just after interval k begins (interval k-1's last poll is in the store)
                # however fast the last round was: until interval k begins, then a margin
                ahead = max(wall0 + k * INTERVAL_S - time.time(), 0.0)
                wait_for(lambda k=k: clock() >= _utc(k), ahead + INTERVAL_S * 3, f"interval {k}")
                time.sleep(0.5)
            run = replan(client)
            with db.read(service.engine) as connection:
                stored = plan_store.load(connection, run["plan_id"], site.location.timezone)
            assert stored is not None
            assert stored.frame.index[0] == T0 + k * STEP  # planned from interval k on
            plans.append((k, run["plan_id"]))
            wait_for(
                lambda k=k, plan_id=run["plan_id"]: confirmed(client, plan_id, k),
                INTERVAL_S / 2,
                f"the setpoints of the plan made in interval {k} confirmed in it",
            )
            assert clock() < _utc(k + 1), "a re-plan and its setpoints took a whole interval"
        ahead = max(wall0 + (REPLANS + 1) * INTERVAL_S - time.time(), 0.0)
        wait_for(
            lambda: clock() >= _utc(REPLANS + 1), ahead + INTERVAL_S * 3, "the last interval ends"
        )

    # each re-plan started from the levels the devices reported at the end of the interval
    # before (the PCS over Modbus, the tank's sensor over MQTT), its forecast from the
    # history the meters brought (flagged good in every interval); the plant followed it:
    # the levels it reported at the end of interval k are those the plan made in k expects
    moved = []
    for k, plan_id in plans:
        with db.read(service.engine) as connection:
            stored = plan_store.load(connection, plan_id, site.location.timezone)
        assert stored is not None
        meta = stored.metadata
        start = (
            float(meta["initial_battery_soc_kwh"]["bess"]),
            float(meta["initial_storage_level_kwh_th"]["hot_water_tank"]),
        )
        if k:
            assert start == pytest.approx((measured(SOC, k - 1), measured(TANK, k - 1)), abs=0.5)
        assert measured(LOAD, k) is not None
        expected = (float(stored.frame[SOC].iloc[0]), float(stored.frame[TANK].iloc[0]))
        assert (measured(SOC, k), measured(TANK, k)) == pytest.approx(expected, abs=1.0), k
        moved.append(abs(expected[0] - start[0]))
    assert min(moved) > 100.0  # the battery charges in every interval
