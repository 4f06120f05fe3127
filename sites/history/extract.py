"""The bundled SimBench 2016 benchmark-profile extract: its schema, its time axis, its loader.

The extract (`sites/data/history/benchmark_profiles_2016.parquet`) holds a few 15-minute
PV, wind and industrial/commercial load profiles of the SimBench data set (year 2016,
licence ODbL 1.0, see `PROVENANCE.md` next to the file). It is rebuilt by
`python -m sites.history.build_extract`.

Time axis. The file stores no timestamps, only an integer column `step` = 0 .. 35135.
Step k is the quarter hour that starts at 2016-01-01 00:00 German local time (CET, UTC+1)
plus k x 15 minutes of physical time, i.e. at 2015-12-31 23:00 UTC + k x 15 min. The
SimBench source labels the same rows with the German wall clock (CET/CEST), so it has no
labels 02:00-02:45 on 27 March and twice the labels 02:00-02:45 on 30 October; the data
themselves are one unbroken physical sequence (checked by the build script), which is what
`step` encodes without ambiguity. `load_benchmark_profiles` turns `step` back into a
timezone-aware index.

Values. Every column is dimensionless and per unit (`_pu`):
- `pv_profile_<n>_pu`: PV output per unit of installed peak power (SimBench `PV<n>`),
- `wind_profile_<n>_pu`: wind output per unit of rated power (SimBench `WP<n>`),
- `load_*_pu`: active power per unit of the profile's own 2016 maximum (so max = 1.0).

Site validation reads the schema (`column_names`), so numpy and pandas are imported only by
the functions that make the time axis and load the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class ProfileKind(StrEnum):
    """What a column of the extract describes."""

    PV = "pv"
    WIND = "wind"
    LOAD = "load"


class SourceTable(StrEnum):
    """The SimBench profile table a column comes from (keys of `get_all_simbench_profiles`)."""

    RENEWABLES = "renewables"
    LOAD = "load"


@dataclass(frozen=True)
class ExtractColumn:
    """One column of the extract and the SimBench profile it is taken from."""

    name: str
    kind: ProfileKind
    source_table: SourceTable
    source_column: str
    purpose: str


EXTRACT_COLUMNS: tuple[ExtractColumn, ...] = (
    ExtractColumn(
        "pv_profile_3_pu",
        ProfileKind.PV,
        SourceTable.RENEWABLES,
        "PV3",
        "PV weather; 30 min ahead of the sun in the source",
    ),
    ExtractColumn(
        "pv_profile_5_pu",
        ProfileKind.PV,
        SourceTable.RENEWABLES,
        "PV5",
        "PV weather; closest to a south-facing clear-sky shape; 60 min ahead of the sun",
    ),
    ExtractColumn(
        "pv_profile_6_pu",
        ProfileKind.PV,
        SourceTable.RENEWABLES,
        "PV6",
        "PV weather; second closest to a south-facing clear-sky shape; 75 min ahead",
    ),
    ExtractColumn(
        "pv_profile_7_pu",
        ProfileKind.PV,
        SourceTable.RENEWABLES,
        "PV7",
        "PV weather; 45 min behind the sun (an afternoon-biased array)",
    ),
    ExtractColumn(
        "pv_profile_8_pu",
        ProfileKind.PV,
        SourceTable.RENEWABLES,
        "PV8",
        "PV weather; in step with the sun in the source",
    ),
    ExtractColumn(
        "wind_profile_4_pu",
        ProfileKind.WIND,
        SourceTable.RENEWABLES,
        "WP4",
        "wind, inland-like capacity factor 0.29",
    ),
    ExtractColumn(
        "wind_profile_6_pu",
        ProfileKind.WIND,
        SourceTable.RENEWABLES,
        "WP6",
        "wind, inland-like capacity factor 0.29, correlation 0.75 with WP4",
    ),
    ExtractColumn(
        "wind_profile_12_pu",
        ProfileKind.WIND,
        SourceTable.RENEWABLES,
        "WP12",
        "wind, inland-like capacity factor 0.25, least correlated with WP4 (0.56)",
    ),
    ExtractColumn(
        "load_round_the_clock_flat_pu",
        ProfileKind.LOAD,
        SourceTable.LOAD,
        "HS3_pload",
        "aluminium processing park: round-the-clock, near-flat day and night",
    ),
    ExtractColumn(
        "load_continuous_process_pu",
        ProfileKind.LOAD,
        SourceTable.LOAD,
        "G3-H_pload",
        "chemical park: continuous operation (BDEW class G3), flat nights and weekends",
    ),
    ExtractColumn(
        "load_weekday_three_shift_pu",
        ProfileKind.LOAD,
        SourceTable.LOAD,
        "WB-H_pload",
        "textile dyeing park: three shifts Monday 00:00 to Saturday morning, weekend standby",
    ),
    ExtractColumn(
        "load_mv_commercial_pu",
        ProfileKind.LOAD,
        SourceTable.LOAD,
        "mv_comm_pload",
        "offices, canteens and services of any park: aggregated MV commercial load",
    ),
)
"""The columns of the extract, in file order after `step`."""

STEP_COLUMN = "step"
N_STEPS = 35_136
"""366 days x 96 quarter hours (2016 is a leap year)."""
STEP_MINUTES = 15
SOURCE_TIMEZONE = "Europe/Berlin"
SOURCE_FIRST_INTERVAL_START = "2016-01-01 00:00"
"""German local time (CET) at which step 0 starts."""

EXTRACT_FILENAME = "benchmark_profiles_2016.parquet"
PROVENANCE_ATTR = "benchmark_provenance"
"""Key of the provenance record in the extract's `DataFrame.attrs` (kept in the Parquet)."""
VALUE_TOLERANCE_PU = 1e-6
"""Values are float32; a per-unit bound is checked with this slack."""


