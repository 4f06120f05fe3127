"""The field loop in the service: which maps, which broker, and the demo plant's processes.

A park's device map is the settings' ``device_maps`` file whose ``site`` is the park, else
the bundled example map of a bundled park. In demo mode each park's simulated plant
(:mod:`.plant`) runs in a process of its own on the map's addresses, playing the park's
historical year on today's clock; if no MQTT broker answers then, the demo runs on Modbus
alone and says so (outside demo mode the loop keeps trying to reach the broker, and the MQTT
devices show as comms lost meanwhile).
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.process import BaseProcess

import pandas as pd
import yaml
from sqlalchemy import Engine

from controller.service.field.devicemap import (
    FieldMap,
    FieldMapError,
    bundled_map_path,
    load_field_map,
)
from controller.service.field.loop import FieldLoop
from controller.service.field.metrics import FieldMetrics
from controller.service.field.mqtt import Broker
from controller.service.field.park import ConnectionCaps
from controller.service.field.plant import plant_options, run_plant
from controller.service.parks import Parks
from controller.service.settings import ServiceSettings
from sites import Site
from sites.errors import ConfigProblem

log = logging.getLogger(__name__)
DEMO_INTERVAL_S = 900.0


def field_maps(settings: ServiceSettings, parks: Parks) -> list[tuple[Site, FieldMap]]:
    """Every park's map; a map file naming no park of the service is an error."""
    given: dict[str, str] = {}
    for file in settings.device_maps:
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            problem = ConfigProblem(
                str(file), "(file)", str(file), f"must be readable YAML ({exc})"
            )
            raise FieldMapError([problem]) from None
        site_id = raw.get("site") if isinstance(raw, dict) else None
        if site_id not in parks.by_id:
            rule = f"must be one of the service's parks {parks.ids}"
            raise FieldMapError([ConfigProblem(str(file), "site", site_id, rule)])
        given[str(site_id)] = str(file)
    out = []
    for site_id, site in parks.by_id.items():
        path: str | None = given.get(site_id)
        if path is None and parks.sources.get(site_id) == "bundled":
            bundled = bundled_map_path(site_id)
            path = str(bundled) if bundled.is_file() else None
        if path is None:
            log.warning("%s: no device map; its field devices are not read", site_id)
            continue
        out.append((site, load_field_map(path, site)))
    return out


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Something accepts a TCP connection at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def choose_broker(settings: ServiceSettings) -> Broker | None:
    if not settings.mqtt_host:
        return None
    broker = Broker(settings.mqtt_host, settings.mqtt_port)
    if settings.demo and not answers(broker.host, broker.port):
        log.warning("no MQTT broker answers on %s: the demo plant runs on Modbus only", broker)
        return None
    return broker


def build_field_loop(
    engine: Engine,
    settings: ServiceSettings,
    parks: Parks,
    clock: Callable[[], datetime],
    metrics: FieldMetrics,
    connection_caps: dict[str, ConnectionCaps] | None = None,
) -> FieldLoop:
    maps = field_maps(settings, parks)
    broker = choose_broker(settings)
    if broker is None and settings.demo:
        maps = [(s, _modbus_only(m)) for s, m in maps]
    return FieldLoop(engine, maps, clock, metrics, broker, connection_caps)


def _modbus_only(field_map: FieldMap) -> FieldMap:
    devices = [d for d in field_map.devices if d.modbus is not None]
    return field_map.model_copy(update={"devices": devices})


def start_demo_plants(
    maps: list[tuple[Site, FieldMap]], broker: Broker | None, now: datetime
) -> tuple[BaseProcess, ...]:
    """One simulated plant process per park, in real time from the current quarter hour."""
    processes = []
    context = multiprocessing.get_context("spawn")
    for site, field_map in maps:
        start = pd.Timestamp(now).tz_convert(site.location.timezone).floor("15min")
        wall0 = time.time() - (pd.Timestamp(now) - start).total_seconds()
        options = plant_options(
            site, field_map, start.to_pydatetime(), DEMO_INTERVAL_S, broker, wall0=wall0
        )
        process = context.Process(
            target=run_plant, args=(options,), name=f"plant-{site.id}", daemon=True
        )
        process.start()
        processes.append(process)
    return tuple(processes)


def start_when_serving(loop: FieldLoop, timeout_s: float = 60.0) -> threading.Thread:
    """Start ``loop`` once every Modbus device of its maps answers (the demo plants have
    started), or after ``timeout_s``; in a thread, so that the service serves meanwhile."""

    def wait_then_start() -> None:
        ports = [
            (d.modbus.host, d.modbus.port)
            for _, field_map in loop.maps
            for d in field_map.devices
            if d.modbus is not None
        ]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not all(answers(h, p, 0.2) for h, p in ports):
            time.sleep(0.2)
        loop.start()

    thread = threading.Thread(target=wait_then_start, name="field-start", daemon=True)
    thread.start()
    return thread


def stop_processes(processes: tuple[BaseProcess, ...]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(5)
