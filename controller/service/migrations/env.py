"""Alembic environment: migrations run on the connection the service hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from controller.service.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through controller.service.migrate.upgrade(engine)")
_run(connection)
