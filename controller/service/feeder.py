"""Demo mode: each bundled park's historical year played as live measurements.

The clock is shifted to today: the value written for an interval starting at local time
``t`` is the 2016 value at the same calendar date and time of day (month, day, hour,
minute). 2016 is a leap year, so every date has a source: on 29 February of a leap year
the replay plays 2016-02-29; in other years 28 February is followed by 1 March and
2016-02-29 is simply never played. Weekdays follow 2016's calendar, not this year's.

An interval's values are written once it has ended (as a meter reports a 15-minute mean):
at start, the last ``backfill_days`` up to the last complete interval; then, every quarter
hour, whatever has completed since the newest written interval. Writes are idempotent
upserts, so a restart or an overlap rewrites the same values.

The connection point's meter is written too (:func:`metered_exchange`): the history has no
grid exchange, and without it a plan would not know the month's peak so far and would charge
the whole month's demand charge to its own peak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from controller import columns as pc
from controller.config import DEFAULT_CONFIG
from controller.fallback.rules import fallback_dispatch
from controller.inputs.dispatch_inputs import prepare
from controller.inputs.forecast_data import as_forecast
from controller.inputs.state import default_state
from controller.plans.dispatch import dispatch_frame
from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.parks import Parks
from controller.service.store import measurements as measurement_store
from controller.service.store.measurements import Point
from sites import Site
from sites.history.derive import YEAR, load_history
from sites.history.series import expected_series
from sites.time_step import STEP

log = logging.getLogger(__name__)


def source_times(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The historical year's wall-clock time for each local interval start of ``index``."""
    return pd.DatetimeIndex(
        pd.to_datetime(
            {
                "year": np.full(len(index), YEAR),
                "month": index.month,
                "day": index.day,
                "hour": index.hour,
                "minute": index.minute,
            }
        )
    )


@cache
def _wall_clock_history(site_json: str) -> pd.DataFrame:
    site = Site.model_validate_json(site_json)
    frame = load_history(site).frame
    frame.index = pd.DatetimeIndex(frame.index).tz_localize(None)
    return frame[~frame.index.duplicated(keep="first")]


def replay_values(site: Site, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Historical values on ``index`` (local interval starts), by the date mapping above, and
    the connection point's meter (:func:`metered_exchange`)."""
    history = _wall_clock_history(site.model_dump_json())
    values = history.reindex(source_times(index))
    values.index = index
    return values.join(metered_exchange(site, values))


def metered_exchange(site: Site, values: pd.DataFrame) -> pd.DataFrame:
    """What the connection point's meter shows in the demo (``grid_import_kw``,
    ``grid_export_kw``): the rule-based dispatch of the park without its storage on the
    replayed values, network losses left out. The history holds no grid exchange, and the
    month's peak so far, the demand charge's base, is read from this meter."""
    bare = site.without_storage()
    series = [c for c in expected_series(bare) if c in values.columns]
    known = values[series].notna().all(axis=1).to_numpy()
    out = pd.DataFrame(np.nan, index=values.index, columns=[pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW])
    if not known.any():
        return out
    truth = values.loc[known, series]
    state = default_state(bare)
    inputs = prepare(bare, as_forecast(truth), state, PlanKind.DAY_AHEAD, DEFAULT_CONFIG)
    frame = dispatch_frame(bare, inputs, fallback_dispatch(bare, inputs))
    out.loc[known] = frame[[pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW]].to_numpy()
    return out


def points_of(frame: pd.DataFrame) -> list[Point]:
    stamps = [t.to_pydatetime() for t in pd.DatetimeIndex(frame.index)]
    points = []
    for column in frame.columns:
        for ts, value in zip(stamps, frame[column].to_numpy(dtype=float), strict=True):
            if np.isfinite(value):
                points.append(Point(str(column), ts, float(value)))
    return points


class ReplayFeeder:
    def __init__(
        self, engine: Engine, parks: Parks, clock: Callable[[], datetime], backfill_days: int
    ) -> None:
        self._engine = engine
        self._parks = parks
        self._clock = clock
        self._backfill = pd.Timedelta(days=backfill_days)

    def __call__(self) -> int:
        """Write every completed interval not yet written; returns the number of points."""
        written = 0
        now = pd.Timestamp(self._clock())
        for site in self._parks.by_id.values():
            written += self.feed_site(site, now)
        return written

    def feed_site(self, site: Site, now: pd.Timestamp) -> int:
        zone = site.location.timezone
        end = now.tz_convert(zone).floor("15min")  # intervals starting before this have ended
        start = end - self._backfill
        with db.read(self._engine) as connection:
            newest = measurement_store.newest_time(connection, site.id)
        if newest is not None:
            start = max(start, pd.Timestamp(newest).tz_convert(zone) + STEP)
        if start >= end:
            return 0
        index = pd.date_range(start, end, freq=STEP, inclusive="left")
        points = points_of(replay_values(site, index))
        with db.write(self._engine) as connection:
            measurement_store.upsert(connection, site.id, points)
        log.info("demo feed %s: %d points up to %s", site.id, len(points), end)
        return len(points)
