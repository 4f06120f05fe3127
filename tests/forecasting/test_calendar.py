"""The Chinese working calendar: holidays, adjusted working days, ordinary weekends."""

from __future__ import annotations

from datetime import date

import pandas as pd

from forecasting.calendar import DayKind, calendar_arrays, day_kind


def test_spring_festival_and_its_adjusted_working_days() -> None:
    assert day_kind(date(2016, 2, 8)) is DayKind.REST  # Spring Festival, a Monday
    assert day_kind(date(2016, 2, 6)) is DayKind.WORKING  # a Saturday made a working day
    assert day_kind(date(2016, 2, 14)) is DayKind.WORKING  # a Sunday made a working day


def test_ordinary_days() -> None:
    assert day_kind(date(2016, 3, 7)) is DayKind.WORKING  # Monday
    assert day_kind(date(2016, 3, 12)) is DayKind.SATURDAY
    assert day_kind(date(2016, 3, 13)) is DayKind.REST  # Sunday
    assert day_kind(date(2016, 10, 3)) is DayKind.REST  # National Day week


def test_calendar_arrays_on_a_local_timeline() -> None:
    index = pd.date_range("2016-02-05 12:00", periods=4 * 96, freq="15min", tz="Asia/Shanghai")
    cal = calendar_arrays(index)
    assert cal.step_of_day[0] == 48
    assert list(cal.day_start) == [0, 48, 144, 240, 336]
    first_of_feb_7 = 144
    assert cal.kind[first_of_feb_7] == DayKind.REST  # Sunday 7 Feb: holiday eve, a rest day
    assert cal.previous_kind[first_of_feb_7] == DayKind.WORKING  # Saturday 6 Feb worked
    assert cal.next_kind[first_of_feb_7] == DayKind.REST
    assert cal.weekday[first_of_feb_7] == 6
