"""Importing a user's history: each kind of mistake reported with its row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sites import load_bundled_site
from sites.history.importer import HistoryImportError, read_history_file

SITE = load_bundled_site("gaotang-textile")


def _frame(n: int = 8) -> pd.DataFrame:
    stamps = pd.date_range("2024-03-01", periods=n, freq="15min", tz="Asia/Shanghai")
    return pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in stamps],
            "pv_pv_dye_house_kw": [0.0, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0][:n],
            "load_dyeing_machines_kw": [4000.0] * n,
            "ambient_temperature_degc": [2.5] * n,
        }
    )


def _problems(frame: pd.DataFrame, tmp_path: Path, **kwargs: str) -> list:
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(HistoryImportError) as info:
        read_history_file(path, SITE, **kwargs)
    return info.value.problems


def test_good_csv_and_parquet_load_on_the_site_clock(tmp_path: Path) -> None:
    frame = _frame()
    frame.to_csv(tmp_path / "h.csv", index=False)
    got = read_history_file(tmp_path / "h.csv", SITE)
    assert str(got.index.tz) == "Asia/Shanghai" and len(got) == 8
    assert got["pv_pv_dye_house_kw"].iloc[-1] == 60.0
    utc = frame.assign(timestamp=pd.to_datetime(frame["timestamp"]).dt.tz_convert("UTC"))
    utc.to_parquet(tmp_path / "h.parquet")
    from_parquet = read_history_file(tmp_path / "h.parquet", SITE)
    pd.testing.assert_frame_equal(from_parquet, got)


def test_naive_timestamps_need_a_named_zone(tmp_path: Path) -> None:
    frame = _frame()
    frame["timestamp"] = [t[:16] for t in frame["timestamp"]]
    (problem,) = _problems(frame, tmp_path)
    assert problem.column == "timestamp" and "UTC offset" in problem.rule
    path = tmp_path / "naive.csv"
    frame.to_csv(path, index=False)
    got = read_history_file(path, SITE, assume_timezone="Asia/Shanghai")
    assert got.index[0] == pd.Timestamp("2024-03-01 00:00", tz="Asia/Shanghai")


def test_duplicates_gaps_units_unknown_columns_and_bad_values(tmp_path: Path) -> None:
    frame = _frame().astype(object)
    frame = frame.rename(columns={"ambient_temperature_degc": "ambient_temperature_degf"})
    frame["humidity_percent"] = 50
    frame.loc[3, "load_dyeing_machines_kw"] = -5.0
    frame.loc[4, "pv_pv_dye_house_kw"] = "n/a"
    frame.loc[2, "load_dyeing_machines_kw"] = None  # an empty cell
    frame.loc[6, "timestamp"] = frame.loc[5, "timestamp"]  # duplicate; 01:30 goes missing
    problems = _problems(frame, tmp_path)
    found = {(p.row, p.column): p.rule for p in problems}
    assert (
        "wrong unit; expected ambient_temperature_degc" in found[("-", "ambient_temperature_degf")]
    )
    assert "unknown column" in found[("-", "humidity_percent")]
    assert "must be >= 0" in found[("4", "load_dyeing_machines_kw")]
    assert "must be a number" in found[("5", "pv_pv_dye_house_kw")]
    assert found[("3", "load_dyeing_machines_kw")] == "missing value"
    assert found[("6", "timestamp")] == found[("7", "timestamp")] == "duplicated timestamp"


def test_gap_is_reported_with_its_time(tmp_path: Path) -> None:
    frame = _frame().drop(index=[2, 3]).reset_index(drop=True)
    (problem,) = _problems(frame, tmp_path)
    assert problem.column == "timestamp" and problem.value == "2 missing"
    assert "2024-03-01 00:30:00+08:00" in problem.rule
