"""Serialised plan bodies by (plan id, format): plans are immutable, so a body never goes stale."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable


class BodyCache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, plan_id: int, fmt: str, render: Callable[[], bytes]) -> bytes:
        key = (plan_id, fmt)
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        body = render()
        with self._lock:
            self._items[key] = body
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body

    def peek(self, plan_id: int, fmt: str) -> bytes | None:
        return self._items.get((plan_id, fmt))
