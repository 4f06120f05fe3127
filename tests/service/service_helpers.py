"""Helpers of the service tests: real plans on small horizons, parks, times."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import pandas as pd

from controller.plan import Plan, PlanKind
from controller.planner import plan as make_plan
from controller.service.feeder import replay_values
from sites import columns, load_bundled_site

PARK = "gaotang-textile"
OTHER_PARK = "chiping-aluminium"
TEST_PARKS = [PARK, OTHER_PARK]

_PLANS: dict[tuple[str, str, int, PlanKind], Plan] = {}


def real_plan(site_id: str, start: pd.Timestamp, steps: int, kind: PlanKind) -> Plan:
    """A plan made by the real planner from the park's replayed year as a perfect forecast."""
    key = (site_id, start.isoformat(), steps, kind)
    if key not in _PLANS:
        site = load_bundled_site(site_id)
        index = pd.date_range(start.tz_convert(site.location.timezone), periods=steps, freq="15min")
        values = replay_values(site, index)
        forecast = pd.DataFrame(
            {columns.quantile(c, p): values[c] for c in values.columns for p in (10, 50, 90)}
        )
        _PLANS[key] = make_plan(site, forecast, kind=kind, forecast_issued_at=start.to_pydatetime())
    return _PLANS[key]


def quarter_hour(moment: datetime, zone: str) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_convert(zone).floor("15min")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(database_url: str, port: int, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``microgrid serve`` in its own process (no scheduler unless asked), until it answers."""
    environment = (
        os.environ
        | {
            "MICROGRID_SCHEDULER": "false",
            "MICROGRID_STARTUP_CATCH_UP": "false",
            "MICROGRID_SITES": '["gaotang-textile", "chiping-aluminium"]',
            "MICROGRID_LOG_LEVEL": "warning",
        }
        | env
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "controller.cli.main", "serve", "--no-demo"]
        + ["--database-url", database_url, "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def wait_until_up(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the service exited with {process.returncode}: {error[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the service did not answer on port {port} within {timeout_s} s")
