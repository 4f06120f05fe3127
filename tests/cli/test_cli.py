"""The `microgrid` command on real files.

One test runs the installed entry point in a separate process, exactly as a user does; the
others invoke the same typer app in-process, which is much faster.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner, Result

from controller.cli.main import app
from sites import bundled_site_paths

USAGE_ERROR = 2


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point in its own process, exactly as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "controller.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def microgrid(*args: str) -> Result:
    """The same app in-process: much faster, same code path below the process boundary."""
    return CliRunner().invoke(app, list(args))


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["sites"],
        ["sites", "validate"],
        ["network", "check"],
        ["history"],
        ["history", "show"],
        ["history", "check"],
        ["overview"],
    ):
        result = microgrid(*command, "--help")
        assert result.exit_code == 0, (command, result.output)
        assert "Usage" in result.stdout


def test_validate_reports_four_problems_without_traceback(tmp_path: Path) -> None:
    raw = yaml.safe_load(bundled_site_paths()["chiping-aluminium"].read_text(encoding="utf-8"))
    raw["grid_connection"]["export_limit_kw"] = "none"
    raw["tariff"]["discount"] = 0.1
    raw["assets"]["heat_pumps"][0]["bus"] = "f9_missing"
    raw["assets"]["batteries"][0]["soc_min_fraction"] = 0.96
    path = tmp_path / "bad park.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")

    result = run_process("sites", "validate", str(path))
    assert result.returncode == USAGE_ERROR
    assert "Traceback" not in result.stderr + result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 4
    text = "\n".join(problems)
    assert f"{path}: grid_connection.export_limit_kw: got 'none'" in text
    assert f"{path}: tariff.discount: got 0.1: unknown field" in text
    assert f"{path}: assets.heat_pumps[0].bus: got 'f9_missing': must name a bus" in text
    assert (
        f"{path}: assets.batteries[0]: " in text and "soc_min_fraction=0.96 must be below" in text
    )


def test_validate_good_file_and_missing_file(tmp_path: Path) -> None:
    good = microgrid("sites", "validate", str(bundled_site_paths()["gaotang-textile"]))
    assert good.exit_code == 0 and "OK" in good.stdout
    missing = microgrid("sites", "validate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == USAGE_ERROR and "Traceback" not in missing.stderr


def test_sites_list_show_and_unknown_id() -> None:
    listed = microgrid("sites", "list")
    assert listed.exit_code == 0
    for site_id in bundled_site_paths():
        assert site_id in listed.stdout
    shown = microgrid("sites", "show", "liaocheng-chemical")
    assert shown.exit_code == 0
    assert "self-consumption >= 60%" in shown.stdout and "ht_heat_pump" in shown.stdout
    unknown = microgrid("sites", "show", "nowhere-park")
    assert unknown.exit_code == USAGE_ERROR and "must be a bundled park id" in unknown.stderr


def test_network_check_prints_both_extremes() -> None:
    result = microgrid("network", "check", "gaotang-textile")
    assert result.exit_code == 0
    assert "peak_load" in result.stdout and "peak_generation" in result.stdout
    assert "export_kw" in result.stdout  # peak PV plus battery exceeds the 5 MW export limit


def test_history_show_and_check(tmp_path: Path) -> None:
    shown = microgrid("history", "show", "gaotang-textile")
    assert shown.exit_code == 0
    assert "35,136 intervals" in shown.stdout and "full-load hours" in shown.stdout
    assert "ODbL" in shown.stdout
    stamps = pd.date_range("2024-01-01", periods=4, freq="15min", tz="Asia/Shanghai")
    frame = pd.DataFrame(
        {"timestamp": [t.isoformat() for t in stamps], "load_auxiliaries_mw": [1.0, 1.0, 1.0, 1.0]}
    )
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    checked = microgrid("history", "check", str(path), "--site", "gaotang-textile")
    assert checked.exit_code == USAGE_ERROR
    assert "column load_auxiliaries_mw" in checked.stderr
    assert "wrong unit; expected load_auxiliaries_kw" in checked.stderr


def test_overview_covers_every_park() -> None:
    result = microgrid("overview")
    assert result.exit_code == 0
    for site_id in bundled_site_paths():
        assert f"Network design check: {site_id}" in result.stdout
