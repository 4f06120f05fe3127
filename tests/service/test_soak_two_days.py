"""The soak (``bench/soak.py``, ``make soak``) for two simulated days: the service on an
accelerated clock, 15-minute intraday runs and a day-ahead run a day, utilities polling,
an operator posting, a held write lock every 6 simulated hours, an injected solver failure
every 12 and a restart after the first day on the same store. Nothing fails that was not
injected, the emulated kill's run is closed without degrading its park, every stored plan is
retrievable, no poll gets an error, and the planning worker is back after the restart.

One park (the textile park: battery, heat pumps, tank) keeps it near a minute and a half;
``make soak`` runs every park for 30 days."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
PARKS = ("gaotang-textile",)
DAYS = 2
TIMEOUT_S = 900  # two simulated days of this park took 96 s on two shared cores


def test_two_simulated_days_fail_only_where_failures_were_injected() -> None:
    done = subprocess.run(
        [sys.executable, str(SOAK), "--days", str(DAYS), "--parks", *PARKS, "--restart-days", "1"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    out = done.stdout
    print(out[out.find("=== soak ===") :])  # the figures, with -s
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    runs = re.search(
        r"runs: (\d+) \((\d+) succeeded, (\d+) failed: (\d+) injected solver failures, "
        r"(\d+) interrupted by the emulated kills, (\d+) not injected\)",
        out,
    )
    assert runs is not None, out
    total, succeeded, failed, injected, interrupted, unexpected = map(int, runs.groups())
    steps = DAYS * 96
    assert total >= len(PARKS) * steps  # an intraday run per park and step, and day-aheads
    assert injected == DAYS * 24 // 12  # one every 12 simulated hours
    assert interrupted == 1 and unexpected == 0
    assert succeeded + failed == total
    assert "restart 1: interrupted run not degrading the park; stopped service collected" in out
    stalls = re.search(
        r"stalls: (\d+) \(writes during them, by status: (\{.*\})\); restarts: 1", out
    )
    assert stalls is not None and int(stalls.group(1)) == DAYS * 24 // 6
    assert "errors none" in out
    stored = re.search(r"plans stored: (\d+), not retrievable: 0", out)
    assert stored is not None and int(stored.group(1)) == succeeded
    # the planning worker runs before and after the restart (a closed one would read nan)
    worker = re.search(r"planning worker start (\S+) MB, end (\S+) MB", out)
    assert worker is not None and "nan" not in worker.groups(), out
