"""The parks this service runs, recorded so that every other table can refer to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from controller.service.db import insert_on_conflict
from controller.service.models import sites as sites_t
from sites import Site


def upsert_sites(connection: Connection, parks: Mapping[str, tuple[Site, str]]) -> None:
    """Record each park (id -> (site, where its description came from)), replacing old rows."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": site.id,
            "name": site.name,
            "timezone": site.location.timezone,
            "config_json": site.model_dump_json(),
            "source": source,
            "updated_at": now,
        }
        for site, source in parks.values()
    ]
    if not rows:
        return
    insert = insert_on_conflict(connection, sites_t)
    stmt = insert.on_conflict_do_update(
        index_elements=[sites_t.c.id],
        set_={
            c: insert.excluded[c]
            for c in ("name", "timezone", "config_json", "source", "updated_at")
        },
    )
    connection.execute(stmt, rows)


def stored_site_ids(connection: Connection) -> list[str]:
    return list(connection.scalars(select(sites_t.c.id).order_by(sites_t.c.id)))
