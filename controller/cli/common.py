"""What every command shares: a console, and turning our errors into exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from sites import MicrogridError

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
_PIPED_WIDTH = 160
console = Console(highlight=False, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

USAGE_ERROR = 2
SiteId = Annotated[str, typer.Argument(help="bundled park id, see `microgrid sites list`")]
T = TypeVar("T")


def run_guarded(action: Callable[[], T]) -> T:
    """Run ``action``; an error of ours is printed (no traceback) and exits with code 2."""
    try:
        return action()
    except MicrogridError as exc:
        err_console.print(str(exc), markup=False)
        sys.stderr.flush()
        raise typer.Exit(USAGE_ERROR) from None
