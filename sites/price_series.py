"""Per-interval prices from a file: what a spot market publishes (96 quarter hours a day).

CSV with a ``timestamp`` column (the interval's start, ISO 8601 with its UTC offset) and
``import_price_cny_per_kwh`` and/or ``export_price_cny_per_kwh``; an empty cell keeps the
tariff's own price for that interval. Import prices must be >= 0 (the planner takes no
negative import price yet); export prices may be negative, as spot prices can be.

Prices posted by the operator through the service (``tariff.posted_prices``, one per
interval, import and optionally export) take the same path: :func:`combined_price_series`
lays them over the file's, and :class:`sites.tariff.Tariff` uses the result in place of the
calendar's prices for the intervals it covers, for the planner, the replay and the KPIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from sites.errors import ConfigProblem, SiteConfigError
from sites.schema.tariff import PostedPrice

TIMESTAMP = "timestamp"
IMPORT = "import_price_cny_per_kwh"
EXPORT = "export_price_cny_per_kwh"
_LISTED = 5  # rows listed per problem


@cache
def read_price_series(path: str, timezone: str) -> pd.DataFrame:
    """The file's prices on a timezone-aware index in ``timezone`` (columns IMPORT, EXPORT,
    NaN where the file leaves a price to the tariff); SiteConfigError listing every problem
    (file, row and column, value, rule)."""
    try:
        raw = pd.read_csv(path, dtype={TIMESTAMP: str}, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SiteConfigError(
            [ConfigProblem(path, "(file)", path, f"must be a readable CSV file ({exc})")]
        ) from None
    problems: list[ConfigProblem] = []

    def add(field: str, value: object, rule: str) -> None:
        problems.append(ConfigProblem(path, field, value, rule))

    accepted = {TIMESTAMP, IMPORT, EXPORT}
    for column in raw.columns:
        if column not in accepted:
            add(column, column, f"unknown column; accepted: {sorted(accepted)}")
    if TIMESTAMP not in raw.columns or not ({IMPORT, EXPORT} & set(raw.columns)):
        add("(header)", list(raw.columns), f"needs {TIMESTAMP} and {IMPORT} and/or {EXPORT}")
        raise SiteConfigError(problems)
    stamps = pd.to_datetime(raw[TIMESTAMP], format="ISO8601", errors="coerce", utc=True)
    for row in np.flatnonzero(stamps.isna().to_numpy())[:_LISTED]:
        add(f"row {row + 1}, {TIMESTAMP}", raw[TIMESTAMP].iloc[row], "must be ISO 8601 with offset")
    offset = raw[TIMESTAMP].astype(str).str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
    for row in np.flatnonzero(~offset.to_numpy())[:_LISTED]:
        add(f"row {row + 1}, {TIMESTAMP}", raw[TIMESTAMP].iloc[row], "needs its UTC offset")
    index = pd.DatetimeIndex(stamps)
    valid = ~np.asarray(index.isna())
    off_grid = valid & ((index - index.floor("15min")) != pd.Timedelta(0))
    for row in np.flatnonzero(off_grid)[:_LISTED]:
        add(f"row {row + 1}, {TIMESTAMP}", raw[TIMESTAMP].iloc[row], "must be on a quarter hour")
    duplicated = valid & index.duplicated(keep=False)
    for row in np.flatnonzero(duplicated)[:_LISTED]:
        add(f"row {row + 1}, {TIMESTAMP}", raw[TIMESTAMP].iloc[row], "duplicated time stamp")
    values = {}
    for column in (IMPORT, EXPORT):
        if column not in raw.columns:
            values[column] = np.full(len(raw), np.nan)
            continue
        numbers = pd.to_numeric(raw[column], errors="coerce")
        bad = numbers.isna() & raw[column].notna()
        for row in np.flatnonzero(bad.to_numpy())[:_LISTED]:
            add(f"row {row + 1}, {column}", raw[column].iloc[row], "must be a number")
        if column == IMPORT:
            for row in np.flatnonzero((numbers < 0).to_numpy())[:_LISTED]:
                add(f"row {row + 1}, {column}", float(numbers.iloc[row]), "must be >= 0")
        values[column] = numbers.to_numpy(dtype=float)
    if problems:
        raise SiteConfigError(problems)
    frame = pd.DataFrame(values, index=index.tz_convert(timezone)).sort_index()
    frame.index.name = None
    return frame


def posted_price_series(posted: Sequence[PostedPrice], timezone: str) -> pd.DataFrame:
    """Posted prices as a frame like :func:`read_price_series` (NaN export: not posted)."""
    index = pd.DatetimeIndex([pd.Timestamp(p.timestamp) for p in posted]).tz_convert(timezone)
    values = {
        IMPORT: [p.import_price_cny_per_kwh for p in posted],
        EXPORT: [
            np.nan if p.export_price_cny_per_kwh is None else p.export_price_cny_per_kwh
            for p in posted
        ],
    }
    return pd.DataFrame(values, index=index, dtype=float).sort_index()


def combined_price_series(
    posted: pd.DataFrame | None, from_file: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The one rule of per-interval prices: a posted price where there is one, else the
    file's (each NaN falls through to the tariff's own price)."""
    if posted is None or from_file is None:
        return posted if from_file is None else from_file
    return posted.combine_first(from_file)


def price_series_problems(
    path: Path, field: str, value: object, source: str, timezone: str
) -> list[ConfigProblem]:
    """The file's problems as problems of the site's ``field`` (for the site loader)."""
    try:
        read_price_series(str(path), timezone)
    except SiteConfigError as exc:
        return [
            ConfigProblem(source, field, value, f"{p.file}: {p.field}: got {p.value!r}: {p.rule}")
            for p in exc.problems
        ]
    return []
