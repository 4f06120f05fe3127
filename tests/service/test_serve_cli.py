"""``microgrid keys`` and ``microgrid serve`` from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from service_helpers import free_port
from typer.testing import CliRunner

from controller.cli.main import app


def test_keys_create_list_revoke(sqlite_url: str) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "utility",
            "--site",
            "gaotang-textile",
            "--database-url",
            sqlite_url,
        ],
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("mg_")
    key_id = token.split("_")[1]
    listed = runner.invoke(app, ["keys", "list", "--database-url", sqlite_url])
    assert key_id in listed.stdout and token not in listed.stdout
    assert (
        runner.invoke(app, ["keys", "revoke", key_id, "--database-url", sqlite_url]).exit_code == 0
    )
    again = runner.invoke(app, ["keys", "revoke", key_id, "--database-url", sqlite_url])
    assert again.exit_code == 2 and "no active key" in again.stderr


def test_utility_key_needs_a_park_and_a_known_one(sqlite_url: str) -> None:
    runner = CliRunner()
    none = runner.invoke(app, ["keys", "create", "--role", "utility", "--database-url", sqlite_url])
    assert none.exit_code == 2 and "at least one --site" in none.stderr
    bad = runner.invoke(
        app,
        ["keys", "create", "--role", "utility", "--site", "nowhere", "--database-url", sqlite_url],
    )
    assert bad.exit_code == 2 and "nowhere" in bad.stderr


def test_serve_has_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--demo" in result.stdout


def test_serve_demo_plans_every_park_at_start(tmp_path: Path) -> None:
    """``microgrid serve --demo`` on an empty store: every park gets its start-up plans.

    How fast is measured by ``bench/bench_service.py``; here the wait is only a hang guard.
    A short history keeps the forecaster quick; the fits run in worker processes as in
    production (one per core, at most one per park).
    """
    port = free_port()
    log = tmp_path / "serve.log"
    env = os.environ | {
        "MICROGRID_HISTORY_DAYS": "8",
        "MICROGRID_DEMO_BACKFILL_DAYS": "8",
        "MICROGRID_LOG_LEVEL": "warning",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "controller.cli.main", "serve", "--demo"]
            + ["--database-url", f"sqlite:///{tmp_path / 'demo.db'}", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        parks = wait_for_plans(port, process, log)
        found = re.search(r"read-only demo key \(shown once\): (\S+)", log.read_text())
        assert found is not None
        key = found.group(1)
        for site_id, health in parks.items():
            runs = [(r["trigger"], r["status"]) for r in health["last_runs"]]
            assert ("startup", "failed") not in runs and runs, (site_id, runs)
            current = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/sites/{site_id}/plans/current",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            assert current.status_code == 200 and current.json()["site_id"] == site_id
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def wait_for_plans(
    port: int, process: subprocess.Popen[bytes], log: Path, guard_s: float = 600
) -> dict[str, Any]:
    """/health's parks once every one has a plan in force (fails if the service exits)."""
    deadline = time.monotonic() + guard_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            parks: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()[
                "sites"
            ]
            if parks and all(p["plan_in_force"] for p in parks.values()):
                return parks
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"not every park had a plan within {guard_s} s: {log.read_text()[-3000:]}")