def column_names() -> list[str]:
    """The value columns of the extract, in file order."""
    return [column.name for column in EXTRACT_COLUMNS]


def benchmark_index() -> pd.DatetimeIndex:
    """The timezone-aware (Europe/Berlin) 15-minute index of the 35,136 steps.

    Each label is the start of its interval. It is regular in physical time, so it skips
    the wall-clock hour on 27 March and shows 02:00-02:45 twice (+02:00, then +01:00) on
    30 October, exactly like the source labels.
    """
    import pandas as pd

    start = pd.Timestamp(SOURCE_FIRST_INTERVAL_START, tz=SOURCE_TIMEZONE)
    index = pd.date_range(start=start, periods=N_STEPS, freq=f"{STEP_MINUTES}min")
    index.name = "interval_start"
    return index


def load_benchmark_profiles() -> pd.DataFrame:
    """Read the bundled extract and return it with a timezone-aware index.

    Returns a frame with the columns of `column_names()` as float64, indexed by
    `benchmark_index()` (Europe/Berlin, 15-minute, interval start), with the build's
    provenance record (source, versions, column mapping, clip counts) in
    `frame.attrs[PROVENANCE_ATTR]`. Raises ValueError if the file does not have the expected
    rows, steps or columns, or holds values outside [0, 1].
    """
    import numpy as np
    import pandas as pd

    resource = resources.files("sites") / "data" / "history" / EXTRACT_FILENAME
    with resources.as_file(resource) as path:
        table = pd.read_parquet(path)
    expected = [STEP_COLUMN, *column_names()]
    if list(table.columns) != expected:
        raise ValueError(
            f"{EXTRACT_FILENAME}: columns {list(table.columns)} differ from the expected "
            f"{expected}; rebuild it with `python -m sites.history.build_extract`"
        )
    if len(table) != N_STEPS:
        raise ValueError(f"{EXTRACT_FILENAME}: {len(table)} rows, expected {N_STEPS}")
    if not np.array_equal(table[STEP_COLUMN].to_numpy(), np.arange(N_STEPS)):
        raise ValueError(f"{EXTRACT_FILENAME}: column '{STEP_COLUMN}' is not 0 .. {N_STEPS - 1}")
    values = table[column_names()].astype("float64")
    values.index = benchmark_index()
    values.attrs = {PROVENANCE_ATTR: table.attrs.get(PROVENANCE_ATTR, {})}
    if values.isna().any().any():
        raise ValueError(f"{EXTRACT_FILENAME}: contains NaN")
    low, high = float(values.min().min()), float(values.max().max())
    if low < 0.0 or high > 1.0 + VALUE_TOLERANCE_PU:
        raise ValueError(f"{EXTRACT_FILENAME}: values span {low} .. {high}, expected 0 .. 1")
    return values
