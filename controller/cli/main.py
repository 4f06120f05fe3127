"""The ``microgrid`` command: one entry point for operators and planning engineers."""

from __future__ import annotations

import typer

from controller.cli import (
    forecast_cmd,
    history_cmd,
    network_cmd,
    plan_cmd,
    serve_cmd,
    simulate_cmd,
    sites_cmd,
    size_storage_cmd,
)
from controller.cli.common import run_guarded

app = typer.Typer(
    help="Dispatch controller for industrial green microgrids.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sites_cmd.app, name="sites")
app.add_typer(network_cmd.app, name="network")
app.add_typer(history_cmd.app, name="history")
app.add_typer(forecast_cmd.app, name="forecast")
app.command("plan")(plan_cmd.plan_command)
app.add_typer(serve_cmd.keys_app, name="keys")
app.command("serve")(serve_cmd.serve)
app.command("simulate")(simulate_cmd.simulate)
app.command("size-storage")(size_storage_cmd.size_storage)


@app.command()
def overview() -> None:
    """Summary and network design check of every bundled park."""
    run_guarded(network_cmd.print_overview)


if __name__ == "__main__":
    app()
