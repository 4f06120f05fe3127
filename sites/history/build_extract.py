"""Rebuild the bundled benchmark-profile extract from the installed `simbench` package.

    python -m sites.history.build_extract [--out PATH]

Reads the 2016 profile tables that ship inside `simbench` (scenario 0, the status-quo year,
via `simbench.get_all_simbench_profiles`), checks the time axis, selects the columns listed
in `sites.history.extract.EXTRACT_COLUMNS`, clips tiny negative values to zero, normalises the
loads to their annual maximum and writes a compact float32 Parquet file. The provenance
(source, versions, column mapping, normalisation divisors, clip counts) is stored with the
frame's `attrs` (pandas writes them into the Parquet metadata and reads them back) under
`benchmark_provenance`; `PROVENANCE.md` explains it for people.

Needs the optional `extract` dependencies (`simbench`); nothing else in the project does.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from sites.history.extract import (
    EXTRACT_COLUMNS,
    EXTRACT_FILENAME,
    N_STEPS,
    PROVENANCE_ATTR,
    SOURCE_TIMEZONE,
    STEP_COLUMN,
    ExtractColumn,
    ProfileKind,
    benchmark_index,
)

SIMBENCH_SCENARIO = 0
"""SimBench scenario 0 is the 2016 status quo; 1 and 2 scale installed RES to future years."""
SOURCE_TIME_COLUMN = "time"
SOURCE_TIME_FORMAT = "%d.%m.%Y %H:%M"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "history" / EXTRACT_FILENAME


@dataclass(frozen=True)
class ColumnReport:
    """What the build did to one column."""

    column: str
    source_table: str
    source_column: str
    negative_values_clipped: int
    most_negative_source_value: float
    normalisation_divisor: float
    mean_pu: float


def expected_source_labels() -> pd.Series:
    """The German wall-clock labels that a physically continuous 2016 sequence must carry."""
    local = benchmark_index().tz_localize(None)
    return pd.Series(local.strftime(SOURCE_TIME_FORMAT), name=SOURCE_TIME_COLUMN)


def check_source_time_axis(labels: pd.Series, table: str) -> None:
    """Raise ValueError unless `labels` are the 35,136 German local-clock labels of 2016.

    The SimBench rows are consecutive quarter hours of physical time labelled with the German
    wall clock: no 02:00-02:45 on 27 March, 02:00-02:45 twice on 30 October.
    """
    if len(labels) != N_STEPS:
        raise ValueError(f"SimBench table '{table}': {len(labels)} rows, expected {N_STEPS}")
    expected = expected_source_labels()
    mismatch = np.flatnonzero(labels.to_numpy() != expected.to_numpy())
    if mismatch.size:
        first = int(mismatch[0])
        raise ValueError(
            f"SimBench table '{table}': row {first} is labelled '{labels.iloc[first]}', expected "
            f"'{expected.iloc[first]}' ({SOURCE_TIMEZONE} wall clock of a continuous sequence)"
        )


def transform_column(source: pd.Series, column: ExtractColumn) -> tuple[np.ndarray, ColumnReport]:
    """Clip negatives to zero and, for loads, divide by the annual maximum; return float32."""
    raw = source.to_numpy(dtype="float64")
    if np.isnan(raw).any():
        raise ValueError(f"SimBench column '{column.source_column}' contains NaN")
    negative = raw < 0.0
    clipped = np.where(negative, 0.0, raw)
    divisor = float(clipped.max()) if column.kind is ProfileKind.LOAD else 1.0
    if divisor <= 0.0:
        raise ValueError(f"SimBench column '{column.source_column}' has no positive value")
    values = (clipped / divisor).astype("float32")
    report = ColumnReport(
        column=column.name,
        source_table=column.source_table.value,
        source_column=column.source_column,
        negative_values_clipped=int(negative.sum()),
        most_negative_source_value=float(raw.min()) if negative.any() else 0.0,
        normalisation_divisor=divisor,
        mean_pu=float(values.mean(dtype="float64")),
    )
    return values, report


def read_simbench_tables() -> dict[str, pd.DataFrame]:
    """The status-quo profile tables shipped inside the installed `simbench` package."""
    import simbench  # optional dependency, imported only when rebuilding

    tables: dict[str, pd.DataFrame] = simbench.get_all_simbench_profiles(SIMBENCH_SCENARIO)
    return tables


def build_extract(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[ColumnReport]]:
    """Select, check and transform the extract columns from the SimBench profile tables."""
    for table in {column.source_table.value for column in EXTRACT_COLUMNS}:
        check_source_time_axis(tables[table][SOURCE_TIME_COLUMN], table)
    arrays: dict[str, np.ndarray] = {STEP_COLUMN: np.arange(N_STEPS, dtype="int32")}
    reports: list[ColumnReport] = []
    for column in EXTRACT_COLUMNS:
        source_table = tables[column.source_table.value]
        if column.source_column not in source_table.columns:
            raise ValueError(
                f"SimBench table '{column.source_table.value}' has no column "
                f"'{column.source_column}' (needed for '{column.name}')"
            )
        arrays[column.name], report = transform_column(source_table[column.source_column], column)
        reports.append(report)
    frame = pd.DataFrame(arrays)
    frame.attrs[PROVENANCE_ATTR] = provenance(reports)
    return frame, reports


def provenance(reports: list[ColumnReport]) -> dict[str, object]:
    """The machine-readable provenance stored in the Parquet metadata."""
    return {
        "source": "SimBench data set, profile tables of scenario 0 (status quo, year 2016)",
        "source_package": "simbench",
        "source_package_version": metadata.version("simbench"),
        "licence": "Open Data Commons Open Database License (ODbL) v1.0",
        "time_axis": (
            f"{STEP_COLUMN} k = interval starting at 2016-01-01 00:00 {SOURCE_TIMEZONE} "
            "(2015-12-31 23:00 UTC) + k x 15 min of physical time"
        ),
        "columns": [asdict(report) for report in reports],
    }


def write_extract(frame: pd.DataFrame, out: Path) -> None:
    """Write the extract as zstd-compressed Parquet (its `attrs` go into the metadata)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, engine="pyarrow", compression="zstd", index=False)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: build the extract and print a short summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Parquet file to write")
    args = parser.parse_args(argv)
    frame, reports = build_extract(read_simbench_tables())
    write_extract(frame, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(frame)} rows)")
    for report in reports:
        print(
            f"  {report.column:32s} <- {report.source_column:14s} mean {report.mean_pu:.3f} pu, "
            f"divisor {report.normalisation_divisor:.6g}, "
            f"{report.negative_values_clipped} negatives clipped "
            f"(min {report.most_negative_source_value:.2g})"
        )


if __name__ == "__main__":
    main()
