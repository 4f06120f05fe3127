"""One way to name a park everywhere: a bundled id or a site file, and the history it runs on.

Every command that takes a park resolves it here, so a user's own park (its site file, its
history file) goes wherever a bundled park goes:

- ``reference`` is a bundled park id (``chiping-aluminium``) or the path of a site file
  (``parks/my-park.yaml``); a bundled id wins where both could be meant;
- the history is the ``history_file`` given (CSV or Parquet, the importer's format, every
  column the site needs), else the historical year derived from the benchmark profiles the
  site names in ``history.profiles`` (every bundled park names them), else there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from sites.errors import ConfigProblem, DataError, SiteConfigError
from sites.history.derive import SiteHistory, load_history
from sites.history.importer import read_history_file
from sites.history.series import expected_series
from sites.loader import bundled_site_paths, load_site
from sites.schema import Site

BUNDLED = "bundled"
_SITE_SUFFIXES = (".yaml", ".yml")


def resolve_site(reference: str) -> tuple[Site, str]:
    """The site a command names, and where it came from (``bundled`` or the file's path)."""
    bundled = bundled_site_paths()
    if reference in bundled:
        return load_site(bundled[reference]), BUNDLED
    path = Path(reference)
    if path.suffix.lower() in _SITE_SUFFIXES or path.exists():
        return load_site(path), str(path)
    raise SiteConfigError(
        [
            ConfigProblem(
                "<park>",
                "site",
                reference,
                f"must be a bundled park id ({', '.join(bundled)}) or the path of a site "
                "file (.yaml)",
            )
        ]
    )


@dataclass(frozen=True)
class Park:
    """A site, where it came from, and where its history comes from (read when first used)."""

    site: Site
    source: str
    """``bundled`` or the site file's path."""
    history_file: Path | None = None
    assume_timezone: str | None = None
    """Zone of the history file's time stamps where they carry no UTC offset."""

    @property
    def has_history(self) -> bool:
        return self.history_file is not None or bool(self.site.history.profiles)

    @property
    def history_source(self) -> str:
        if self.history_file is not None:
            return str(self.history_file)
        if self.site.history.profiles:
            return "the benchmark year 2016 derived for the site (history.profiles)"
        return "none"

    @cached_property
    def history(self) -> SiteHistory:
        """The park's history; :class:`DataError` naming ``--history`` when there is none."""
        if self.history_file is not None:
            frame = read_history_file(
                self.history_file, self.site, self.assume_timezone, every_series=True
            )
            series = expected_series(self.site)
            provenance = {c: f"measured, from {self.history_file}" for c in series}
            return SiteHistory(self.site.id, frame, series, provenance)
        if self.site.history.profiles:
            return load_history(self.site)
        raise DataError(
            f"{self.site.id}: no history: the site names no benchmark profiles "
            "(history.profiles) and no --history FILE was given; `microgrid history template "
            f"{self.source}` writes the columns such a file needs"
        )

    @property
    def history_frame(self) -> pd.DataFrame:
        """The history's frame, or an empty one with the site's columns when there is none:
        for the commands that work from nothing (a new park's first plan)."""
        if self.has_history:
            return self.history.frame
        zone = self.site.location.timezone
        return pd.DataFrame(
            {c: pd.Series(dtype=float) for c in expected_series(self.site)},
            index=pd.DatetimeIndex([], tz=zone),
        )


def open_park(
    reference: str, history_file: Path | None = None, assume_timezone: str | None = None
) -> Park:
    """Resolve ``reference`` (bundled id or site file) with an optional history file."""
    site, source = resolve_site(reference)
    if history_file is not None and not history_file.is_file():
        raise DataError(f"--history: got {str(history_file)!r}; it must be an existing file")
    return Park(site, source, history_file, assume_timezone)


__all__ = ["BUNDLED", "Park", "open_park", "resolve_site"]
