"""The replay report of a real two-day replay, rendered in headless Chromium: every chart
loads, the dispatch charts' axes fit the data, the numbers carry units and separators."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium

from controller import columns as pc
from sim.report_charts import AXIS_PAD_FRACTION
from sim.run import run_policies
from sites import columns, load_bundled_site
from sites.history.derive import load_history
from sites.schema.assets import Fuel

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

SITE = "gaotang-textile"
POLICIES = ["rule-based", "no-storage", "perfect"]
BALANCE_TOL_KW = 1e-3
"""Sources and uses of an interval agree to the plant's energy balance (solver precision)."""
AXIS_FIT_FRACTION = 2 * AXIS_PAD_FRACTION
"""The axis may reach past the data by its padding (5 % of the span), with room for
rounding of the recorded limits: no more than 10 % of the span on either side."""
COST_ATOL_CNY = 0.01
"""The chart records its last cumulative cost to the fen (0.01 CNY)."""


def _quiet(_name: str) -> Callable[[int, int], None]:
    return lambda done, total: None


def _stacks_kw(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """What each interval's dispatch stacks reach, from the Parquet columns themselves."""
    a = load_bundled_site(SITE).assets
    sources = frame[pc.GRID_IMPORT_KW].copy()
    for name in [columns.pv_kw(x.name) for x in a.pv] + [
        columns.battery_discharge_kw(b.name) for b in a.batteries
    ]:
        sources += frame[name]
    uses = frame[pc.GRID_EXPORT_KW] + frame[pc.NETWORK_LOSSES_KW]
    for name in (
        [columns.load_kw(x.name) for x in a.electric_loads]
        + [columns.heat_pump_kw(x.name) for x in a.heat_pumps]
        + [columns.boiler_kw(b.name) for b in a.boilers if b.fuel is Fuel.ELECTRIC]
        + [columns.battery_charge_kw(b.name) for b in a.batteries]
    ):
        uses += frame[name]
    return sources, uses


def test_report_renders_with_axes_that_fit_the_data(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old dispatch charts warned on every run
        site = load_bundled_site(SITE)
        run = run_policies(
            site,
            load_history(site).frame,
            "2016-07-04",
            "2016-07-06",
            POLICIES,
            pd.Timedelta("15min"),
            tmp_path,
            _quiet,
        )
    report = run.written["report"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                """() => [...document.images].map((i) => ({
                    ok: i.complete && i.naturalWidth > 300 && i.naturalHeight > 200,
                    facts: Object.fromEntries([...i.attributes]
                        .filter((a) => a.name.startsWith('data-'))
                        .map((a) => [a.name.slice(5), a.value]))}))"""
            )
            cells = page.evaluate(
                """() => Object.fromEntries([...document.querySelectorAll('table.kpis')]
                    .map((t) => [t.dataset.theme, [...t.querySelectorAll('td')]
                    .map((c) => [c.dataset.kpi, c.innerText])]))"""
            )
            text = page.locator("body").inner_text()
        finally:
            browser.close()

    assert [i for i in images if not i["ok"]] == [], "a chart did not load"
    kinds = [i["facts"].get("chart") for i in images]
    assert {"dispatch", "cumulative-cost", "monthly-self-consumption"} <= set(kinds), kinds
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []

    frame = pd.read_parquet(run.written["intervals rule-based self-consumption"])
    dispatch = [i["facts"] for i in images if i["facts"].get("chart") == "dispatch"]
    assert len(dispatch) == 1  # two days: one chart of the whole period
    for facts in dispatch:
        window = frame.loc[facts["window-start"] : facts["window-end"]]
        assert len(window) == 2 * 96
        sources, uses = _stacks_kw(window)
        np.testing.assert_allclose(sources, uses, atol=BALANCE_TOL_KW)
        top, bottom = float(sources.max()), -float(uses.max())
        span = top - bottom
        low, high = float(facts["y-min-kw"]), float(facts["y-max-kw"])
        assert top > 5_000, "a textile park's sources reach thousands of kW"
        assert top <= high <= top + AXIS_FIT_FRACTION * span, (high, top)
        assert bottom - AXIS_FIT_FRACTION * span <= low <= bottom, (low, bottom)

    cumulative = next(i["facts"] for i in images if i["facts"].get("chart") == "cumulative-cost")
    for name in POLICIES:
        total = run.merit.loc["total_cost_cny", name]
        np.testing.assert_allclose(float(cumulative[f"final-{name}"]), total, atol=COST_ATOL_CNY)

    assert set(cells) >= {"energy", "cost", "policy", "carbon", "shortfalls"}
    kpis = json.loads((tmp_path / "kpis.json").read_text())["kpis"]
    total = kpis["rule-based self-consumption"]["total_cost_cny"]
    cost_cells = dict(cells["cost"])
    assert f"{total:,.0f} CNY" in [c for k, c in cells["cost"] if k == "total_cost_cny"]
    assert re.fullmatch(r"\d{1,3}(,\d{3})+ CNY", cost_cells["total_cost_cny"])
    policy_cells = [c for k, c in cells["policy"] if k == "min_self_consumption_ratio"]
    assert policy_cells == ["60.0 %"] * len(POLICIES)
    shown = [c for theme in cells.values() for _, c in theme]
    odd = [
        c for c in shown if not re.fullmatch(r"–|-?\d{1,3}(,\d{3})*(\.\d{1,2})?( [a-zA-Z%].*)?", c)
    ]
    assert odd == [], "numbers without separators, or in scientific notation"
    assert "park local time" in text
