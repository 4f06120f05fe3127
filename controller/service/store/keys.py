"""API keys as stored: a public id, the sha256 of the whole key, a role and granted parks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from controller.service.models import api_keys as k_t

ALL_SITES = "*"


@dataclass(frozen=True)
class StoredKey:
    id: str
    hash: str
    role: str
    sites: tuple[str, ...]
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _key(row: Row[Any]) -> StoredKey:
    return StoredKey(
        id=row.id,
        hash=row.hash,
        role=row.role,
        sites=tuple(row.sites),
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def insert(
    connection: Connection,
    key_id: str,
    key_hash: str,
    role: str,
    sites: Sequence[str],
    label: str,
) -> StoredKey:
    now = datetime.now(UTC)
    connection.execute(
        k_t.insert().values(
            id=key_id, hash=key_hash, role=role, sites=list(sites), label=label, created_at=now
        )
    )
    return StoredKey(key_id, key_hash, role, tuple(sites), label, now, None)


def get(connection: Connection, key_id: str) -> StoredKey | None:
    row = connection.execute(select(k_t).where(k_t.c.id == key_id)).first()
    return _key(row) if row else None


def all_keys(connection: Connection) -> list[StoredKey]:
    return [_key(r) for r in connection.execute(select(k_t).order_by(k_t.c.created_at))]


def revoke(connection: Connection, key_id: str) -> bool:
    """Revoke a key; False if there is no such key or it was revoked already."""
    result = connection.execute(
        update(k_t)
        .where(k_t.c.id == key_id, k_t.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(result.rowcount)


def find_by_label(connection: Connection, label: str) -> list[StoredKey]:
    rows = connection.execute(select(k_t).where(k_t.c.label == label, k_t.c.revoked_at.is_(None)))
    return [_key(r) for r in rows]


def revoked_count(connection: Connection) -> int:
    """How many keys are revoked: grows with every revocation, by any process."""
    return int(connection.scalar(select(func.count()).where(k_t.c.revoked_at.is_not(None))) or 0)
