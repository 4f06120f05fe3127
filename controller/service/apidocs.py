"""The API's own documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served
with their scripts and styles from the app (``static/vendor``), so they render on a machine
without internet; the OpenAPI document declares the key schemes, so Swagger UI's
"Authorize" sends the key with every request it tries.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyHeader, HTTPBearer

VENDOR = "/static/vendor"
BEARER_KEY = HTTPBearer(
    scheme_name="bearerKey",
    bearerFormat="API key",
    description="An API key, sent as `Authorization: Bearer <key>`.",
    auto_error=False,
)
"""Declared on every route that needs a key (the routes read the header themselves)."""
HEADER_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="headerKey",
    description="The same API key, sent as `X-API-Key: <key>` instead.",
    auto_error=False,
)


def _title(app: FastAPI) -> str:
    return f"{app.title} - API"


def mount(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from the vendored assets (the app is made with
    ``docs_url=None, redoc_url=None``, so FastAPI's pages, which load from a CDN, are off)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=_title(app),
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            # no online validator badge: it would send the document to a public service
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=_title(app),
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
