"""A sizing sweep end to end on real Dask clusters: a local one, an external scheduler with two
workers started as separate processes, a sweep killed midway and resumed, a failing
candidate. Six hours of replay keep it quick; the code path is a year's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.sizing.candidates import Candidate
from sim.sizing.economics import Annualisation, SizingEconomics
from sim.sizing.evaluate import PERFECT, PRODUCTION, RULE_BASED, Period
from sim.sizing.report import write_outputs
from sim.sizing.sweep import FAILURES, LOG, REFERENCE, SweepResult, run_sweep
from sites import load_bundled_site
from sites.history.derive import load_history

SITE_ID = "gaotang-solar-textile"
FROM, TO = "2016-05-02 08:00", "2016-05-02 14:00"  # the history before trains the forecasts
INTRADAY_EVERY = "6h"
TANK = "hot_water_tank"
GOOD = [
    Candidate(6000.0, 3000.0, ((TANK, 60000.0),)),
    Candidate(24000.0, 12000.0, ((TANK, 0.0),)),
]
BAD = Candidate(12000.0, -1.0, ((TANK, 60000.0),))  # negative power: the variant is invalid
COST_TOL_CNY = 1.0  # the tier tolerance of the planner's cost stage (controller.config)
ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0


def _period() -> Period:
    zone = load_bundled_site(SITE_ID).location.timezone
    return Period(
        pd.Timestamp(FROM, tz=zone), pd.Timestamp(TO, tz=zone), pd.Timedelta(INTRADAY_EVERY)
    )


class _Quiet:
    def update(self, n: int) -> None:
        return None

    def close(self) -> None:
        return None


def _sweep(candidates: list[Candidate], out: Path, **kwargs: Any) -> SweepResult:
    site = load_bundled_site(SITE_ID)
    return run_sweep(
        site,
        load_history(site).frame,
        candidates,
        _period(),
        out,
        progress=lambda _: _Quiet(),
        **kwargs,
    )


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[SweepResult, Path]:
    out = tmp_path_factory.mktemp("local")
    return _sweep([*GOOD, BAD], out, workers=2), out


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_a_failing_candidate_is_reported_and_the_others_finish(
    local: tuple[SweepResult, Path],
) -> None:
    result, out = local
    assert set(result.records) == set(GOOD)
    assert list(result.failures) == [BAD.label]
    assert "charge_kw" in result.failures[BAD.label]
    saved = json.loads((out / FAILURES).read_text(encoding="utf-8"))
    assert list(saved["failures"]) == [BAD.label]
    log = (out / LOG).read_text(encoding="utf-8")
    assert f"failed {result.keys[BAD][:16]} {BAD.label}" in log
    assert len(list((out / "candidates").glob("*.json"))) == len(GOOD)  # none for the failure


def test_every_candidate_has_each_policy_on_the_shared_forecasts(
    local: tuple[SweepResult, Path],
) -> None:
    result, _ = local
    for record in result.records.values():
        runs = record["runs"]
        assert set(runs) == {PRODUCTION, RULE_BASED, PERFECT}
        assert runs[PRODUCTION]["forecasts_off_schedule"] == 0  # all from the shared store
    assert REFERENCE in result.baselines


def test_outputs_hold_every_finished_candidate_with_its_provenance(
    local: tuple[SweepResult, Path],
) -> None:
    result, out = local
    site = load_bundled_site(SITE_ID)
    annual = Annualisation.between(_period().start, _period().end)
    table, rec, written = write_outputs(site, result, SizingEconomics(), annual, out)
    assert sorted(table["candidate"]) == sorted(c.label for c in GOOD)
    saved = pd.read_parquet(written["parquet"])
    assert list(saved["inputs_hash"]) == [result.keys[c] for c in GOOD]
    assert json.loads(saved["settings"].iloc[0])["start"] == str(_period().start)
    assert len(pd.read_csv(written["csv"])) == len(GOOD)
    report = written["report"].read_text(encoding="utf-8")
    assert "Recommendation" in report and "data:image/png;base64" in report
    assert rec.candidate is None or rec.candidate in report


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each its own process, on loopback."""
    address_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(address_file),
                *common,
            ],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + WAIT_S
        while not address_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text(encoding="utf-8"))["address"]
        for k in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "dask",
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--name",
                        f"w{k}",
                        "--host",
                        "127.0.0.1",
                        *common,
                    ],
                    env=_env(),
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=WAIT_S)
        yield address
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in processes:
            p.wait(timeout=60)


def test_an_external_scheduler_gives_the_local_runs_results(
    local: tuple[SweepResult, Path], cluster: str, tmp_path: Path
) -> None:
    from distributed import Client

    with Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
    reference, local_out = local
    out = tmp_path / "external"
    shutil.copytree(local_out / "forecasts", out / "forecasts")  # made once, as by one sweep
    result = _sweep(GOOD, out, scheduler=cluster)
    assert sorted(result.ran) == sorted(c.label for c in GOOD)
    for c in GOOD:
        for name, run in result.records[c]["runs"].items():
            expected = reference.records[c]["runs"][name]
            assert run["total_cost_cny"] == pytest.approx(
                expected["total_cost_cny"], abs=COST_TOL_CNY
            )
            assert run["self_consumption_ratio"] == pytest.approx(
                expected["self_consumption_ratio"], abs=1e-6
            )
    assert result.keys == {c: reference.keys[c] for c in GOOD}  # same inputs, same hashes


def _log_runs(out: Path) -> list[list[str]]:
    """The log's sweeps, each as its candidate lines."""
    sweeps: list[list[str]] = []
    for line in (out / LOG).read_text(encoding="utf-8").splitlines():
        if line.startswith("# sweep"):
            sweeps.append([])
        elif sweeps and line.split(" ")[2:3] != ["no"]:  # skip "no storage" baselines
            sweeps[-1].append(line)
    return sweeps


def test_a_sweep_killed_midway_resumes_with_only_the_missing_candidates(tmp_path: Path) -> None:
    out = tmp_path / "resume"
    command = [
        sys.executable,
        "-m",
        "controller.cli.main",
        "size-storage",
        SITE_ID,
        "--from",
        FROM,
        "--to",
        TO,
        "--battery-kwh",
        "3000,6000",
        "--tank-kwh-th",
        "60000",
        "--intraday-every",
        INTRADAY_EVERY,
        "--no-rule-based",
        "--no-perfect",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    sweep = subprocess.Popen(
        command,
        env=_env(),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoints = out / "candidates"
    deadline = time.monotonic() + 4 * WAIT_S
    while time.monotonic() < deadline and sweep.poll() is None:
        if checkpoints.is_dir() and any(checkpoints.glob("*.json")):
            break
        time.sleep(0.1)
    os.killpg(sweep.pid, signal.SIGKILL)  # the command, its cluster and its workers
    sweep.wait(timeout=60)
    before = {p.name: p.stat().st_mtime_ns for p in checkpoints.glob("*.json")}
    assert len(before) == 1, "killed midway: one of the two candidates done"

    rerun = subprocess.run(
        command, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=8 * WAIT_S
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = {p.name: p.stat().st_mtime_ns for p in checkpoints.glob("*.json")}
    assert len(after) == 2
    assert {name: after[name] for name in before} == before  # none of them rewritten
    last = _log_runs(out)[-1]
    reused = [line for line in last if line.startswith("reused")]
    ran = [line for line in last if line.startswith("ran")]
    assert {line.split(" ")[1] for line in reused} == {name[:16] for name in before}
    assert len(ran) == 2 - len(before)
    assert f"reused {len(before)} from checkpoints" in rerun.stdout
