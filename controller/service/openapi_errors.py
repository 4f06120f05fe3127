"""Every status a route can answer, in the OpenAPI document: the refusals the door and the
shared dependencies make are added to each operation that can meet them.

- ``401``/``403``/``429``: routes that need a key (they declare the key schemes);
- ``404``: routes with a path parameter (no such park, plan, key...);
- ``413``: routes with a request body (larger than ``max_body_bytes``, or too many points);
- ``422``: every route with a parameter or a body (the framework's list of problems, or one
  refusal of the service's own checks);
- ``503``: every route that reads or writes the store (busy or down, with ``Retry-After``).

Error bodies are documented as :class:`ErrorBody`: ``detail`` is text (401, 403, 404 of the
shared dependencies), one :class:`~controller.service.errors.RefusalDetail` (the service's
own checks), or the framework's list of validation problems.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from controller.service.errors import RefusalDetail

PUBLIC = {"/health", "/openapi.json", "/", "/docs", "/redoc"}


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """The body of every refusal (``detail``: text, one refusal, or a list of problems)."""

    detail: str | RefusalDetail | list[ValidationProblem] | dict[str, Any]


def _ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorBody, RefusalDetail, ValidationProblem):
            made = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in made.pop("$defs", {}).items():
                schemas.setdefault(name, sub)
            schemas[model.__name__] = made
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                _complete(path, operation)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    keyed = bool(operation.get("security"))
    wanted: dict[str, str] = {}
    if keyed:
        wanted["401"] = "No key, or an unknown or revoked key"
        wanted["403"] = "The key's role is too low, or it is not granted the park"
        wanted["429"] = "Too many refused keys from this address: retry after Retry-After"
        wanted["503"] = "The database is busy or down: retry after Retry-After seconds"
    if "{" in path:
        wanted["404"] = "No such park or resource"
    if operation.get("requestBody"):
        wanted["400"] = "The body is not valid JSON"
        wanted["413"] = "The body is larger than the service accepts"
    if operation.get("parameters") or operation.get("requestBody") or "{" in path:
        wanted["422"] = "A parameter or the body was refused: which, what was sent, and why"
    for code, description in wanted.items():
        if code in responses:
            responses[code].setdefault("description", description)
            responses[code]["content"] = _ref("ErrorBody")
        else:
            responses[code] = {"description": description, "content": _ref("ErrorBody")}
