"""Refusals that say why: one body shape, and the database's failures answered as 503.

Every refusal made by this service's own checks carries ``detail`` as an object:
``code`` (stable, for programs), ``message`` (for people), and where one input is at fault
``field`` (where it is), ``value`` (what was sent, shortened) and ``accepted`` (what would
be). The framework's own request validation keeps its documented list shape.

A database that is busy or down is never a bare 500: :func:`install` maps
:class:`~controller.service.db.DatabaseUnavailable` (and any database error it classifies)
to ``503`` with ``Retry-After`` and the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from controller.service import db

log = logging.getLogger(__name__)
MAX_ECHO = 80
"""Characters of a refused value echoed back (an error body never grows with the request)."""


class RefusalDetail(BaseModel):
    code: str = Field(examples=["database_busy"])
    message: str
    field: str | None = None
    value: Any = None
    accepted: str | None = None


class Refusal(BaseModel):
    """The body of every refusal the service makes itself."""

    detail: RefusalDetail


def echo(value: Any) -> Any:
    """``value`` as sent, shortened to :data:`MAX_ECHO` characters when it is text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and len(value) > MAX_ECHO:
        return value[:MAX_ECHO] + f"... ({len(value)} characters)"
    return value


def detail(
    code: str,
    message: str,
    field: str | None = None,
    value: Any = None,
    accepted: str | None = None,
) -> dict[str, Any]:
    return RefusalDetail(
        code=code, message=message, field=field, value=echo(value), accepted=accepted
    ).model_dump(mode="json")


def refuse(
    status_code: int,
    code: str,
    message: str,
    field: str | None = None,
    value: Any = None,
    accepted: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPException:
    """An exception to raise: ``status_code`` with a :class:`Refusal` body."""
    return HTTPException(status_code, detail(code, message, field, value, accepted), headers)


def unavailable_response(problem: db.DatabaseUnavailable) -> JSONResponse:
    return JSONResponse(
        {"detail": detail(problem.code, problem.reason)},
        status_code=503,
        headers={"Retry-After": str(problem.retry_after_s)},
    )


def install(app: FastAPI) -> None:
    """Answer database failures as 503 with the reason, on every route."""

    async def on_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, db.DatabaseUnavailable)
        return unavailable_response(exc)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        problem = db.classify(exc)
        if problem is not None:
            return unavailable_response(problem)
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {
                "detail": detail(
                    "database_error", f"the store refused this request: {type(exc).__name__}"
                )
            },
            status_code=500,
        )

    async def on_invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        listed = [_short(e) for e in exc.errors()[:MAX_ERRORS]]
        return JSONResponse({"detail": jsonable_encoder(listed)}, status_code=422)

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(db.DatabaseUnavailable, on_unavailable)
    app.add_exception_handler(SQLAlchemyError, on_database_error)


MAX_ERRORS = 50
"""A refused request lists at most this many problems (an error body stays small)."""


def _short(error: Any) -> dict[str, Any]:
    """One validation error with its input shortened (never the whole body echoed back)."""
    shown = {k: error[k] for k in ("type", "loc", "msg") if k in error}
    given = error.get("input")
    if isinstance(given, dict | list):
        given = echo(repr(given))
    shown["input"] = echo(given)
    context = error.get("ctx")
    if context:
        shown["ctx"] = {
            k: v if isinstance(v, int | float) else echo(str(v)) for k, v in context.items()
        }
    return shown


SERVICE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Refusal, "description": "The database is busy or down (Retry-After, reason)"}
}
