"""API keys and roles: who may read or change what.

A key is ``mg_<id>_<secret>``: ``id`` is public (it names the key in lists and logs), the
secret is 32 random bytes. The store keeps only the sha256 of the whole key and compares in
constant time. Roles nest: ``utility`` reads plans, forecasts and KPIs of the parks it is
granted; ``operator`` also posts measurements, triggers re-plans and reads job runs and
metrics; ``admin`` also manages keys, on every park.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine

from controller.service import db
from controller.service.flight import SingleFlight
from controller.service.store import keys as key_store
from controller.service.store.keys import ALL_SITES, StoredKey
from sites.errors import MicrogridError

KEY_PREFIX = "mg"
_KEY_ID = re.compile(r"[0-9a-f]{1,16}")
log = logging.getLogger(__name__)


class Role(StrEnum):
    UTILITY = "utility"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {role: i for i, role in enumerate(Role)}


class ApiKeyError(MicrogridError):
    """A key that cannot be created as asked (unknown park, no park for a utility key)."""


@dataclass(frozen=True)
class Principal:
    """The holder of a verified key."""

    key_id: str
    role: Role
    sites: frozenset[str]

    def has(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def may_see(self, site_id: str) -> bool:
        """Whether the key is granted the park: its grant holds for every role (an admin
        key made for one park reads that park only; made without parks, every park)."""
        return ALL_SITES in self.sites or site_id in self.sites

    @property
    def all_parks(self) -> bool:
        return ALL_SITES in self.sites


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``token`` is shown once and never stored."""

    token: str
    stored: StoredKey


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_key_id(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    if not _KEY_ID.fullmatch(parts[1]):  # never a query for an id no key can have
        return None
    return parts[1]


def create_key(
    engine: Engine,
    role: Role,
    sites: Sequence[str],
    known_sites: Sequence[str],
    label: str = "",
) -> NewKey:
    """Make and store a key. A utility key needs parks; without, other roles get every park."""
    unknown = sorted(set(sites) - set(known_sites) - {ALL_SITES})
    if unknown:
        raise ApiKeyError(f"--site {', '.join(unknown)}: must be one of {', '.join(known_sites)}")
    if role is Role.UTILITY and not sites:
        raise ApiKeyError("a utility key needs at least one --site (the parks it may read)")
    granted = list(dict.fromkeys(sites)) or [ALL_SITES]
    key_id = secrets.token_hex(4)
    token = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    with db.write(engine) as connection:
        stored = key_store.insert(connection, key_id, hash_token(token), role.value, granted, label)
    return NewKey(token, stored)


def token_of(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a request sends: ``Authorization: Bearer <key>``, else ``X-API-Key: <key>``."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return x_api_key or None


class KeyVerifier:
    """Checks keys against the store, trusting a verified key for ``ttl_s`` seconds.

    The cache maps the key's hash to its principal (role and parks), so a request with a
    trusted key needs no store access. Any revocation empties it (:meth:`forget`): at once
    for a revocation through this service's API, within the store watcher's poll interval
    (:mod:`controller.service.watch`) for one by another process (``microgrid keys revoke``).
    A lookup that raced with a revocation is used for its own request but not kept.

    While the database does not answer, a key verified before (and not revoked since, as
    far as this process knows) is still trusted: utilities keep reading cached plans
    through an outage. A key never verified gets the database's 503.
    """

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._known: dict[str, Principal] = {}
        """Every key verified since the last revocation, for outages."""
        self._generation = 0
        self._lock = threading.Lock()
        self._flight: SingleFlight[tuple[str, int], Principal | None] = SingleFlight()

    def cached(self, token: str) -> Principal | None:
        """A principal from the cache only (no database access); ``None`` if not cached."""
        entry = self._cache.get(hash_token(token))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def verify(self, token: str) -> Principal | None:
        """The key's principal, from the cache or the store (blocking: call off the loop)."""
        digest = hash_token(token)
        entry = self._cache.get(digest)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        key_id = parse_key_id(token)
        if key_id is None:
            return None
        generation = self._generation
        try:
            with db.read(self._engine) as connection:
                stored = key_store.get(connection, key_id)
        except db.DatabaseUnavailable as problem:
            known = self._known.get(digest)
            if known is None:
                raise
            log.warning("key %s trusted as verified before: %s", key_id, problem.reason)
            return known
        if stored is None or stored.revoked_at is not None:
            return None
        if not hmac.compare_digest(stored.hash, digest):
            return None
        principal = Principal(stored.id, Role(stored.role), frozenset(stored.sites))
        with self._lock:
            if generation == self._generation:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                if len(self._known) > 10_000:
                    self._known.clear()
                self._cache[digest] = (principal, time.monotonic() + self._ttl_s)
                self._known[digest] = principal
        return principal

    async def lookup(self, token: str) -> Principal | None:
        """:meth:`verify` from the event loop: cached at once, else one store lookup in a
        worker thread, shared by every concurrent request with the same key."""
        cached = self.cached(token)
        if cached is not None:
            return cached
        key = (hash_token(token), self._generation)  # never shared across a revocation
        return await self._flight.run(key, lambda: self.verify(token))

    def forget(self) -> None:
        """Keys changed (a revocation): trust no cached key any more."""
        with self._lock:
            self._generation += 1
            self._cache.clear()
            self._known.clear()
