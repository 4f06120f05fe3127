"""Helpers of the field tests: free ports, the test map of a park, plant processes."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from ports import free_port as free_port  # re-exported for the tests here

from controller.service.field.devicemap import FieldMap, bundled_map_path, load_field_map
from controller.service.field.mqtt import Broker
from controller.service.field.plant import PlantOptions, run_plant
from sites import Site

PARK = "gaotang-textile"
OTHER_PARK = "chiping-aluminium"
BROKER = Broker("127.0.0.1", 1883)
REQUIRE_MQTT = os.environ.get("MICROGRID_REQUIRE_MQTT") == "1"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def field_map_for(site: Site) -> FieldMap:
    """The park's bundled map on free ports, below a topic prefix of this test's own."""
    bundled = load_field_map(bundled_map_path(site.id), site)
    prefix = f"test-{secrets.token_hex(4)}"
    devices = []
    for d in bundled.devices:
        update: dict[str, Any] = {}
        if d.modbus is not None:
            update["modbus"] = d.modbus.model_copy(update={"port": free_port(), "timeout_s": 0.5})
        if d.mqtt is not None:
            update["mqtt"] = d.mqtt.model_copy(
                update={"topic_prefix": d.mqtt.topic_prefix.replace("parks", prefix, 1)}
            )
        devices.append(d.model_copy(update=update))
    return bundled.model_copy(update={"devices": devices, "readback_timeout_s": 1.0})


class Plants:
    """Plant processes started by a test, each stopped at its end."""

    def __init__(self) -> None:
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def start(
        self, options: PlantOptions, field_map: FieldMap
    ) -> multiprocessing.process.BaseProcess:
        process = multiprocessing.get_context("spawn").Process(
            target=run_plant, args=(options,), daemon=True
        )
        process.start()
        self.processes.append(process)
        wanted = options.devices
        ports = [
            d.modbus.port
            for d in field_map.devices
            if d.modbus is not None and (wanted is None or d.name in wanted)
        ]
        wait_for(lambda: all(answers("127.0.0.1", p) for p in ports), 30, "plant serves")
        return process

    def stop(self, process: multiprocessing.process.BaseProcess) -> None:
        process.kill()
        process.join(10)
