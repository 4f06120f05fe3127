"""What every command shares: a console, and turning our errors into exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from sites.errors import MicrogridError

if TYPE_CHECKING:
    from sites.park import Park

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
_PIPED_WIDTH = 160
console = Console(highlight=False, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

USAGE_ERROR = 2
_SITE_HELP = "bundled park id (see `microgrid sites list`) or the path of a site YAML file"
SiteId = Annotated[str, typer.Argument(help=_SITE_HELP)]
SiteOption = Annotated[str, typer.Option("--site", help=_SITE_HELP)]
HistoryOption = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="the park's history (CSV or Parquet: timestamp + one column per series, see "
        "`microgrid history template`); default: the bundled year of a bundled park",
    ),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option("--timezone", help="zone of the history's time stamps that carry no UTC offset"),
]
T = TypeVar("T")


def run_guarded(action: Callable[[], T]) -> T:
    """Run ``action``; an error of ours is printed (no traceback) and exits with code 2."""
    try:
        return action()
    except MicrogridError as exc:
        err_console.print(str(exc), markup=False)
        sys.stderr.flush()
        raise typer.Exit(USAGE_ERROR) from None


def park_of(site: str, history: Path | None = None, timezone: str | None = None) -> Park:
    """The park a command names: every command resolves its park here (see sites.park)."""
    from sites.park import open_park

    return open_park(site, history, timezone)
