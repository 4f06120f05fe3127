"""A user's own history from CSV or Parquet: checked, never guessed.

The file has a ``timestamp`` column and one column per series, named with units as in
:mod:`sites.columns` (``pv_<array>_kw``, ``load_<load>_kw``, ``heat_demand_<demand>_kw_th``,
``ambient_temperature_degc``, ...). Timestamps carry their UTC offset (``2024-03-01T00:15+08:00``)
or the caller names the zone they are in; the result is on the site's zone, 15-minute steps.
Every problem found is reported with its row (1-based data row of the file) and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sites.errors import DataError
from sites.history.series import expected_series
from sites.schema import Site
from sites.time_step import STEP

TIMESTAMP = "timestamp"
_MAX_LISTED = 10  # rows listed per problem before "and N more"
_UNIT = re.compile(r"_(kw|kw_th|mw|mw_th|w|kwh|mwh|degc|degf|k|pu)$")


@dataclass(frozen=True)
class DataProblem:
    row: str
    column: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: got {self.value!r}: {self.rule}"


class HistoryImportError(DataError):
    def __init__(self, source: str, problems: list[DataProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s) in the history file:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def read_history_file(
    path: str | Path,
    site: Site,
    assume_timezone: str | None = None,
    every_series: bool = False,
) -> pd.DataFrame:
    """Read, check and return a history frame on the site's 15-minute local index.

    With ``every_series``, a column the site needs (:func:`expected_series`) that the file
    lacks is a problem too: what planning and forecasting need, checked before they run.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        # Only an empty cell is missing; "n/a", "-" and the like are reported, not read as NaN.
        raw = pd.read_csv(path, dtype={TIMESTAMP: str}, keep_default_na=False, na_values=[""])
    elif path.suffix.lower() in (".parquet", ".pq"):
        raw = pd.read_parquet(path)
    else:
        raise HistoryImportError(
            str(path), [DataProblem("-", "(file)", path.suffix, "must be .csv or .parquet")]
        )
    return check_history(
        raw, site, source=str(path), assume_timezone=assume_timezone, every_series=every_series
    )


def template_columns(site: Site) -> list[str]:
    """The columns of a complete history file of ``site``: the time stamp, then one per
    series the site needs (units in the names)."""
    return [TIMESTAMP, *expected_series(site)]


def check_history(
    raw: pd.DataFrame,
    site: Site,
    source: str = "<frame>",
    assume_timezone: str | None = None,
    every_series: bool = False,
) -> pd.DataFrame:
    problems: list[DataProblem] = []
    expected = expected_series(site)
    if TIMESTAMP not in raw.columns:
        raise HistoryImportError(
            source, [DataProblem("-", TIMESTAMP, None, "a 'timestamp' column is required")]
        )
    index = _timestamps(raw[TIMESTAMP], site, assume_timezone, problems)
    values = raw.drop(columns=[TIMESTAMP])
    problems += _column_problems(list(values.columns), expected)
    if every_series:
        problems += [
            DataProblem(
                "-",
                column,
                None,
                f"missing column: site '{site.id}' needs it (unit {spec.unit}); "
                "`microgrid history template` writes every column the site needs",
            )
            for column, spec in expected.items()
            if column not in values.columns
        ]
    known = [c for c in values.columns if c in expected]
    numeric = values[known].apply(pd.to_numeric, errors="coerce")
    for column in known:
        bad = numeric[column].isna() & values[column].notna()
        _rows(problems, bad, column, values[column], "must be a number")
        _rows(problems, values[column].isna(), column, values[column], "missing value")
        if expected[column].non_negative:
            neg = numeric[column] < 0
            _rows(problems, neg, column, numeric[column], "must be >= 0 (a flow in kW or kW_th)")
    if index is not None and len(index):
        dup = index.duplicated(keep=False)
        _rows(problems, pd.Series(dup), TIMESTAMP, raw[TIMESTAMP], "duplicated timestamp")
        if not dup.any():
            ordered = index.sort_values()
            steps = ordered[1:] - ordered[:-1]
            if (steps < STEP).any():
                first = ordered[1:][steps < STEP][0]
                problems.append(DataProblem("-", TIMESTAMP, str(first), "steps must be 15 minutes"))
            off_grid = (index - index.floor("15min")) != pd.Timedelta(0)
            _rows(
                problems,
                pd.Series(off_grid),
                TIMESTAMP,
                raw[TIMESTAMP],
                "must be on a quarter hour",
            )
            full = pd.date_range(ordered[0], ordered[-1], freq=STEP)
            missing = full.difference(index)
            if len(missing):
                shown = ", ".join(str(t) for t in missing[:_MAX_LISTED])
                more = (
                    f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
                )
                problems.append(
                    DataProblem(
                        "-", TIMESTAMP, f"{len(missing)} missing", f"gap(s) at {shown}{more}"
                    )
                )
    if problems:
        raise HistoryImportError(source, problems)
    assert index is not None
    frame = numeric.astype(float).set_axis(index, axis=0).sort_index()
    frame.index.name = None
    return frame


def _timestamps(
    column: pd.Series, site: Site, assume_timezone: str | None, problems: list[DataProblem]
) -> pd.DatetimeIndex | None:
    zone = site.location.timezone
    if column.empty:  # a file with its header only: no history yet
        return pd.DatetimeIndex([], tz=zone)
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = pd.DatetimeIndex(column)
    else:
        try:
            parsed = pd.DatetimeIndex(pd.to_datetime(column, format="ISO8601", utc=False))
        except (ValueError, TypeError) as exc:
            bad = pd.to_datetime(column, errors="coerce", format="ISO8601").isna()
            _rows(problems, bad, TIMESTAMP, column, f"must be an ISO 8601 time stamp ({exc})")
            return None
    if parsed.tz is None:
        if assume_timezone is None:
            problems.append(
                DataProblem(
                    "1",
                    TIMESTAMP,
                    str(column.iloc[0]),
                    "time stamps carry no UTC offset; add one (e.g. +08:00) or name the zone "
                    "they are in (assume_timezone / --timezone)",
                )
            )
            return None
        try:
            parsed = parsed.tz_localize(assume_timezone, ambiguous="raise", nonexistent="raise")
        except (ValueError, KeyError) as exc:
            problems.append(DataProblem("-", TIMESTAMP, assume_timezone, f"cannot localise: {exc}"))
            return None
    return parsed.tz_convert(zone)


def _column_problems(columns: list[str], expected: Mapping[str, object]) -> list[DataProblem]:
    problems = []
    for column in columns:
        if column in expected:
            continue
        stem = _UNIT.sub("", column)
        same_stem = [e for e in expected if _UNIT.sub("", e) == stem]
        if same_stem:
            rule = f"wrong unit; expected {same_stem[0]}"
        else:
            rule = f"unknown column; expected some of {sorted(expected)}"
        problems.append(DataProblem("-", column, column, rule))
    return problems


def _rows(
    problems: list[DataProblem], mask: pd.Series, column: str, values: pd.Series, rule: str
) -> None:
    rows = np.flatnonzero(mask.to_numpy())
    for r in rows[:_MAX_LISTED]:
        problems.append(DataProblem(str(r + 1), column, values.iloc[r], rule))
    if len(rows) > _MAX_LISTED:
        problems.append(
            DataProblem("...", column, None, f"{len(rows) - _MAX_LISTED} more rows: {rule}")
        )
