"""``/docs`` and ``/redoc`` render in a real headless Chromium that may reach nothing but
this machine, and Swagger UI's "Authorize" sends the key with the requests it tries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, is_loopback, needs_chromium
from service_helpers import PARK, TEST_PARKS, free_port, server_process

from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.parks import load_parks
from controller.service.store.sites import upsert_sites

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def _store_with_key(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    parks = load_parks(TEST_PARKS, [])
    with db.write(engine) as connection:
        upsert_sites(connection, {i: (s, "bundled") for i, s in parks.by_id.items()})
    key = create_key(engine, Role.UTILITY, [PARK], parks.ids).token
    engine.dispose()
    return url, key


def test_docs_and_redoc_render_without_network_and_authorize_sends_the_key(
    tmp_path: Path,
) -> None:
    url, key = _store_with_key(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    blocked: list[str] = []
    served: list[str] = []

    def only_loopback(route: Any) -> None:
        request_url = route.request.url
        if is_loopback(request_url):
            served.append(request_url)
            route.continue_()
        else:
            blocked.append(request_url)
            route.abort("internetdisconnected")

    with server_process(url, port), playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.goto(f"{base}/docs")
            page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
            operations = page.locator(".swagger-ui .opblock").count()
            page.click(".swagger-ui button.authorize")
            page.wait_for_selector(".swagger-ui .auth-container", timeout=10_000)
            schemes = page.locator(".swagger-ui .auth-container h4").all_inner_texts()
            bearer_box = page.locator(".swagger-ui .auth-container").filter(has_text="bearerKey")
            bearer_box.locator("input").first.fill(key)
            bearer_box.locator("button.authorize").click()
            page.click(".swagger-ui .btn-done")
            # try one call from the page: GET /api/v1/sites, with the key from "Authorize"
            block = page.locator(".swagger-ui .opblock-get").filter(has_text="/api/v1/sites").first
            block.locator(".opblock-summary").click()
            block.locator("button.try-out__btn").click()
            with page.expect_response(lambda r: r.url == f"{base}/api/v1/sites") as answer:
                block.locator("button.execute").click()
            status = answer.value.status
            listed = json.loads(answer.value.text())

            page.goto(f"{base}/redoc")
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_selector("[data-section-id^='tag/']", timeout=30_000)
            redoc_title = page.locator("h1").first.inner_text()
            redoc_sections = page.locator("[data-section-id^='tag/']").count()
        finally:
            browser.close()
    assert blocked == [], f"the docs pages tried to load from outside: {blocked}"
    assert any("/static/vendor/swagger-ui/swagger-ui-bundle.js" in u for u in served)
    assert any("/static/vendor/redoc/redoc.standalone.js" in u for u in served)
    assert operations >= 20, f"Swagger UI shows {operations} operations"
    assert any("bearerKey" in s for s in schemes), schemes
    assert status == 200, "the key entered under Authorize was not sent"
    assert PARK in json.dumps(listed)
    assert "Park microgrid dispatch controller" in redoc_title
    assert redoc_sections >= 3
