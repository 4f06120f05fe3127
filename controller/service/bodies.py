"""Plan responses ready to send, by (plan id, format): a stored plan never changes, so neither
does its body or its ETag, and an entry never goes stale.

An :class:`Encoded` holds the serialised body and the raw HTTP headers of both answers (200
with the body, 304 without), so serving a cached plan copies no bytes and builds nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from controller.service.render import Format
from controller.service.store.plans import PlanHeader

RawHeaders = list[tuple[bytes, bytes]]
CACHE_CONTROL = b"private, no-cache"
"""Clients may keep a plan but must revalidate it (If-None-Match) before using it again."""


@dataclass(frozen=True)
class Encoded:
    """One stored plan in one format, as the API sends it."""

    etag: str
    body: bytes
    media_type: str
    ok_headers: RawHeaders
    """Headers of the 200 answer (with Content-Length and Content-Type)."""
    not_modified_headers: RawHeaders
    """Headers of the 304 answer (validators only, no body)."""


def plan_etag(header: PlanHeader, fmt: Format) -> str:
    """Strong validator of a plan in a format: the plan's own ETag with the format appended."""
    return f'{header.etag[:-1]}-{fmt.value}"'


def encode(header: PlanHeader, fmt: Format, body: bytes) -> Encoded:
    etag = plan_etag(header, fmt)
    validators = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL), (b"vary", b"Accept")]
    content = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", fmt.media_type.encode()),
    ]
    return Encoded(etag, body, fmt.media_type, validators + content, validators)


def if_none_match(given: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header value matches ``etag`` (``*`` matches any)."""
    if not given:
        return False
    return given.strip() == "*" or etag in [t.strip() for t in given.split(",")]


class BodyCache:
    """The most recently used :class:`Encoded` plans, at most ``size`` of them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, Format], Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, header: PlanHeader, fmt: Format, render: Callable[[], bytes]) -> Encoded:
        """The cached answer, else ``render()`` (reads the store) encoded and kept."""
        key = (header.id, fmt)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = encode(header, fmt, render())
        with self._lock:
            self._items[key] = made
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return made

    def peek(self, plan_id: int, fmt: Format) -> Encoded | None:
        """The cached answer or ``None``, without the store (safe on the event loop)."""
        return self._items.get((plan_id, fmt))
