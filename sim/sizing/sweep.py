"""A sizing sweep on Dask: every candidate a task, checkpointed by the hash of its inputs.

- ``scheduler=None`` starts a local cluster sized to the machine (one single-threaded worker
  process per core, no more than there are tasks); ``scheduler="tcp://host:port"`` runs the
  very same tasks on an existing cluster (its workers must import this code and reach the
  output folder: the same machine, or a shared file system);
- the forecasts of each renewable build-out are one task, written to the output folder once
  (``forecasts/<hash>/``) and read by every candidate of that build-out;
- every finished candidate is written by its worker to ``candidates/<hash>.json`` (the
  no-storage baselines to ``baselines/<hash>.json``); a rerun with the same inputs reuses
  them and runs only what is missing, so a sweep killed midway resumes where it was;
- a candidate that fails is recorded with its error in ``failures.json`` and the log, and the
  sweep goes on (it runs again on the next rerun);
- ``sweep.log`` has a line per candidate: ``ran``, ``reused`` or ``failed``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from controller import code_version
from sim.sizing.candidates import Candidate, digest, frame_hash
from sim.sizing.evaluate import (
    CANDIDATE_POLICIES,
    Period,
    evaluate_baseline,
    evaluate_candidate,
    guarded,
    prepare_forecasts,
)
from sites import DataError, Site

BASELINE_PRIORITY = -1
"""The no-storage baselines (rule-based replays, a fraction of a candidate's time) run after
the candidates, so that they fill a worker's idle time at the end of the sweep rather than
hold up a candidate at its start."""
REFERENCE = (1.0, 1.0)
"""The park's present renewables: its no-storage replay is the economics' reference."""
FORECAST_FORMAT = 2
"""The stored forecasts' layout (a file per issue day and fit); part of their folder's hash."""
LOG = "sweep.log"
FAILURES = "failures.json"


@dataclass(frozen=True)
class Checkpoint:
    key: str
    path: Path

    def read(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        record: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return record


@dataclass
class SweepResult:
    candidates: list[Candidate]
    records: dict[Candidate, dict[str, Any]]
    """Finished candidates' records (from this run or a checkpoint)."""
    baselines: dict[tuple[float, float], dict[str, Any]]
    """No-storage records by (PV scale, wind scale)."""
    failures: dict[str, str] = field(default_factory=dict)
    """Candidate label (or ``no storage ...``) -> its error."""
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    keys: dict[Candidate, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float = 0.0
    cluster_start_s: float = 0.0
    """Of the wall time: starting the cluster (or connecting to it) until its workers are up."""
    cluster_close_s: float = 0.0
    """Of the wall time: closing the client and the local cluster."""


def write_atomic(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    partial.replace(path)


def _need_forecasts(forecasts: dict[str, Any]) -> str:
    if not forecasts["ok"]:
        raise RuntimeError(f"the period's forecasts failed: {forecasts['error']}")
    return str(forecasts["folder"])


def _forecast_task(
    site: Site, candidate: Candidate, truth: pd.DataFrame, period: Period, folder: str
) -> dict[str, Any]:
    """Runs on a worker: the fits here in turn, each fit's forecasts as tasks of their own
    (this task leaves its worker's slot to them while it waits)."""
    from distributed import worker_client

    with worker_client() as client:

        def submit(function: Callable[..., Any], *args: Any) -> Any:
            return client.submit(function, *args, pure=False)

        return {"folder": prepare_forecasts(site, candidate, truth, period, folder, submit)}


def _candidate_task(
    site: Site,
    candidate: Candidate,
    truth: pd.DataFrame,
    period: Period,
    forecasts: dict[str, Any],
    policies: tuple[str, ...],
    checkpoint: str,
    meta: dict[str, Any],
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        folder = _need_forecasts(forecasts)
        return evaluate_candidate(site, candidate, truth, period, folder, policies)

    record = guarded(work)
    if record["ok"]:
        write_atomic(Path(checkpoint), {**record, **meta})
    return record


def _baseline_task(
    site: Site,
    candidate: Candidate,
    truth: pd.DataFrame,
    period: Period,
    forecasts: dict[str, Any],
    checkpoint: str,
    meta: dict[str, Any],
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        folder = _need_forecasts(forecasts)
        return evaluate_baseline(site, candidate, truth, period, folder)

    record = guarded(work)
    if record["ok"]:
        write_atomic(Path(checkpoint), {**record, **meta})
    return record


def _client(scheduler: str | None, workers: int | None, tasks: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler, timeout="30s"), None
    n = max(1, min(workers or os.cpu_count() or 1, tasks))
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def run_sweep(
    site: Site,
    truth: pd.DataFrame,
    candidates: Sequence[Candidate],
    period: Period,
    out: Path,
    policies: tuple[str, ...] = CANDIDATE_POLICIES,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> SweepResult:
    """Replay every candidate (and the no-storage baselines) on Dask, reusing checkpoints.

    ``progress(total)`` returns a bar with ``update(n)`` and ``close()`` (default: tqdm)."""
    started = time.perf_counter()
    if "production" not in policies:
        raise DataError("policies: the production controller is always replayed; add it")
    steps = period.steps(truth)
    last = period.end - pd.Timedelta(minutes=15)
    if len(steps) == 0 or steps[0] != period.start or steps[-1] != last:
        raise DataError(
            f"--from/--to: got {period.start:%Y-%m-%d}..{period.end:%Y-%m-%d}; the history "
            f"covers {truth.index[0]:%Y-%m-%d}..{truth.index[-1]:%Y-%m-%d}"
        )
    truth = truth.loc[:last]
    truth_hash = frame_hash(truth)
    version = code_version()
    settings = {
        "site": site.id,
        **period.as_dict(),
        "policies": list(policies),
        "inputs_hash_history": truth_hash,
        "code_version": version,
    }
    out.mkdir(parents=True, exist_ok=True)
    groups = sorted({c.renewables for c in candidates} | {REFERENCE})
    common = (site, truth_hash, period.as_dict(), version)
    group_key = {g: digest("renewables", FORECAST_FORMAT, g, *common) for g in groups}
    keys = {c: digest("candidate", c.as_dict(), list(policies), *common) for c in candidates}
    cand_ckpt = {c: Checkpoint(keys[c], out / "candidates" / f"{keys[c]}.json") for c in candidates}
    base_ckpt = {
        g: Checkpoint(group_key[g], out / "baselines" / f"{group_key[g]}.json") for g in groups
    }
    result = SweepResult(list(candidates), {}, {}, keys=keys, settings=settings)
    log_lines: list[str] = []
    for c in candidates:
        found = cand_ckpt[c].read()
        if found is not None:
            result.records[c] = found
            result.reused.append(c.label)
            log_lines.append(f"reused {keys[c][:16]} {c.label}")
    for g in groups:
        found = base_ckpt[g].read()
        if found is not None:
            result.baselines[g] = found
    todo = [c for c in candidates if c not in result.records]
    todo_groups = [g for g in groups if g not in result.baselines]
    needed = sorted({c.renewables for c in todo} | set(todo_groups))
    log = out / LOG
    with log.open("a", encoding="utf-8") as f:
        f.write(
            f"# sweep {time.strftime('%Y-%m-%dT%H:%M:%S')} {len(candidates)} candidates, "
            f"{len(todo)} to run, {len(todo_groups)} baselines to run\n"
        )
        f.writelines(line + "\n" for line in log_lines)
    if todo or todo_groups:
        _run(
            site,
            truth,
            period,
            out,
            policies,
            scheduler,
            workers,
            progress,
            result,
            todo,
            todo_groups,
            needed,
            group_key,
            cand_ckpt,
            base_ckpt,
            settings,
        )
    if result.failures:
        write_atomic(out / FAILURES, {"failures": result.failures})
    elif (out / FAILURES).exists():
        (out / FAILURES).unlink()
    result.wall_time_s = time.perf_counter() - started
    return result


def _run(
    site: Site,
    truth: pd.DataFrame,
    period: Period,
    out: Path,
    policies: tuple[str, ...],
    scheduler: str | None,
    workers: int | None,
    progress: Callable[[int], Any] | None,
    result: SweepResult,
    todo: list[Candidate],
    todo_groups: list[tuple[float, float]],
    needed: list[tuple[float, float]],
    group_key: dict[tuple[float, float], str],
    cand_ckpt: dict[Candidate, Checkpoint],
    base_ckpt: dict[tuple[float, float], Checkpoint],
    settings: dict[str, Any],
) -> None:
    from distributed import as_completed

    began = time.perf_counter()
    client, cluster = _client(scheduler, workers, len(todo) + len(todo_groups))
    result.cluster_start_s = time.perf_counter() - began
    try:
        shared_truth = client.scatter(truth, broadcast=True)
        forecasts = {}
        for g in needed:
            folder = str((out / "forecasts" / group_key[g]).resolve())
            forecasts[g] = client.submit(
                guarded,
                _forecast_task,
                site,
                Candidate(0.0, 0.0, (), *g),
                shared_truth,
                period,
                folder,
                key=f"forecasts-{group_key[g][:16]}",
            )
        meta = {"settings": settings}
        futures: dict[Any, tuple[str, Any]] = {}
        for g in todo_groups:
            f = client.submit(
                _baseline_task,
                site,
                Candidate(0.0, 0.0, (), *g),
                shared_truth,
                period,
                forecasts[g],
                str(base_ckpt[g].path),
                {**meta, "inputs_hash": group_key[g]},
                key=f"baseline-{group_key[g][:16]}",
                priority=BASELINE_PRIORITY,
            )
            futures[f] = ("baseline", g)
        for c in todo:
            f = client.submit(
                _candidate_task,
                site,
                c,
                shared_truth,
                period,
                forecasts[c.renewables],
                policies,
                str(cand_ckpt[c].path),
                {**meta, "inputs_hash": cand_ckpt[c].key},
                key=f"candidate-{cand_ckpt[c].key[:16]}",
            )
            futures[f] = ("candidate", c)
        bar = (progress or _tqdm)(len(futures))
        with (out / LOG).open("a", encoding="utf-8") as log:
            for future in as_completed(list(futures)):
                kind, item = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # a worker lost, a task killed: this one only
                    record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                label = item.label if kind == "candidate" else f"no storage {item}"
                key = cand_ckpt[item].key if kind == "candidate" else group_key[item]
                if record["ok"]:
                    if kind == "candidate":
                        result.records[item] = record
                        result.ran.append(item.label)
                    else:
                        result.baselines[item] = record
                    log.write(f"ran {key[:16]} {label}\n")
                else:
                    result.failures[label] = record["error"]
                    log.write(f"failed {key[:16]} {label}: {record['error']}\n")
                log.flush()
                bar.update(1)
        bar.close()
    finally:
        began = time.perf_counter()
        client.close()
        if cluster is not None:
            cluster.close()
        result.cluster_close_s = time.perf_counter() - began


def _tqdm(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="candidates", unit="task", mininterval=1.0)
