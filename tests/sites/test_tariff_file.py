"""A site's own tariff calendar, in a file next to the site file: the planner, the KPIs and
the command line price with it; a bad file is a problem of ``tariff.calendar_file``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from own_park import NETWORK_FILE, site_mapping, write_network

from controller import columns as pc
from controller.planner import plan
from sites import SiteConfigError, columns, load_site, load_site_mapping, load_tariff_calendar
from sites.tariff import site_tariff

ZONE = "Asia/Shanghai"
PRICE_RTOL = 1e-12  # the same product of the same two numbers


def write_park(folder: Path, calendar: dict | str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_network(folder / NETWORK_FILE)
    raw = site_mapping()
    if calendar is not None:
        (folder / "tariffs").mkdir(exist_ok=True)
        text = calendar if isinstance(calendar, str) else yaml.safe_dump(calendar)
        (folder / "tariffs" / "own.yaml").write_text(text, encoding="utf-8")
        del raw["tariff"]["calendar"]  # one calendar: the bundled one named, or a file
        raw["tariff"]["calendar_file"] = "tariffs/own.yaml"  # relative to the site file
    site = folder / "park.yaml"
    site.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return site


def own_calendar() -> dict:
    """The bundled calendar with every hour flat except a night valley, at other prices."""
    raw = load_tariff_calendar("shandong-2025").model_dump(mode="json")
    raw["id"] = "own-flat-night"
    raw["flat_price_cny_per_kwh"]["35kV"] = 0.5
    raw["seasons"] = [
        {
            "months": list(range(1, 13)),
            "periods": [
                {"band": "valley", "start": "00:00", "end": "06:00"},
                {"band": "flat", "start": "06:00", "end": "24:00"},
            ],
        }
    ]
    return raw


def test_the_sites_own_calendar_prices_the_plan(tmp_path: Path) -> None:
    site = load_site(write_park(tmp_path, own_calendar()))
    assert site.tariff.calendar_file == str((tmp_path / "tariffs" / "own.yaml").resolve())
    tariff = site_tariff(site)
    assert tariff.calendar.id == "own-flat-night"
    index = pd.date_range("2026-03-02", periods=96, freq="15min", tz=ZONE)
    valley = 0.5 * own_calendar()["band_multipliers"]["valley"]
    expected = [valley if t.hour < 6 else 0.5 for t in index]
    pd.testing.assert_series_equal(
        tariff.prices(index), pd.Series(expected, index=index, name="price_cny_per_kwh"),
        rtol=PRICE_RTOL,
    )  # fmt: skip
    forecast = pd.DataFrame(
        {
            columns.quantile(columns.pv_kw("pv_roof"), 50): 0.0,
            columns.quantile(columns.load_kw("cold_store"), 50): 1500.0,
            columns.quantile(columns.load_kw("depot"), 50): 500.0,
            columns.quantile(columns.AMBIENT_TEMPERATURE_DEGC, 50): 5.0,
        },
        index=index,
    )
    result = plan(site, forecast)
    frame = result.frame
    assert frame[pc.PRICE_CNY_PER_KWH].tolist() == pytest.approx(expected, rel=PRICE_RTOL)
    # the battery fills in the night valley, the only cheap hours of this calendar
    charge = frame[columns.battery_charge_kw("bess")]
    assert charge[index.hour < 6].sum() > 0 and charge[index.hour >= 6].sum() == pytest.approx(
        0.0, abs=0.5
    )


def test_a_missing_or_invalid_calendar_file_is_a_problem_of_the_field(tmp_path: Path) -> None:
    path = write_park(tmp_path, own_calendar())
    (tmp_path / "tariffs" / "own.yaml").unlink()
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    (problem,) = info.value.problems
    assert problem.field == "tariff.calendar_file" and problem.value == "tariffs/own.yaml"
    assert problem.rule.startswith("must be a readable YAML calendar")
    broken = own_calendar()
    broken["seasons"][0]["months"] = [1, 2, 3]  # nine months without a band
    with pytest.raises(SiteConfigError) as info:
        load_site(write_park(tmp_path / "b", broken))
    (problem,) = info.value.problems
    assert problem.field == "tariff.calendar_file"
    assert "seasons must name every month 1..12 exactly once" in problem.rule
    both = site_mapping()
    both["tariff"]["calendar_file"] = "tariffs/own.yaml"  # and the bundled calendar named
    (tmp_path / "c").mkdir()
    write_network(tmp_path / "c" / NETWORK_FILE)
    with pytest.raises(SiteConfigError) as info:
        load_site_mapping(both, source="c.yaml", base_dir=tmp_path / "c")
    (problem,) = info.value.problems
    assert problem.field == "tariff.calendar_file" and "not both" in problem.rule
