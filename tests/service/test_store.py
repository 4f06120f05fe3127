"""The store on SQLite and PostgreSQL: migrations, idempotent upserts, immutable plan versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from real_plans import real_plan
from service_helpers import PARK, quarter_hour
from sqlalchemy import Engine, func, select

from controller.plans.plan import PlanKind
from controller.service import db, migrate
from controller.service.models import metadata, plan_rows, plans
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store
from controller.service.store import plans as plan_store
from controller.service.store.measurements import Point
from controller.service.store.sites import upsert_sites
from sites import load_bundled_site

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    site = load_bundled_site(PARK)
    with db.write(engine) as connection:
        upsert_sites(connection, {PARK: (site, "bundled")})
    yield engine
    engine.dispose()


def test_migrations_reach_head_and_match_the_models(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.upgrade(engine)  # a second start is a no-op
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_measurements_upsert_is_idempotent_by_site_series_time(engine: Engine) -> None:
    points = [Point("pv_pv_weaving_kw", T0 + timedelta(minutes=15 * i), float(i)) for i in range(8)]
    with db.write(engine) as connection:
        measurement_store.upsert(connection, PARK, points)
        measurement_store.upsert(connection, PARK, points)
    again = [Point("pv_pv_weaving_kw", T0, 42.0)]
    with db.write(engine) as connection:
        measurement_store.upsert(connection, PARK, again)
    with db.read(engine) as connection:
        stored = measurement_store.read(connection, PARK, None, T0, T0 + timedelta(days=1))
    assert len(stored) == 8
    assert stored[0].value == 42.0 and stored[0].ts == T0
    assert [p.value for p in stored[1:]] == [float(i) for i in range(1, 8)]


def test_history_frame_is_on_the_local_grid_with_gaps_as_nan(engine: Engine) -> None:
    site = load_bundled_site(PARK)
    points = [Point("load_auxiliaries_kw", T0 + timedelta(minutes=15 * i), 100.0) for i in (0, 2)]
    with db.write(engine) as connection:
        measurement_store.upsert(connection, PARK, points)
    with db.read(engine) as connection:
        frame = measurement_store.frame(
            connection, site, ["load_auxiliaries_kw"], T0, T0 + timedelta(hours=1)
        )
    assert str(frame.index.tz) == site.location.timezone
    assert list(frame["load_auxiliaries_kw"].isna()) == [False, True, False, True]


def test_plan_versions_are_immutable_and_the_newest_is_in_force(engine: Engine) -> None:
    start = quarter_hour(T0, "Asia/Shanghai")
    plan = real_plan(PARK, start, 8, PlanKind.INTRADAY)
    first = store_plan(engine, plan, start.date(), None, None)
    second = store_plan(engine, plan, start.date(), None, None)
    assert (first.version, second.version) == (1, 2)
    assert first.n_rows == second.n_rows == 8
    with db.read(engine) as connection:
        assert plan_store.in_force(connection, PARK, T0 + timedelta(minutes=20)) == second
        assert plan_store.in_force(connection, PARK, T0 + timedelta(hours=3)) is None
        assert plan_store.for_date(connection, PARK, PlanKind.INTRADAY, start.date(), 1) == first
        stored = plan_store.load(connection, first.id, "Asia/Shanghai")
    assert stored is not None
    pd.testing.assert_frame_equal(
        stored.plan().frame, plan.frame, check_dtype=False, check_freq=False
    )
    assert stored.metadata["version"] == 1 and stored.metadata["input_hash"]


def test_a_failed_plan_write_leaves_no_header_and_no_rows(engine: Engine) -> None:
    start = quarter_hour(T0, "Asia/Shanghai")
    plan = real_plan(PARK, start, 8, PlanKind.INTRADAY)
    with pytest.raises(RuntimeError), db.write(engine) as connection:
        plan_store.insert(connection, plan, start.date())
        raise RuntimeError("crash after the rows, before the commit")
    with db.read(engine) as connection:
        assert connection.scalar(select(func.count()).select_from(plans)) == 0
        assert connection.scalar(select(func.count()).select_from(plan_rows)) == 0
        assert plan_store.incomplete(connection) == []
