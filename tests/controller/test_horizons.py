"""The planning clock, written once for the service and the replay (controller.horizons)."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pandas as pd
from dispatch_cases import base_mapping, site_from

from controller import columns as pc
from controller import horizons
from controller.kinds import PlanKind
from sites import Site
from sites.time_step import HOURS_PER_STEP, STEP, STEP_NS, STEPS_PER_DAY

ZONE = "Asia/Shanghai"


def _site(gate: str = "10:00") -> Site:
    raw = base_mapping()
    raw["day_ahead_gate_time"] = gate
    return site_from(raw)


def test_the_step_is_a_quarter_hour_in_every_unit() -> None:
    assert pd.Timedelta(minutes=15) == STEP
    assert STEP_NS == 15 * 60 * 10**9
    assert HOURS_PER_STEP == 0.25
    assert STEPS_PER_DAY == 96


def test_issue_time_is_the_quarter_hour_on_the_parks_clock() -> None:
    site = _site()
    now = datetime.fromisoformat("2016-03-01T02:07:30+00:00")
    assert horizons.issue_time(site, now) == pd.Timestamp("2016-03-01 10:00", tz=ZONE)


def test_gate_time_and_day_ends() -> None:
    site = _site("10:30")
    day = date(2016, 3, 1)
    assert horizons.gate_time(site, day) == pd.Timestamp("2016-03-01 10:30", tz=ZONE)
    assert horizons.at_gate(site, pd.Timestamp("2016-03-01 10:30", tz=ZONE))
    assert not horizons.at_gate(site, pd.Timestamp("2016-03-01 10:15", tz=ZONE))
    assert horizons.past_gate(site, pd.Timestamp("2016-03-01 10:30", tz=ZONE))
    assert not horizons.past_gate(site, pd.Timestamp("2016-03-01 10:15", tz=ZONE))
    assert site.gate_time == time(10, 30)
    assert horizons.day_end(site, day) == pd.Timestamp("2016-03-02", tz=ZONE)


def test_the_day_ahead_window_runs_to_the_last_committed_day_without_a_gap() -> None:
    site = _site()
    today = date(2016, 3, 1)
    committed = {date(2016, 3, 2), date(2016, 3, 3), date(2016, 3, 5)}  # the 4th is missing
    end = horizons.day_ahead_window_end(site, today, committed.__contains__)
    assert end == pd.Timestamp("2016-03-04", tz=ZONE)
    assert horizons.day_ahead_window_end(site, today, set().__contains__) == pd.Timestamp(
        "2016-03-02", tz=ZONE
    )


def test_plan_ends_by_kind() -> None:
    site = _site()
    now = pd.Timestamp("2016-03-01 13:45", tz=ZONE)
    tomorrow_end = pd.Timestamp("2016-03-03", tz=ZONE)
    assert horizons.plan_end(site, now, PlanKind.DAY_AHEAD, set().__contains__) == tomorrow_end
    assert horizons.plan_end(site, now, PlanKind.INTRADAY, set().__contains__) == pd.Timestamp(
        "2016-03-02", tz=ZONE
    )
    committed = {date(2016, 3, 2)}
    assert horizons.plan_end(site, now, PlanKind.INTRADAY, committed.__contains__) == (tomorrow_end)


def test_the_committed_schedule_takes_each_day_from_its_own_plan() -> None:
    index = pd.date_range("2016-03-01", periods=2 * STEPS_PER_DAY, freq=STEP, tz=ZONE)
    first = pd.DataFrame(
        {pc.GRID_IMPORT_KW: 1.0, pc.GRID_EXPORT_KW: 0.0, "other_kw": 5.0}, index=index
    )
    second = first.copy()
    second[pc.GRID_IMPORT_KW] = 2.0
    by_date = {date(2016, 3, 1): first, date(2016, 3, 2): second}
    schedule = horizons.committed_schedule(by_date)
    assert list(schedule.columns) == [pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW]
    assert schedule.index.equals(index)
    expected = np.repeat([1.0, 2.0], STEPS_PER_DAY)
    assert np.array_equal(schedule[pc.GRID_IMPORT_KW].to_numpy(), expected)
    by_midnight = {pd.Timestamp(d, tz=ZONE): frame for d, frame in by_date.items()}
    assert horizons.committed_schedule(by_midnight).equals(schedule)
    empty = horizons.committed_schedule({})
    assert empty.empty and list(empty.columns) == [pc.GRID_IMPORT_KW, pc.GRID_EXPORT_KW]
