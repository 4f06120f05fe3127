"""Demo replay: the 2016 year on today's clock, same date and time of day."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from service_helpers import PARK

from controller import columns as pc
from controller.service import db, migrate
from controller.service.feeder import ReplayFeeder, replay_values, source_times
from controller.service.parks import load_parks
from controller.service.store import measurements as measurement_store
from controller.service.store.sites import upsert_sites
from sites.history.derive import load_history


def test_source_is_the_same_date_and_time_of_day_in_2016() -> None:
    index = pd.DatetimeIndex(
        ["2027-02-28 23:45", "2027-03-01 00:00", "2028-02-29 12:15", "2026-12-31 23:45"]
    ).tz_localize("Asia/Shanghai")
    assert list(source_times(index).strftime("%Y-%m-%d %H:%M")) == [
        "2016-02-28 23:45",
        "2016-03-01 00:00",
        "2016-02-29 12:15",
        "2016-12-31 23:45",
    ]


def test_replayed_values_equal_the_history() -> None:
    parks = load_parks([PARK], [])
    site = parks.by_id[PARK]
    index = pd.date_range("2027-07-01 10:00", periods=4, freq="15min", tz="Asia/Shanghai")
    values = replay_values(site, index)
    history = load_history(site).frame.loc["2016-07-01 10:00":"2016-07-01 10:45"]
    assert (values[history.columns].to_numpy() == history.to_numpy()).all()
    assert values.index.equals(index)
    # and the connection point's meter, which the history does not hold
    meter = values[[pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW]]
    assert list(values.columns) == [*history.columns, *meter.columns]
    assert meter.notna().all().all() and (meter >= 0.0).all().all()


def test_feeder_backfills_completed_intervals_once(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    parks = load_parks([PARK], [])
    with db.write(engine) as connection:
        upsert_sites(connection, {PARK: (parks.by_id[PARK], "bundled")})
    clock = [datetime(2027, 3, 1, 2, 7, tzinfo=UTC)]
    feeder = ReplayFeeder(engine, parks, lambda: clock[0], backfill_days=1)
    columns = len(load_history(parks.by_id[PARK]).frame.columns) + 2  # and the grid meter
    assert feeder() == 96 * columns
    assert feeder() == 0
    clock[0] = datetime(2027, 3, 1, 2, 31, tzinfo=UTC)
    assert feeder() == 2 * columns
    with db.read(engine) as connection:
        newest = measurement_store.newest_time(connection, PARK)
    assert newest == datetime(2027, 3, 1, 2, 15, tzinfo=UTC)
    engine.dispose()
