"""Fixtures of the field tests: real pymodbus servers in their own processes, the Mosquitto
broker on 127.0.0.1:1883 (CI starts one where none answers), a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from field_helpers import BROKER, PARK, REQUIRE_MQTT, Plants, answers
from sqlalchemy import Engine

from controller.service import db, migrate
from controller.service.field.mqtt import Broker
from controller.service.store.sites import upsert_sites
from sites import Site, load_bundled_site


@pytest.fixture
def broker() -> Broker:
    if not answers(BROKER.host, BROKER.port):
        message = f"no MQTT broker answers on {BROKER}"
        if REQUIRE_MQTT:
            pytest.fail(message)
        pytest.skip(message)
    return BROKER


@pytest.fixture
def site() -> Site:
    return load_bundled_site(PARK)


@pytest.fixture
def engine(tmp_path: Path, site: Site) -> Iterator[Engine]:
    made = db.make_engine(f"sqlite:///{tmp_path / 'store.db'}", "NORMAL")
    migrate.upgrade(made)
    with db.write(made) as connection:
        upsert_sites(connection, {site.id: (site, "bundled")})
    yield made
    made.dispose()


@pytest.fixture
def plants() -> Iterator[Plants]:
    made = Plants()
    yield made
    for process in made.processes:
        if process.is_alive():
            made.stop(process)
