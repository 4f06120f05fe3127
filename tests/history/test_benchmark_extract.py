"""The bundled SimBench extract: shape, time axis, value ranges, provenance, rebuild."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from sites.history import build_extract
from sites.history.extract import (
    EXTRACT_COLUMNS,
    EXTRACT_FILENAME,
    N_STEPS,
    PROVENANCE_ATTR,
    ProfileKind,
    benchmark_index,
    column_names,
    load_benchmark_profiles,
)

PER_UNIT_TOLERANCE = 1e-6  # values are stored as float32; 1.0 may come back as 1.0000001
MAX_EXTRACT_MEGABYTES = 5.0  # the brief: a compact extract, well under 5 MB
HISTORY_DATA = resources.files("sites") / "data" / "history"


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return load_benchmark_profiles()


def test_extract_has_one_leap_year_of_quarter_hours(profiles: pd.DataFrame) -> None:
    assert len(profiles) == N_STEPS == 366 * 96
    assert list(profiles.columns) == column_names()


def test_values_are_finite_non_negative_per_unit(profiles: pd.DataFrame) -> None:
    assert not profiles.isna().any().any()
    assert (profiles >= 0.0).all().all()
    assert (profiles <= 1.0 + PER_UNIT_TOLERANCE).all().all()


def test_loads_are_normalised_to_their_annual_peak(profiles: pd.DataFrame) -> None:
    loads = [c.name for c in EXTRACT_COLUMNS if c.kind is ProfileKind.LOAD]
    np.testing.assert_allclose(profiles[loads].max().to_numpy(), 1.0, atol=PER_UNIT_TOLERANCE)


def test_index_is_regular_in_physical_time_with_german_clock_changes() -> None:
    index = benchmark_index()
    steps = index[1:] - index[:-1]
    assert (steps == pd.Timedelta(minutes=15)).all()
    assert str(index.tz) == "Europe/Berlin"
    assert index[0] == pd.Timestamp("2015-12-31 23:00", tz="UTC")
    assert index[-1] == pd.Timestamp("2016-12-31 23:45", tz="Europe/Berlin")
    wall_clock = index.tz_localize(None)
    assert wall_clock.duplicated().sum() == 4  # 30 Oct 02:00-02:45 twice
    assert pd.Timestamp("2016-03-27 02:00") not in wall_clock  # the skipped spring hour


def test_provenance_maps_every_column_to_its_source(profiles: pd.DataFrame) -> None:
    record = profiles.attrs[PROVENANCE_ATTR]
    assert [c["column"] for c in record["columns"]] == column_names()
    assert [c["source_column"] for c in record["columns"]] == [
        c.source_column for c in EXTRACT_COLUMNS
    ]
    text = (HISTORY_DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    for column in EXTRACT_COLUMNS:
        assert column.name in text
        assert f"`{column.source_column}`" in text


def test_licence_notice_is_bundled() -> None:
    text = (HISTORY_DATA / "LICENSE-ODbL.txt").read_text(encoding="utf-8")
    assert "Open Data Commons Open Database License" in text


def test_extract_is_compact() -> None:
    with resources.as_file(HISTORY_DATA / EXTRACT_FILENAME) as path:
        assert path.stat().st_size < MAX_EXTRACT_MEGABYTES * 1e6


def test_time_axis_check_accepts_german_labels_and_rejects_a_plain_clock() -> None:
    build_extract.check_source_time_axis(build_extract.expected_source_labels(), "load")
    plain = pd.date_range("2016-01-01", periods=N_STEPS, freq="15min")
    with pytest.raises(ValueError, match="row 8264"):
        build_extract.check_source_time_axis(
            pd.Series(plain.strftime(build_extract.SOURCE_TIME_FORMAT)), "load"
        )


def test_transform_clips_and_counts_negatives_and_normalises_loads() -> None:
    column = next(c for c in EXTRACT_COLUMNS if c.kind is ProfileKind.LOAD)
    source = pd.Series([-1e-5, 0.2, 0.4, -2e-6])
    values, report = build_extract.transform_column(source, column)
    assert report.negative_values_clipped == 2
    assert report.most_negative_source_value == -1e-5
    assert report.normalisation_divisor == 0.4
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0, 0.0])
    assert values.dtype == np.float32
    assert source.iloc[0] == -1e-5  # the caller's data are untouched


def test_rebuild_from_simbench_reproduces_the_bundled_extract(profiles: pd.DataFrame) -> None:
    frame, _ = build_extract.build_extract(build_extract.read_simbench_tables())
    np.testing.assert_array_equal(
        frame[column_names()].to_numpy(dtype="float64"), profiles.to_numpy()
    )
