"""What every request passes before the framework reads it: the door.

- A NUL byte anywhere in the path or the query string is refused (422): no store accepts it
  in text (PostgreSQL refuses it outright) and no park, series or key has one.
- A request with a body (POST, PUT, PATCH, DELETE under ``/api/``) must carry a valid key
  *before* its body is read: 401 otherwise, as the routes answer. A key checked here is
  cached, so the route's own check costs nothing more.
- Its body may be at most ``max_body_bytes``: a larger ``Content-Length`` is refused (413)
  before a byte is read, and a body sent without one is counted as it arrives.
- A client address whose requests were refused 401 more than ``auth_failures_per_minute``
  times in the last minute gets 429 (``Retry-After``) for requests whose key is not already
  verified, without a store lookup; requests with verified keys from it go on.
- ``HEAD`` is answered wherever ``GET`` is: as ``GET``, without the body.
- At most ``db_write_slots`` such requests run at once; the others wait here, holding no
  worker thread and no database connection, up to ``db_write_wait_s``, then get 503 with
  ``Retry-After``. So writes queued on a database lock never starve the reads.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.service import db
from controller.service.auth import token_of
from controller.service.context import Service
from controller.service.errors import detail

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_CHALLENGE = [(b"www-authenticate", b'Bearer realm="microgrid"')]


class BodyTooLarge(Exception):
    pass


class Door:
    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service
        settings = service.settings
        self.max_body = settings.max_body_bytes
        self.wait_s = settings.db_write_wait_s
        self.slot_count = settings.db_write_slots
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self.waiting = 0
        self.failure_limit = settings.auth_failures_per_minute
        self._failures: dict[str, deque[float]] = {}

    def _throttled(self, scope: Scope) -> bool:
        """Whether this request comes from an address over its failure budget with a key
        that is not already verified."""
        address = _address(scope)
        seen = self._failures.get(address)
        if seen is None:
            return False
        cutoff = time.monotonic() - 60.0
        while seen and seen[0] < cutoff:
            seen.popleft()
        if len(seen) <= self.failure_limit:
            return False
        token = _token(scope)
        return token is None or self.service.keys.cached(token) is None

    def _noting_failures(self, scope: Scope, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                if len(self._failures) > 10_000:
                    self._failures.clear()
                self._failures.setdefault(_address(scope), deque()).append(time.monotonic())
            await send(message)

        return sending

    def slots(self) -> asyncio.Semaphore:
        """The write slots of the running event loop (a test client may run several)."""
        loop = asyncio.get_running_loop()
        found = self._slots.get(loop)
        if found is None:
            found = self._slots[loop] = asyncio.Semaphore(self.slot_count)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":  # answered as GET, without the body
            await self.__call__(dict(scope, method="GET"), receive, _headers_only(send))
            return
        if self._throttled(scope):
            await _send_json(
                send,
                429,
                detail(
                    "too_many_failures",
                    f"more than {self.failure_limit} requests from this address were refused "
                    "for their key in the last minute",
                    "authorization",
                    None,
                    "a valid key; retry after Retry-After seconds",
                ),
                [(b"retry-after", b"60")],
            )
            return
        send = self._noting_failures(scope, send)
        nul = _nul_in(scope)
        if nul is not None:
            field, value = nul
            await _send_json(
                send,
                422,
                detail(
                    "nul_byte",
                    f"{field} contains a NUL byte (\\u0000)",
                    field,
                    value,
                    "text without NUL bytes",
                ),
            )
            return
        if scope["method"] not in _WRITES or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        refused = await self._authenticate(scope)
        if refused is not None:
            status, body, headers = refused
            await _send_json(send, status, body, headers)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await _send_json(send, 413, self._too_large(length))
            return
        slots = self.slots()
        self.waiting += 1
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_s)
        except TimeoutError:
            problem = db.DatabaseBusy(
                f"database busy: {self.waiting} writes are waiting; this one did not start "
                f"within {self.wait_s:g} s"
            )
            db.state(self.service.engine).failed(problem)
            await _send_json(
                send,
                503,
                detail(problem.code, problem.reason),
                [(b"retry-after", str(problem.retry_after_s).encode())],
            )
            return
        finally:
            self.waiting -= 1
        try:
            await self._pass(scope, receive, send)
        finally:
            slots.release()

    async def _pass(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def noting(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, noting)
        except BodyTooLarge:
            if not started:
                await _send_json(send, 413, self._too_large(received))

    def _too_large(self, length: int) -> dict[str, Any]:
        return detail(
            "body_too_large",
            f"the request body ({length} bytes or more) is larger than this service accepts",
            "body",
            None,
            f"at most {self.max_body} bytes; send large batches in parts",
        )

    async def _authenticate(
        self, scope: Scope
    ) -> tuple[int, dict[str, Any] | str, list[tuple[bytes, bytes]]] | None:
        token = _token(scope)
        if token is None:
            return 401, "an API key is required", _CHALLENGE
        try:
            principal = await self.service.keys.lookup(token)
        except db.DatabaseUnavailable as problem:
            return (
                503,
                detail(problem.code, problem.reason),
                [(b"retry-after", str(problem.retry_after_s).encode())],
            )
        if principal is None:
            return 401, "unknown or revoked API key", _CHALLENGE
        return None


def _token(scope: Scope) -> str | None:
    headers: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in (b"authorization", b"x-api-key") and name not in headers:
            headers[name] = value.decode("latin-1")
    return token_of(headers.get(b"authorization"), headers.get(b"x-api-key"))


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _headers_only(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = dict(message, body=b"")
        await send(message)

    return sending


def _nul_in(scope: Scope) -> tuple[str, str] | None:
    path: str = scope["path"]
    if "\x00" in path:
        return "path", path.replace("\x00", "\\u0000")
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for part in query.split(b"&"):
            name, _, value = part.partition(b"=")
            raw = unquote_to_bytes(value)
            if b"\x00" in raw or b"%00" in name or b"\x00" in name:
                field = unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", "")
                shown = raw.decode("utf-8", "replace").replace("\x00", "\\u0000")
                return f"query parameter {field!r}", shown
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any] | str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps({"detail": body}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw + (headers or [])})
    await send({"type": "http.response.body", "body": payload})
