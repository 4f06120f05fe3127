"""The operator dashboard's views in a real headless Chromium against the real app in its own
process, on real plans and measurements in a real store: the overview of every park the key
may see, a park's plan against actuals with the committed schedule, its band and the
connection limits, the heat view, and the Chinese text. Each view is also screenshotted
(kept in the test's folder) and must not be blank."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, is_loopback, needs_chromium
from real_plans import real_committed_plans, real_plan
from service_helpers import OTHER_PARK, PARK, TEST_PARKS, free_port, quarter_hour, server_process

from controller.plans.plan import Plan, PlanKind
from controller.service import db, migrate
from controller.service.auth import Role, create_key
from controller.service.parks import load_parks
from controller.service.pipeline import store_plan
from controller.service.store import measurements as measurement_store
from controller.service.store.measurements import Point
from controller.service.store.sites import upsert_sites

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

STEPS = 16
PAST_STEPS = 8
"""The plans start two hours ago, so the first eight intervals have measurements."""
METER_OFFSET_KW = 37.5
"""The meter reads the planned import plus this: measured and planned must differ."""
PLOT_TOL_KW = 1e-3
"""The chart rounds a summed series to 1 W."""
BLANK_FACTOR = 3
"""A drawn view's PNG is several times the size of the same area blank."""


@dataclass
class Dashboard:
    base: str
    operator_key: str
    utility_key: str
    intraday: Plan
    intraday_id: int
    previous_id: int
    folder: Path


def _store(url: str, start: pd.Timestamp) -> tuple[str, str, Plan, int, int]:
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    parks = load_parks(TEST_PARKS, [])
    with db.write(engine) as connection:
        upsert_sites(connection, {i: (s, "bundled") for i, s in parks.by_id.items()})
    plain = real_plan(PARK, start, STEPS, PlanKind.INTRADAY)  # made first: version 1
    day_ahead, intraday = real_committed_plans(PARK, start, STEPS)
    store_plan(engine, day_ahead, start.date(), None, None)
    first = store_plan(engine, plain, start.date(), None, None)
    second = store_plan(engine, intraday, start.date(), None, None)
    store_plan(
        engine, real_plan(OTHER_PARK, start, STEPS, PlanKind.INTRADAY), start.date(), None, None
    )
    frame = intraday.frame.iloc[:PAST_STEPS]
    points = []
    for ts, r in frame.iterrows():
        moment = pd.Timestamp(ts).to_pydatetime()
        points += [
            Point("grid_import_kw", moment, float(r["grid_import_kw"]) + METER_OFFSET_KW),
            Point("grid_export_kw", moment, float(r["grid_export_kw"])),
            Point("pv_pv_dye_house_kw", moment, float(r["pv_pv_dye_house_kw"])),
            Point("pv_pv_weaving_kw", moment, float(r["pv_pv_weaving_kw"])),
        ]
    with db.write(engine) as connection:
        measurement_store.upsert(connection, PARK, points)
    operator = create_key(engine, Role.OPERATOR, [PARK, OTHER_PARK], parks.ids).token
    utility = create_key(engine, Role.UTILITY, [PARK], parks.ids).token
    engine.dispose()
    return operator, utility, intraday, second.id, first.id


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'store.db'}"
    start = quarter_hour(datetime.now(UTC), "Asia/Shanghai") - pd.Timedelta(hours=2)
    operator, utility, intraday, intraday_id, previous_id = _store(url, start)
    port = free_port()
    with server_process(url, port):
        yield Dashboard(
            f"http://127.0.0.1:{port}",
            operator,
            utility,
            intraday,
            intraday_id,
            previous_id,
            folder,
        )


@pytest.fixture
def page(dashboard: Dashboard) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1200})
            outside: list[str] = []

            def only_loopback(route: Any) -> None:
                if is_loopback(route.request.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_loopback)
            yield context.new_page()
            assert outside == [], f"the dashboard loaded from outside: {outside}"
        finally:
            browser.close()


def _not_blank(element: Any, png_path: Path) -> None:
    drawn = element.screenshot(path=str(png_path))
    element.evaluate("(e) => { e.style.opacity = '0'; }")
    blank = element.screenshot()
    element.evaluate("(e) => { e.style.opacity = ''; }")
    assert len(drawn) > BLANK_FACTOR * len(blank), f"{png_path.name} looks blank"


def _datasets(page: Any, canvas: str) -> dict[str, list[float | None]]:
    return dict(
        page.evaluate(
            f"""() => Chart.getChart('{canvas}').data.datasets
                .map((d) => [d.key, d.data])"""
        )
    )


