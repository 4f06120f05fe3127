"""The field loop inside the running service: /health, /metrics, the field API, manual mode,
and a re-plan by the service's own pipeline sent to the devices at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from field_helpers import OTHER_PARK, PARK, Plants, field_map_for, wait_for
from real_plans import real_plan

from controller.plans.plan import PlanKind
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.feeder import ReplayFeeder
from controller.service.field.mqtt import Broker
from controller.service.field.plant import plant_options
from controller.service.pipeline import store_plan
from controller.service.settings import ServiceSettings
from sites import Site

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

T0 = pd.Timestamp("2026-03-10 10:00", tz="Asia/Shanghai")
NOW = (T0 + pd.Timedelta(minutes=5)).tz_convert("UTC").to_pydatetime()


def test_the_service_shows_field_alarms_setpoints_and_manual_mode(
    tmp_path: Path, site: Site, broker: Broker, plants: Plants
) -> None:
    field_map = field_map_for(site).model_copy(update={"poll_s": 0.3})
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(field_map.model_dump(mode="json")), encoding="utf-8")
    alive = tuple(d.name for d in field_map.devices if d.name != "bess_pcs")
    options = plant_options(site, field_map, T0.to_pydatetime(), 3600.0, broker, devices=alive)
    plants.start(options, field_map)
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        sites=[PARK, OTHER_PARK],
        scheduler=False,
        startup_catch_up=False,
        forecast_processes=0,
        key_cache_ttl_s=0.0,
        field_devices=True,
        device_maps=[path],
        history_days=3,
    )
    app = create_app(settings, clock=lambda: NOW)
    service = app.state.service
    ReplayFeeder(service.engine, service.parks, lambda: NOW, 3).feed_site(
        service.parks.by_id[PARK], pd.Timestamp(NOW)
    )  # the history before the field loop's first values
    plan = real_plan(PARK, T0, 8, PlanKind.DAY_AHEAD)
    store_plan(service.engine, plan, T0.date(), None, None)
    ids = service.parks.ids
    operator = {
        "Authorization": f"Bearer {create_key(service.engine, Role.OPERATOR, [], ids).token}"
    }
    utility = {
        "Authorization": f"Bearer {create_key(service.engine, Role.UTILITY, [PARK], ids).token}"
    }

    def park_health(client: TestClient) -> dict[str, Any]:
        body: dict[str, Any] = client.get("/health").json()
        return body["sites"][PARK]

    def field(client: TestClient) -> dict[str, Any]:
        response = client.get(f"/api/v1/sites/{PARK}/field", headers=operator)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def eventually(check: Callable[[], bool], what: str) -> None:
        wait_for(check, 20, what)

    with TestClient(app) as client:

        def ready() -> bool:
            state = field(client)
            meter = next(d for d in state["devices"] if d["name"] == "pcc_meter")
            return (
                any(s["status"] == "confirmed" for s in state["setpoints"])
                and "import_kw" in meter["points"]  # polled at least once
                and any(
                    r.startswith("field device 'bess_pcs'") for r in park_health(client)["reasons"]
                )
            )

        eventually(ready, "setpoints confirmed, the meter polled and the dead PCS alarmed")
        state = field(client)
        by_device = {d["name"]: d for d in state["devices"]}
        assert by_device["bess_pcs"]["up"] is False
        assert by_device["pcc_meter"]["up"] is True
        assert by_device["pcc_meter"]["points"]["import_kw"]["quality"] == "good"
        statuses = {(s["device"], s["status"]) for s in state["setpoints"]}
        assert ("bess_pcs", "failed") in statuses and (
            "pv_dye_house_inverter",
            "confirmed",
        ) in statuses
        assert park_health(client)["status"] == "degraded"
        metrics = client.get("/metrics", headers=operator).text
        assert f'microgrid_field_device_up{{device="bess_pcs",site="{PARK}"}} 0.0' in metrics
        assert f'microgrid_field_device_up{{device="pcc_meter",site="{PARK}"}} 1.0' in metrics
        assert client.get(f"/api/v1/sites/{PARK}/field", headers=utility).status_code == 403

        # the quality flags are stored: with the values (GET measurements) and, for the
        # readings that were not stored, on their own (GET field/readings)
        window = {
            "start": T0.tz_convert("UTC").isoformat(),
            "end": (T0 + pd.Timedelta(minutes=15)).tz_convert("UTC").isoformat(),
        }
        values = client.get(
            f"/api/v1/sites/{PARK}/measurements",
            headers=operator,
            params=window | {"series": ["grid_import_kw"]},
        ).json()
        assert [(v["series"], v["quality"]) for v in values] == [("grid_import_kw", "good")]
        flags = client.get(
            f"/api/v1/sites/{PARK}/field/readings", headers=operator, params=window
        ).json()
        by_series = {f["series"]: f for f in flags}
        assert by_series["grid_import_kw"]["quality"] == "good"
        soc = by_series["battery_bess_soc_kwh"]
        assert soc["quality"] == "comms_lost" and soc["device"] == "bess_pcs"
        assert soc["value"] is None and soc["good_readings"] == 0 and soc["readings"] >= 1
        assert (
            client.get(
                f"/api/v1/sites/{PARK}/field/readings", headers=utility, params=window
            ).status_code
            == 403
        )

        # the service's own pipeline re-plans (forecast from the stored history): the loop
        # sends the new plan's setpoints at once
        run = client.post(
            f"/api/v1/sites/{PARK}/replan", headers=operator, params={"wait": True}
        ).json()
        assert run["status"] == "succeeded", run
        eventually(
            lambda: any(
                s["plan_id"] == run["plan_id"] and s["status"] == "confirmed"
                for s in field(client)["setpoints"]
            ),
            "the re-plan's setpoints confirmed",
        )

        bad = client.put(
            f"/api/v1/sites/{PARK}/field/mode",
            headers=operator,
            json={"manual": True, "device": "x"},
        )
        assert bad.status_code == 422 and "device: got 'x': must be one of" in bad.text
        ok = client.put(
            f"/api/v1/sites/{PARK}/field/mode",
            headers=operator,
            json={"manual": True, "note": "commissioning"},
        )
        assert ok.status_code == 200
        reasons = park_health(client)["reasons"]
        assert any(
            r.startswith("field park in manual mode since") and "commissioning" in r
            for r in reasons
        )
        assert field(client)["manual"]["*"]["note"] == "commissioning"
