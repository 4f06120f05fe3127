"""Dependencies every router shares: the service, and who is calling with what right.

(No ``from __future__ import annotations`` here: FastAPI must see the dependency factories'
annotations as objects, since they refer to the factories' own arguments.)

A key is sent as ``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``). Missing or
unknown keys get 401; a key whose role is too low, or that is not granted the park in the
path, gets 403 (whether or not the park exists: a key learns nothing of parks it is not
granted); a park that does not exist gets 404 (for keys granted every park).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials

from controller.service.apidocs import BEARER_KEY, HEADER_KEY
from controller.service.auth import Principal, Role, token_of
from controller.service.context import Service
from sites import Site


def get_service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service)
    return service


async def _service(request: Request) -> Service:
    """``get_service`` as a dependency (async: a plain function would cost a worker thread)."""
    return get_service(request)


ServiceDep = Annotated[Service, Depends(_service)]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="microgrid"'}


async def authenticate(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_KEY)],
    _header: Annotated[str | None, Security(HEADER_KEY)],
) -> Principal:
    """The caller's key (``_bearer`` and ``_header`` declare the two ways to send it in the
    OpenAPI document; the key is read from the headers here, as the fast path reads it)."""
    service = get_service(request)
    headers = request.headers
    token = token_of(headers.get("authorization"), headers.get("x-api-key"))
    if token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API key is required", _CHALLENGE)
    principal = await service.keys.lookup(token)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key", _CHALLENGE)
    request.state.principal = principal
    return principal


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: a key with at least ``role`` (any park)."""

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs a key of role {role.value} or above"
            )
        return principal

    return dependency


def require_site(role: Role) -> Callable[..., Awaitable[Site]]:
    """A dependency: the park in the path, for a key with ``role`` that is granted it."""

    async def dependency(
        site_id: str,
        request: Request,
        principal: Annotated[Principal, Depends(require(role))],
    ) -> Site:
        if not principal.may_see(site_id):  # first: a key not granted a park cannot tell
            # whether it exists (unknown and not granted answer alike)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key is not granted {site_id!r}")
        site = get_service(request).parks.get(site_id)
        if site is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no park {site_id!r}")
        return site

    return dependency


UtilityKey = Annotated[Principal, Depends(require(Role.UTILITY))]
OperatorKey = Annotated[Principal, Depends(require(Role.OPERATOR))]
AdminKey = Annotated[Principal, Depends(require(Role.ADMIN))]
UtilitySite = Annotated[Site, Depends(require_site(Role.UTILITY))]
OperatorSite = Annotated[Site, Depends(require_site(Role.OPERATOR))]