def _api(dashboard: Dashboard, path: str, key: str) -> Any:
    answer = httpx.get(dashboard.base + path, headers={"Authorization": f"Bearer {key}"})
    answer.raise_for_status()
    return answer.json()


def test_overview_lists_the_parks_the_key_may_see(dashboard: Dashboard, page: Any) -> None:
    page.goto(f"{dashboard.base}/#key={dashboard.operator_key}")
    page.wait_for_selector("#overview-table tbody[data-rendered='true']", timeout=30_000)
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#overview-table tbody tr')]
            .map((r) => [r.dataset.site, [...r.cells].map((c) => c.innerText)])"""
    )
    _not_blank(page.locator("#overview"), dashboard.folder / "overview.png")
    by_site = dict(rows)
    assert set(by_site) == {PARK, OTHER_PARK}
    park = by_site[PARK]
    assert park[2].startswith("intraday ") and "v2" in park[2]
    zone = "Asia/Shanghai"
    today = pd.Timestamp.now(tz=zone).normalize()
    kpis = _api(
        dashboard,
        f"/api/v1/sites/{PARK}/kpis?start={today.isoformat().replace('+', '%2B')}"
        f"&end={(today + pd.Timedelta(days=1)).isoformat().replace('+', '%2B')}",
        dashboard.operator_key,
    )
    assert park[4] == f"{kpis['kpis']['total_cost_cny']:,.0f} CNY"
    assert park[5] == f"{kpis['kpis']['co2_kg']:,.0f} kg"
    policy = _api(dashboard, f"/api/v1/sites/{PARK}/policy", dashboard.operator_key)
    assert park[6] == f"{100 * policy['year_to_date']['self_consumption_ratio']:.1f} %"
    assert park[8] == f"{policy['remaining_export_budget_kwh']:,.0f} kWh"
    other = by_site[OTHER_PARK]
    assert other[6] == "not measured"  # no meter of that park posted anything

    page.evaluate("() => sessionStorage.clear()")
    page.goto(f"{dashboard.base}/?as=utility#key={dashboard.utility_key}")  # a new load
    page.wait_for_selector("#overview-table tbody[data-rendered='true']", timeout=30_000)
    sites = page.evaluate(
        """() => [...document.querySelectorAll('#overview-table tbody tr')]
            .map((r) => r.dataset.site)"""
    )
    assert sites == [PARK]


def test_plan_against_actuals_with_schedule_band_and_limits(
    dashboard: Dashboard, page: Any
) -> None:
    page.goto(f"{dashboard.base}/?site={PARK}#key={dashboard.operator_key}")
    page.wait_for_selector("#plan-chart[data-rendered='true']", timeout=30_000)
    page.wait_for_function("() => document.getElementById('plan-changes').innerText !== ''")
    data = _datasets(page, "plan-chart")
    axis_title = page.evaluate("() => Chart.getChart('plan-chart').options.scales.x.title.text")
    first_label = page.evaluate("() => Chart.getChart('plan-chart').data.labels[0]")
    versions = page.locator("#pick-version option").all_inner_texts()
    changes = page.locator("#plan-changes").inner_text()
    meta = page.locator("#plan-meta").inner_text()
    legend = page.locator("#band-legend").inner_text()
    _not_blank(page.locator("#plan-chart"), dashboard.folder / "plan-against-actuals.png")

    frame = dashboard.intraday.frame
    assert page.locator("#plan-chart").get_attribute("data-plan-id") == str(dashboard.intraday_id)
    measured = np.array(data["Measured grid exchange"][:PAST_STEPS], dtype=float)
    planned = (frame["grid_import_kw"] - frame["grid_export_kw"]).to_numpy()
    np.testing.assert_allclose(measured, planned[:PAST_STEPS] + METER_OFFSET_KW, atol=PLOT_TOL_KW)
    assert all(v is None for v in data["Measured grid exchange"][PAST_STEPS:])
    committed = frame["committed_grid_import_kw"] - frame["committed_grid_export_kw"]
    np.testing.assert_allclose(data["Committed schedule"], committed, atol=PLOT_TOL_KW)
    np.testing.assert_allclose(
        data["Tolerance band"], committed + frame["committed_band_kw"], atol=PLOT_TOL_KW
    )
    np.testing.assert_allclose(
        data["Tolerance band low"], committed - frame["committed_band_kw"], atol=PLOT_TOL_KW
    )
    site = load_parks([PARK], []).by_id[PARK]
    assert set(data["Import limit"]) == {site.grid_connection.import_limit_kw}
    assert set(data["Export limit"]) == {-site.grid_connection.export_limit_kw}
    np.testing.assert_allclose(data["Price"], frame["price_cny_per_kwh"], atol=1e-9)
    assert axis_title == "park local time (Asia/Shanghai)"
    assert first_label == f"{frame.index[0]:%m-%d %H:%M}"  # the park's clock, not UTC
    assert len(versions) == 2 and versions[1].startswith("v2")
    assert changes.startswith("Changed from version 1: Total cost")
    for note in dashboard.intraday.metadata.notes:  # the plan's own notes are shown
        assert note in meta
    for band in set(frame["price_band"]):
        price = frame.loc[frame["price_band"] == band, "price_cny_per_kwh"].iloc[0]
        assert f"{band.replace('_', ' ')} {price:.3f}".rstrip("0") in legend

    # what is shown downloads as CSV: the plan's columns and the measured series, local time
    with page.expect_download() as download:
        page.click("#plan-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    head = lines[0].split(",")
    assert head[0] == "interval_start_local (Asia/Shanghai)" and len(lines) == STEPS + 1
    assert {"grid_import_kw", "committed_band_kw", "measured_grid_import_kw"} <= set(head)
    first = dict(zip(head, lines[1].split(","), strict=True))
    assert first["interval_start_local (Asia/Shanghai)"] == f"{frame.index[0]:%Y-%m-%d %H:%M}"
    np.testing.assert_allclose(
        float(first["measured_grid_import_kw"]),
        frame["grid_import_kw"].iloc[0] + METER_OFFSET_KW,
        atol=PLOT_TOL_KW,
    )

    # the version picker shows version 1 and its chart
    page.select_option("#pick-version", str(dashboard.previous_id))
    page.wait_for_function(
        f"() => document.getElementById('plan-chart').dataset.planId === '{dashboard.previous_id}'"
    )
    assert "Version 1" in page.locator("#plan-title").inner_text()


def test_heat_view(dashboard: Dashboard, page: Any) -> None:
    page.goto(f"{dashboard.base}/?site={PARK}#key={dashboard.operator_key}")
    page.wait_for_selector("#heat-chart[data-rendered='true']", timeout=30_000)
    data = _datasets(page, "heat-chart")
    _not_blank(page.locator("#heat-chart"), dashboard.folder / "heat.png")
    frame = dashboard.intraday.frame
    pumps = frame["heat_pump_hp_dyeing_heat_kw_th"] + frame["heat_pump_hp_washing_heat_kw_th"]
    np.testing.assert_allclose(data["Heat pump heat"], pumps, atol=PLOT_TOL_KW)
    demand = frame["heat_demand_dyeing_hot_water_kw_th"] + frame["heat_demand_washing_water_kw_th"]
    np.testing.assert_allclose(data["Heat demand"], demand, atol=PLOT_TOL_KW)
    boilers = frame["boiler_gas_boiler_heat_kw_th"] + frame["boiler_electric_boiler_heat_kw_th"]
    np.testing.assert_allclose(data["Boiler heat"], boilers, atol=PLOT_TOL_KW)
    np.testing.assert_allclose(
        data["Waste heat used"], frame["waste_heat_warm_waste_water_direct_kw_th"], atol=PLOT_TOL_KW
    )
    np.testing.assert_allclose(
        data["Tank level"], frame["thermal_storage_hot_water_tank_level_kwh_th"], atol=PLOT_TOL_KW
    )
    # heat in = heat out: the stacks balance the demand in every interval
    supplied = sum(
        np.array(data[k], dtype=float)
        for k in (
            "Heat pump heat",
            "Waste heat used",
            "Boiler heat",
            "Tank discharge",
            "Tank charge",
        )
    )
    unmet = (
        frame["heat_demand_dyeing_hot_water_unmet_kw_th"]
        + frame["heat_demand_washing_water_unmet_kw_th"]
    )
    np.testing.assert_allclose(supplied + unmet, demand, atol=1.0)


def test_chinese_text(dashboard: Dashboard, page: Any) -> None:
    page.goto(f"{dashboard.base}/?site={PARK}&lang=zh#key={dashboard.operator_key}")
    page.wait_for_selector("#plan-chart[data-rendered='true']", timeout=30_000)
    page.wait_for_selector("#policy tbody[data-rendered='true']", timeout=30_000)
    text = page.locator("body").inner_text()
    labels = page.evaluate("() => Chart.getChart('plan-chart').data.datasets.map((d) => d.label)")
    axis_title = page.evaluate("() => Chart.getChart('plan-chart').options.scales.x.title.text")
    _not_blank(page.locator("#main"), dashboard.folder / "chinese.png")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    for words in (
        "新能源自发自用率",
        "新能源上网电量占比",
        "本年剩余上网电量额度",
        "供热",
        "任务运行记录",
    ):
        assert words in text, words
    assert {"光伏", "下网电量", "日前申报曲线（净下网）", "偏差允许范围", "下网限额"} <= set(labels)
    assert axis_title == "园区当地时间 (Asia/Shanghai)"
    # and back to English with the switch
    page.click("#lang")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.wait_for_function(
        "() => Chart.getChart('plan-chart').data.datasets.some((d) => d.label === 'PV')"
    )
    assert "Renewable self-consumption" in page.locator("#policy").inner_text()


def test_demand_charge_exposure(dashboard: Dashboard, page: Any) -> None:
    page.goto(f"{dashboard.base}/?site={PARK}#key={dashboard.operator_key}")
    page.wait_for_selector("#demand tbody[data-rendered='true']", timeout=30_000)
    rows = dict(
        page.evaluate(
            """() => [...document.querySelectorAll('#demand tbody tr')]
                .map((r) => [r.cells[0].innerText, r.cells[1].innerText])"""
        )
    )
    policy = _api(dashboard, f"/api/v1/sites/{PARK}/policy", dashboard.operator_key)
    plan = _api(dashboard, f"/api/v1/sites/{PARK}/plans/current", dashboard.operator_key)
    frame = dashboard.intraday.frame
    month = frame.index[frame.index.month == pd.Timestamp.now(tz="Asia/Shanghai").month]
    metered = policy["month_to_date"]["peak_import_kw"]
    # the meters posted import over the last two hours: this month's, unless the month began
    # within the last quarter hour (then all of it is last month's and none is this month's)
    expected = "no import metered this month" if metered is None else f"{metered:,.0f} kW"
    assert rows["Peak import metered this month"] == expected
    planned = frame.loc[month, "grid_import_kw"].max()
    assert rows["Planned peak this month"] == f"{planned:,.0f} kW"
    rate = policy["demand_charge_cny_per_kw_month"]
    shown_rate = f"{rate:,.2f}".rstrip("0").rstrip(".")  # up to two decimals, none trailing
    assert rows["Each kW above the month's peak so far"] == f"{shown_rate} CNY/kW per month"
    assert rows["Demand charge in the plan (its increase)"] == (
        f"{plan['kpis']['demand_charge_cny']:,.0f} CNY"
    )
    assert page.locator("#demand-note").inner_text() == (
        ""
        if metered is not None
        else (
            "No peak import is metered this month: the plan bills its whole planned peak as the "
            "month's demand charge."
        )
    )

    # a park whose meters posted no import this month: the page says the peak is unknown
    page.goto(f"{dashboard.base}/?site={OTHER_PARK}")
    page.wait_for_selector("#demand tbody[data-rendered='true']", timeout=30_000)
    assert "no import metered this month" in page.locator("#demand").inner_text()
    assert page.locator("#demand-note").inner_text().startswith("No peak import is metered")


def test_grid_events_from_the_utility(dashboard: Dashboard, page: Any) -> None:
    """An import cap the utility posts for the next two hours is listed in the park's view
    with its window, its cap and the plan's highest import in it, as the API reports them."""
    start = quarter_hour(datetime.now(UTC), "Asia/Shanghai") + pd.Timedelta(minutes=30)
    end = start + pd.Timedelta(hours=2)
    cap_kw = 1234.0
    posted = httpx.post(
        f"{dashboard.base}/api/v1/sites/{PARK}/grid-events",
        headers={"Authorization": f"Bearer {dashboard.utility_key}"},
        json={
            "kind": "import_cap",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit_kw": cap_kw,
            "reason": "demand response",
        },
        timeout=60,
    )
    assert posted.status_code == 201, posted.text
    page.goto(f"{dashboard.base}/?site={PARK}#key={dashboard.operator_key}")
    page.wait_for_selector("#grid-events tbody[data-rendered='true']", timeout=30_000)
    cells = page.evaluate(
        """() => [...document.querySelectorAll('#grid-events tbody tr')]
            .map((r) => [...r.cells].map((c) => c.innerText))"""
    )
    events = _api(dashboard, f"/api/v1/sites/{PARK}/grid-events", dashboard.operator_key)
    assert len(cells) == len(events) >= 1
    first, shown = events[0], cells[0]
    assert shown[0] == "import_cap"
    local = start.tz_convert("Asia/Shanghai")
    assert f"{local:%H:%M}" in shown[1]
    assert shown[2] == f"{cap_kw:,.0f} kW"
    planned = first["planned_max_kw"]
    assert shown[3] == ("–" if planned is None else f"{planned:,.0f} kW")
    assert shown[5].startswith(first["window"])
    assert page.locator("#grid-events-note").inner_text() == ""
