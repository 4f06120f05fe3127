"""The OpenAPI document declares how a key is sent, on the routes that need one only."""

from __future__ import annotations

from conftest import Harness


def test_schema_declares_the_bearer_key_on_protected_routes_only(harness: Harness) -> None:
    schema = harness.client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerKey"]["type"] == "http"
    assert schemes["bearerKey"]["scheme"] == "bearer"
    assert schemes["headerKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key, sent as `X-API-Key: <key>` instead.",
    }
    security = {
        (path, method): op.get("security")
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }
    plans = security[("/api/v1/sites/{site_id}/plans/current", "get")]
    assert {"bearerKey": []} in plans and {"headerKey": []} in plans
    unprotected = [k for k, v in security.items() if v is None]
    assert unprotected == [("/health", "get")]


def test_docs_pages_name_only_vendored_assets(harness: Harness) -> None:
    for path, asset in (
        ("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc/redoc.standalone.js"),
    ):
        page = harness.client.get(path)
        assert page.status_code == 200
        assert asset in page.text
        assert "https://" not in page.text and "http://" not in page.text, path
        assert harness.client.get(asset).status_code == 200
