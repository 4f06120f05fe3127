"""A park that is not bundled, through every command that takes a park, from the command line.

The park is a site YAML, a pandapower JSON network and a history CSV written by the test
(``tests/support/own_park.py``); the history is on the 2026 clock, so every date below is one
of the user's history, not of the bundled 2016.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from own_park import SITE_ID, OwnPark, write_own_park
from typer.testing import CliRunner, Result

from controller.cli.main import app
from sites.history.importer import template_columns
from sites.park import open_park

HISTORY_DAYS = 21  # three weeks: a replay of the last week trains on the two before
USAGE_ERROR = 2


def microgrid(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    result = microgrid(*args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> OwnPark:
    return write_own_park(tmp_path_factory.mktemp("own-park"), HISTORY_DAYS)


def test_site_commands_take_the_site_file(park: OwnPark) -> None:
    site = str(park.site_file)
    assert f"describes site '{SITE_ID}'" in ok("sites", "validate", site).stdout
    shown = ok("sites", "show", site).stdout
    assert "Dongchang cold-store logistics park" in shown and "pv_roof" in shown
    checked = ok("network", "check", site).stdout
    assert f"Network design check: {SITE_ID}" in checked and "peak_generation" in checked


def test_template_has_exactly_the_columns_the_site_needs(park: OwnPark) -> None:
    out = park.folder / "template.csv"
    ok("history", "template", str(park.site_file), "--out", str(out))
    written = pd.read_csv(out)
    expected = ["timestamp", "pv_pv_roof_kw", "load_cold_store_kw", "load_depot_kw"]
    assert list(written.columns) == [*expected, "ambient_temperature_degc"]
    assert list(written.columns) == template_columns(open_park(str(park.site_file)).site)
    assert written.empty
    rows = park.folder / "template-rows.csv"
    ok("history", "template", str(park.site_file), "--out", str(rows), "--from", "2026-04-01")
    ok(*("history", "template", str(park.site_file), "--out", str(rows)), "--from", "2026-04-01",
       "--days", "2")  # fmt: skip
    stamped = pd.read_csv(rows)
    assert len(stamped) == 2 * 96 and stamped["timestamp"].iloc[0] == "2026-04-01T00:00:00+08:00"
    # the template's rows are there to be filled in: as written, every value is missing
    unfilled = microgrid("history", "check", str(rows), "--site", str(park.site_file))
    assert unfilled.exit_code == USAGE_ERROR and "missing value" in unfilled.stderr


def test_history_check_reports_missing_columns_before_the_forecaster(park: OwnPark) -> None:
    checked = ok("history", "check", str(park.history_file), "--site", str(park.site_file))
    assert f"{HISTORY_DAYS * 96:,} intervals" in checked.stdout
    partial = park.folder / "partial.csv"
    pd.read_csv(park.history_file).drop(columns=["load_depot_kw"]).to_csv(partial, index=False)
    result = microgrid("history", "check", str(partial), "--site", str(park.site_file))
    assert result.exit_code == USAGE_ERROR and "Traceback" not in result.output
    assert "column load_depot_kw: got None: missing column" in result.stderr
    planned = microgrid(
        "plan", "--site", str(park.site_file), "--history", str(partial), "--date", "2026-03-05"
    )
    assert planned.exit_code == USAGE_ERROR and "load_depot_kw" in planned.stderr


def test_history_show_is_on_the_users_dates(park: OwnPark) -> None:
    shown = ok("history", "show", str(park.site_file), "--history", str(park.history_file))
    assert "2026-03-01 00:00:00+08:00 .. 2026-03-21 23:45:00+08:00" in shown.stdout
    assert f"measured, from {park.history_file}" in shown.stdout
    assert "SimBench" not in shown.stdout  # not the bundled year's provenance
    without = microgrid("history", "show", str(park.site_file))
    assert without.exit_code == USAGE_ERROR and "--history FILE" in without.stderr


def test_plan_a_day_of_the_history(park: OwnPark) -> None:
    """A day the history holds: its own values as a perfect forecast, on the user's dates."""
    site, history = str(park.site_file), str(park.history_file)
    inside = park.folder / "inside.json"
    ok(*("plan", "--site", site, "--history", history, "--date", "2026-03-10"),
       *("--format", "json", "--out", str(inside)))  # fmt: skip
    plan = json.loads(inside.read_text(encoding="utf-8"))
    assert plan["metadata"]["site_id"] == SITE_ID and plan["metadata"]["status"] == "optimal"
    starts = plan["intervals"]["interval_start"]
    assert len(starts) == 96 and starts[0] == "2026-03-10T00:00:00+08:00"

    # the days after the history are forecast, not read: tests/cli/test_cold_start.py
    outside = microgrid("plan", "--site", site, "--history", history, "--date", "2026-03-22",
                        "--forecast", "actual")  # fmt: skip
    assert outside.exit_code == USAGE_ERROR
    assert "--date: got 2026-03-22; the history of dongchang-logistics covers" in outside.stderr


def test_forecast_backtest_on_the_users_history(park: OwnPark) -> None:
    out = park.folder / "backtest"
    result = ok(
        *("forecast", "backtest", "--site", str(park.site_file)),
        *("--history", str(park.history_file), "--from", "2026-03-19", "--to", "2026-03-19"),
        *("--origins-per-day", "1", "--out", str(out)),
    )
    table = pd.read_csv(next(out.glob("*.csv")))
    assert set(table["series"]) >= {"pv_pv_roof_kw", "load_cold_store_kw", "load_depot_kw"}
    assert f"{SITE_ID}: 1 origins 2026-03-19 .. 2026-03-19" in result.stdout


def test_a_week_replayed_with_production_and_rule_based(park: OwnPark) -> None:
    out = park.folder / "sim"
    result = ok(
        *("simulate", "--site", str(park.site_file), "--history", str(park.history_file)),
        *("--from", "2026-03-15", "--to", "2026-03-22"),
        *("--policy", "production", "--policy", "rule-based"),
        *("--intraday-every", "1d", "--out", str(out)),
    )
    assert "production" in result.stdout and "rule-based" in result.stdout
    saved = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert len(saved["kpis"]) == 2
    for frame_file in out.glob("intervals_*.parquet"):
        frame = pd.read_parquet(frame_file)
        assert len(frame) == 7 * 96
        assert frame.index[0] == pd.Timestamp("2026-03-15", tz="Asia/Shanghai")
    outside = microgrid(
        *("simulate", "--site", str(park.site_file), "--history", str(park.history_file)),
        *("--from", "2026-03-20", "--to", "2026-03-27", "--out", str(out)),
    )
    assert outside.exit_code == USAGE_ERROR
    assert "the history covers 2026-03-01..2026-03-21" in outside.stderr


def test_a_name_that_is_neither_bundled_nor_a_file() -> None:
    result = microgrid("sites", "show", "my-park")
    assert result.exit_code == USAGE_ERROR
    assert "site: got 'my-park': must be a bundled park id (" in result.stderr
    assert "or the path of a site file (.yaml)" in result.stderr
