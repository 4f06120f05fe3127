"""GET plan-in-force answered from memory before the web framework sees the request.

Utilities poll ``/api/v1/sites/{site_id}/plans/current`` hard, and almost every poll finds
the same answer. The app (:class:`ServiceApp`) hands every request to
:class:`PlanInForceFastPath` first, which answers it itself when, and only when,
everything it needs is already cached: a trusted key (:class:`~controller.service.auth
.KeyVerifier`) granted the park, the park's resolved plan in force
(:class:`~controller.service.inforce.PlansInForce`) and that plan encoded in the asked
format (:class:`~controller.service.bodies.BodyCache`). It sends the very bytes and headers
the route would (:class:`~controller.service.api.plans.EncodedResponse`), 200 or 304.

Every other request, and every such request that misses anything (no or unknown key, a park
the key is not granted, a query string other than ``format=json|csv``, a cold cache, no plan
in force), goes on to the route, which decides as documented (401, 403, 404, 422, or the plan)
and fills the caches. So the fast path cannot answer differently from the route; it only
skips the framework's per-request work: middleware, routing, dependency resolution and
worker-thread hops. Its answers are counted in the request metrics like the route's.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from controller.service.api.plans import PLAN_IN_FORCE_PATH, negotiate, router
from controller.service.auth import Role, token_of
from controller.service.bodies import Encoded, if_none_match
from controller.service.context import Service
from controller.service.render import Format

ROUTE = router.prefix + PLAN_IN_FORCE_PATH
_PREFIX, _SUFFIX = ROUTE.split("{site_id}")
_FORMATS = {b"": None, b"format=json": Format.JSON, b"format=csv": Format.CSV}
_WANTED = (b"authorization", b"x-api-key", b"accept", b"if-none-match")
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class ServiceApp(FastAPI):
    """The service's FastAPI app: a request the fast path can answer never enters it."""

    fast_path: PlanInForceFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None and await self.fast_path(scope, send):
            return
        await super().__call__(scope, receive, send)


class PlanInForceFastPath:
    def __init__(self, service: Service, count: Callable[[str, str, int], None]) -> None:
        self.service = service
        self.count = count

    async def __call__(self, scope: Scope, send: Send) -> bool:
        """Answer the request if everything is cached; ``False``: the app must answer it."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        found = self.answer(scope)
        if found is None:
            return False
        status, headers, body = found
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.count("GET", ROUTE, status)
        return True

    def answer(self, scope: Scope) -> Answer | None:
        """The cached answer to this request, or ``None`` to let the route decide."""
        path: str = scope["path"]
        if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)) or scope.get("root_path"):
            return None
        site_id = path[len(_PREFIX) : -len(_SUFFIX)]
        query: bytes = scope.get("query_string", b"")
        if not site_id or "/" in site_id or query not in _FORMATS:
            return None
        headers: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name in _WANTED and name not in headers:  # the first one, as the route reads
                headers[name] = value.decode("latin-1")
        token = token_of(headers.get(b"authorization"), headers.get(b"x-api-key"))
        if token is None:
            return None
        service = self.service
        principal = service.keys.cached(token)
        if principal is None or not principal.has(Role.UTILITY):
            return None
        if service.parks.get(site_id) is None or not principal.may_see(site_id):
            return None
        resolved = service.in_force.peek(site_id)
        if resolved is None or resolved.header is None:
            return None
        fmt = negotiate(headers.get(b"accept"), _FORMATS[query])
        encoded: Encoded | None = service.bodies.peek(resolved.header.id, fmt)
        if encoded is None:
            return None
        if if_none_match(headers.get(b"if-none-match"), encoded.etag):
            return 304, encoded.not_modified_headers, b""
        return 200, encoded.ok_headers, encoded.body
