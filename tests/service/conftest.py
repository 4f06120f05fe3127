"""Fixtures of the service tests: a fresh store per test on SQLite and on PostgreSQL.

PostgreSQL: the server named by ``MICROGRID_TEST_POSTGRES_URL`` (default: the local server,
user postgres, database test). The session creates its own database there and drops it at
the end; each test gets a fresh schema in it. Without a server the PostgreSQL cases skip,
unless ``MICROGRID_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from service_helpers import OTHER_PARK, PARK, TEST_PARKS
from sqlalchemy.engine import make_url

from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.context import Service
from controller.service.settings import ServiceSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the test client's own notice about its HTTP library
    from starlette.testclient import TestClient

PG_URL = os.environ.get(
    "MICROGRID_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("MICROGRID_REQUIRE_POSTGRES") == "1"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_answers() -> str | None:
    try:
        with psycopg.connect(_libpq(PG_URL), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {make_url(PG_URL).host}: {exc}".strip()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test session's own (dropped at the end); yields its URL."""
    problem = _pg_answers()
    if problem:
        if REQUIRE_PG:
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"microgrid_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file, or a new schema in the session's PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    base = request.getfixturevalue("postgres_database")
    schema = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def service_settings(database_url: str, **overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "sites": TEST_PARKS,
        "scheduler": False,
        "startup_catch_up": False,
        "demo": False,
        "key_cache_ttl_s": 0.0,
        "forecast_processes": 0,
        "planning_processes": 0,
        # the tests post measurements of fixed dates (2026): accepted for ten years
        "measurement_max_age_days": 3650.0,
        # the tests send many refused keys on purpose (test_door tests the throttle)
        "auth_failures_per_minute": 100_000,
    }
    return ServiceSettings(**(values | overrides))


@dataclass
class Harness:
    app: FastAPI
    client: TestClient
    service: Service
    keys: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
def harness_factory() -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def factory(database_url: str, **overrides: Any) -> Harness:
        app = create_app(service_settings(database_url, **overrides))
        service = app.state.service
        engine, ids = service.engine, service.parks.ids
        keys = {
            "utility": create_key(engine, Role.UTILITY, [PARK], ids).token,
            "operator": create_key(engine, Role.OPERATOR, [], ids).token,
            "admin": create_key(engine, Role.ADMIN, [], ids).token,
        }
        if OTHER_PARK in ids:
            keys["utility_other"] = create_key(engine, Role.UTILITY, [OTHER_PARK], ids).token
        harness = Harness(app, TestClient(app), service, keys)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.client.close()
        harness.service.engine.dispose()


@pytest.fixture
def harness(harness_factory: Callable[..., Harness], database_url: str) -> Harness:
    return harness_factory(database_url)
