"""Per-interval prices from a file next to the site file: the plan, its KPIs and the tariff
price with them where they are given, with the calendar's prices elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from own_park import NETWORK_FILE, site_mapping, write_network

from controller import columns as pc
from controller.network.linear import network_for
from controller.planner import plan
from controller.plans.check import check_plan
from controller.solver.cache import ModelCache
from sites import Site, SiteConfigError, columns, load_site
from sites.schema.tariff import PostedPrice
from sites.tariff import site_tariff, with_posted_prices

ZONE = "Asia/Shanghai"
DAY = pd.date_range("2026-03-02", periods=96, freq="15min", tz=ZONE)
CHEAP = (DAY.hour >= 18) & (DAY.hour < 20)  # a peak of the calendar, cheap on this day's market
PRICE_RTOL = 1e-12  # the file's numbers, read back
COST_ATOL_CNY = 0.01


def write_park(folder: Path, prices: pd.DataFrame | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_network(folder / NETWORK_FILE)
    raw = site_mapping()
    raw["tariff"]["demand_charge_cny_per_kw_month"] = 0.0  # energy prices alone decide
    if prices is not None:
        prices.to_csv(folder / "spot.csv", index=False)
        raw["tariff"]["price_series_file"] = "spot.csv"
    site = folder / "park.yaml"
    site.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return site


def spot_prices() -> pd.DataFrame:
    import_price = np.where(CHEAP, 0.05, 0.9)
    export_price = np.where(DAY.hour < 6, 0.1, np.nan)  # the rest: the tariff's export price
    return pd.DataFrame(
        {
            "timestamp": [t.isoformat() for t in DAY],
            "import_price_cny_per_kwh": import_price,
            "export_price_cny_per_kwh": export_price,
        }
    )


def day_plan(site: Site) -> pd.DataFrame:
    forecast = pd.DataFrame(
        {
            columns.quantile(columns.pv_kw("pv_roof"), 50): 0.0,
            columns.quantile(columns.load_kw("cold_store"), 50): 1500.0,
            columns.quantile(columns.load_kw("depot"), 50): 500.0,
            columns.quantile(columns.AMBIENT_TEMPERATURE_DEGC, 50): 5.0,
        },
        index=DAY,
    )
    result = plan(site, forecast)
    assert check_plan(site, result).ok, check_plan(site, result)
    frame = result.frame
    bill = (frame[pc.GRID_IMPORT_KW] * frame[pc.PRICE_CNY_PER_KWH]).sum() * 0.25
    assert result.kpis.energy_cost_cny == pytest.approx(bill, abs=COST_ATOL_CNY)
    return frame


def test_the_price_file_prices_the_plan_and_moves_the_charging(tmp_path: Path) -> None:
    spot = spot_prices()
    site = load_site(write_park(tmp_path / "spot", spot))
    tariff = site_tariff(site)
    assert tariff.prices(DAY).to_numpy() == pytest.approx(
        spot["import_price_cny_per_kwh"].to_numpy(), rel=PRICE_RTOL
    )
    exports = tariff.export_prices(DAY)
    assert exports[DAY.hour < 6] == pytest.approx(0.1, rel=PRICE_RTOL)
    assert exports[DAY.hour >= 6] == pytest.approx(tariff.export_price_cny_per_kwh)
    later = pd.date_range("2026-03-03", periods=96, freq="15min", tz=ZONE)  # not in the file
    calendar_only = site_tariff(load_site(write_park(tmp_path / "calendar", None)))
    pd.testing.assert_series_equal(tariff.prices(later), calendar_only.prices(later))

    with_spot = day_plan(site)
    charge = with_spot[columns.battery_charge_kw("bess")]
    assert with_spot[pc.PRICE_CNY_PER_KWH].to_numpy() == pytest.approx(
        spot["import_price_cny_per_kwh"].to_numpy(), rel=PRICE_RTOL
    )
    assert charge[CHEAP].sum() > 0 and charge[~CHEAP].sum() == pytest.approx(0.0, abs=0.5)
    without = day_plan(load_site(write_park(tmp_path / "calendar", None)))
    assert without[columns.battery_charge_kw("bess")][CHEAP].sum() == pytest.approx(0.0, abs=0.5)


def test_a_bad_price_file_is_a_problem_of_the_field(tmp_path: Path) -> None:
    spot = spot_prices().astype(object)
    spot.loc[3, "import_price_cny_per_kwh"] = "n/a"
    spot.loc[5, "import_price_cny_per_kwh"] = -0.2
    spot.loc[7, "timestamp"] = "2026-03-02T01:50:00+08:00"
    spot.loc[9, "timestamp"] = "2026-03-02T02:15:00"
    with pytest.raises(SiteConfigError) as info:
        load_site(write_park(tmp_path, spot))
    problems = info.value.problems
    assert {p.field for p in problems} == {"tariff.price_series_file"}
    rules = [p.rule for p in problems]
    path = (tmp_path / "spot.csv").resolve()
    assert f"{path}: row 4, import_price_cny_per_kwh: got 'n/a': must be a number" in rules
    assert f"{path}: row 6, import_price_cny_per_kwh: got -0.2: must be >= 0" in rules
    assert any(r.startswith(f"{path}: row 8, timestamp") and "quarter hour" in r for r in rules)
    assert any(r.startswith(f"{path}: row 10, timestamp") and "UTC offset" in r for r in rules)


def test_posted_prices_replace_the_file_for_the_intervals_they_cover(tmp_path: Path) -> None:
    # The market's day-ahead prices posted later: the night is cheap, the evening is not.
    site = load_site(write_park(tmp_path / "spot", spot_prices()))
    night = (DAY.hour >= 2) & (DAY.hour < 4)
    posted = [
        PostedPrice(timestamp=t.to_pydatetime(), import_price_cny_per_kwh=0.02 if n else 0.9)
        for t, n, c in zip(DAY, night, CHEAP, strict=True)
        if n or c
    ]
    posted_site = with_posted_prices(site, posted)
    tariff = site_tariff(posted_site)
    prices = tariff.prices(DAY).to_numpy()
    assert prices[night] == pytest.approx(0.02, rel=PRICE_RTOL)
    assert prices[~night] == pytest.approx(0.9, rel=PRICE_RTOL)  # the file's, and posted
    exports = tariff.export_prices(DAY)  # none posted: the file's, then the tariff's
    assert exports[DAY.hour < 6] == pytest.approx(0.1, rel=PRICE_RTOL)
    assert exports[DAY.hour >= 6] == pytest.approx(tariff.export_price_cny_per_kwh)

    frame = day_plan(posted_site)
    charge = frame[columns.battery_charge_kw("bess")]
    assert frame[pc.PRICE_CNY_PER_KWH].to_numpy() == pytest.approx(prices, rel=PRICE_RTOL)
    assert charge[night].sum() > 0 and charge[~night].sum() == pytest.approx(0.0, abs=0.5)


def test_posted_prices_are_data_of_one_compiled_model(tmp_path: Path) -> None:
    # The posted prices change with every plan (the horizon slides, the operator posts);
    # the network and the compiled problem do not, and are reused.
    site = load_site(write_park(tmp_path, None))
    posted = with_posted_prices(
        site, [PostedPrice(timestamp=DAY[8].to_pydatetime(), import_price_cny_per_kwh=0.02)]
    )
    assert network_for(posted) is network_for(site)
    cache = ModelCache()
    forecast = pd.DataFrame(
        {
            columns.quantile(columns.load_kw("cold_store"), 50): 1500.0,
            columns.quantile(columns.load_kw("depot"), 50): 500.0,
        },
        index=DAY,
    )
    plan(site, forecast, cache=cache)
    result = plan(posted, forecast, cache=cache)
    assert len(cache._entries) == 1
    assert result.frame[pc.PRICE_CNY_PER_KWH].iloc[8] == pytest.approx(0.02, rel=PRICE_RTOL)
    assert result.metadata.input_hash != plan(site, forecast, cache=cache).metadata.input_hash
