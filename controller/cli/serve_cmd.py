"""``microgrid serve`` (the running controller) and ``microgrid keys`` (API keys).

The service package is imported inside the commands, so the rest of the command line
starts without loading the web stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from controller.cli.common import console, run_guarded

if TYPE_CHECKING:
    from sqlalchemy import Engine

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (see the README)")
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLite file URL or postgresql+psycopg://... URL"),
]

keys_app = typer.Typer(help="API keys of the service: create, list, revoke.", no_args_is_help=True)


def serve(
    config: ConfigOption = None,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo", help="replay the bundled parks' historical year as live data"
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    database_url: DatabaseOption = None,
    site: Annotated[
        list[str] | None,
        typer.Option(
            "--site",
            help="park to run (repeat): a bundled id or the path of a site YAML; default all "
            "bundled parks",
        ),
    ] = None,
    field: Annotated[
        bool | None,
        typer.Option(
            "--field/--no-field",
            help="read and control the parks' field devices (with --demo, the default: "
            "each park's simulated plant)",
        ),
    ] = None,
) -> None:
    """Run the controller: API, dashboard, scheduled day-ahead and intraday planning."""

    def action() -> None:
        import uvicorn

        from controller.service.app import create_app
        from controller.service.settings import load_settings

        settings = load_settings(
            config_file=config,
            demo=demo,
            host=host,
            port=port,
            database_url=database_url,
            sites=site or None,
            field_devices=field,
        )
        app = create_app(settings)
        service = app.state.service
        base = f"http://{settings.host}:{settings.port}"
        console.print(f"store: {settings.database_url}; parks: {', '.join(service.parks.ids)}")
        if service.demo_key:
            from controller.cli.network_cmd import print_overview

            print_overview()  # what the demo parks are, and their network at its extremes
            console.print("demo mode: replaying each park's 2016 year on today's clock")
            if service.field_loop is not None:
                mqtt = service.field_loop.broker or "none answers: Modbus only"
                console.print(f"field devices: each park's simulated plant (MQTT broker: {mqtt})")
            console.print(f"read-only demo key (shown once): {service.demo_key}", markup=False)
            console.print(f"dashboard: {base}/#key={service.demo_key}", markup=False)
        else:
            console.print(f"dashboard: {base}/   API: {base}/docs")
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.log_level == "debug",  # a line per poll only when debugging
        )

    run_guarded(action)


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option(help="utility, operator or admin")],
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="granted park (repeat); required for utility keys"),
    ] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "",
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Make a key; it is printed once and only its hash is stored."""

    def action() -> None:
        from controller.service.auth import ApiKeyError, Role, create_key

        try:
            chosen = Role(role)
        except ValueError:
            raise ApiKeyError(f"--role {role!r}: must be one of utility, operator, admin") from None
        engine, parks = _open(config, database_url)
        made = create_key(engine, chosen, site or [], parks, label)
        sites = ", ".join(made.stored.sites)
        console.print(f"key {made.stored.id} ({made.stored.role}; parks: {sites}):")
        console.print(made.token, markup=False, soft_wrap=True)

    run_guarded(action)


@keys_app.command("list")
def list_keys(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Every key with its role, parks and state (never the key itself)."""

    def action() -> None:
        from controller.service import db
        from controller.service.store import keys as key_store

        engine, _ = _open(config, database_url)
        with db.read(engine) as connection:
            stored = key_store.all_keys(connection)
        table = Table(title="API keys")
        for col in ("id", "role", "parks", "label", "created", "revoked"):
            table.add_column(col)
        for k in stored:
            table.add_row(
                k.id,
                k.role,
                ", ".join(k.sites),
                k.label,
                f"{k.created_at:%Y-%m-%d %H:%M}",
                f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
            )
        console.print(table)

    run_guarded(action)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (second part of mg_<id>_...)")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a key (a running service notices within its store poll interval, 1 s by default)."""

    def action() -> None:
        from controller.service import db
        from controller.service.auth import ApiKeyError
        from controller.service.store import keys as key_store

        engine, _ = _open(config, database_url)
        with db.write(engine) as connection:
            if not key_store.revoke(connection, key_id):
                raise ApiKeyError(f"{key_id!r}: no active key with this id")
        console.print(f"revoked {key_id}")

    run_guarded(action)


def _open(config: Path | None, database_url: str | None) -> tuple[Engine, list[str]]:
    from controller.service import db, migrate
    from controller.service.parks import load_parks
    from controller.service.settings import load_settings

    settings = load_settings(config_file=config, database_url=database_url)
    engine = db.make_engine(settings.database_url, settings.sqlite_synchronous)
    migrate.upgrade(engine)
    return engine, load_parks(settings.sites, settings.site_files).ids
