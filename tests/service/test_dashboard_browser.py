"""The dashboard in a real headless Chromium, against the real app in its own process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from real_plans import real_plan
from service_helpers import PARK, TEST_PARKS, free_port, quarter_hour, server_process

from controller.plans.plan import PlanKind
from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.parks import load_parks
from controller.service.pipeline import store_plan
from controller.service.store.sites import upsert_sites

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def test_dashboard_charts_the_plan_in_force(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    parks = load_parks(TEST_PARKS, [])
    with db.write(engine) as connection:
        upsert_sites(connection, {i: (s, "bundled") for i, s in parks.by_id.items()})
    site = parks.by_id[PARK]
    start = quarter_hour(datetime.now(UTC), site.location.timezone)
    plan = real_plan(PARK, start, 16, PlanKind.INTRADAY)
    header = store_plan(engine, plan, start.date(), None, None)
    key = create_key(engine, Role.UTILITY, [PARK], parks.ids).token
    engine.dispose()

    port = free_port()
    with server_process(url, port), playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/?site={PARK}#key={key}")
            page.wait_for_selector("#plan-chart[data-rendered='true']", timeout=30_000)
            assert "#key=" not in page.url  # the key left the address bar
            canvas = page.locator("#plan-chart")
            assert canvas.get_attribute("data-plan-id") == str(header.id)
            datasets = page.evaluate(
                """() => Object.fromEntries(Chart.getChart('plan-chart').data.datasets
                    .map((d) => [d.label, d.data]))"""
            )
            png = canvas.screenshot()
            page.evaluate(
                """() => { const c = document.getElementById('plan-chart');
                    Chart.getChart(c).destroy(); }"""
            )
            blank = canvas.screenshot()
            kpi_text = page.locator("#kpis").inner_text()
        finally:
            browser.close()
    frame = plan.frame
    np.testing.assert_allclose(datasets["Grid import"], frame["grid_import_kw"], atol=1e-3)
    pv = sum(frame[f"pv_{a.name}_kw"] for a in site.assets.pv)
    np.testing.assert_allclose(datasets["PV"], pv, atol=1e-3)
    loads = sum(frame[f"load_{a.name}_kw"] for a in site.assets.electric_loads)
    np.testing.assert_allclose(datasets["Loads"], -loads, atol=1e-3)
    battery = site.assets.batteries[0].name
    np.testing.assert_allclose(
        datasets[f"SoC {battery} kWh"], frame[f"battery_{battery}_soc_kwh"], atol=1e-6
    )
    assert len(png) > 4 * len(blank), "the chart's canvas looks blank"
    assert "Renewable self-consumption" in kpi_text and "at least 60 %" in kpi_text
