"""Helpers of the service tests: real plans on small horizons, parks, times."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import pandas as pd
from ports import free_port as free_port  # re-exported for the tests here

PARK = "gaotang-textile"
OTHER_PARK = "chiping-aluminium"
TEST_PARKS = [PARK, OTHER_PARK]


def quarter_hour(moment: datetime, zone: str) -> pd.Timestamp:
    return pd.Timestamp(moment).tz_convert(zone).floor("15min")


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
