"""Start-up: forecast fits in worker processes, parks caught up at the same time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import Harness
from processes import alive, gone_within
from real_plans import real_plan
from service_helpers import OTHER_PARK, PARK, quarter_hour

from controller.plans.plan import PlanKind
from controller.service.catchup import catch_up
from controller.service.feeder import replay_values
from controller.service.fitpool import PARENT_CHECK_S, ForecastFitter
from controller.service.pipeline import Pipeline, store_plan
from controller.service.store.plans import PlanHeader
from controller.service.store.runs import Job, RunStatus, Trigger
from forecasting import fit
from sites import Site, load_bundled_site
from sites.history.series import expected_series


def test_models_fitted_in_a_worker_process_forecast_as_those_fitted_here() -> None:
    site = load_bundled_site(PARK)
    issue = pd.Timestamp("2026-03-10T00:00", tz=site.location.timezone)
    index = pd.date_range(issue - pd.Timedelta(days=8), issue, freq="15min", inclusive="left")
    history = replay_values(site, index)[list(expected_series(site))]
    fitter = ForecastFitter(processes=1)
    try:
        assert all(f.result(timeout=120) > 0 for f in fitter.warm())
        remote = fitter(site, history, issue)
        os.kill(fitter.warm()[0].result(timeout=60), signal.SIGKILL)  # a worker dies
        after_death = fitter(site, history, issue)  # made here instead, the pool replaced
        replaced = fitter.warm()[0].result(timeout=120)
        assert alive(replaced) and fitter(site, history, issue).trained_until == issue
    finally:
        fitter.close()
    local = fit(site, history, issue)
    assert after_death.trained_until == local.trained_until
    horizon = pd.Timedelta(hours=24)
    pd.testing.assert_frame_equal(
        remote.predict(issue, horizon, history).frame, local.predict(issue, horizon, history).frame
    )
    closed = ForecastFitter(processes=1)
    closed.close()  # a closed fitter starts no process and fits here
    assert closed.warm() == [] and closed(site, history, issue).trained_until == local.trained_until


def test_workers_exit_when_the_service_is_killed(tmp_path: Path) -> None:
    script = (
        "from controller.service.fitpool import ForecastFitter\n"
        "import time\n"
        "if __name__ == '__main__':\n"
        "    print(ForecastFitter(processes=1).warm()[0].result(timeout=120), flush=True)\n"
        "    time.sleep(300)\n"
    )
    (tmp_path / "service.py").write_text(script)
    service = subprocess.Popen(
        [sys.executable, str(tmp_path / "service.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None
        worker = int(service.stdout.readline())
    finally:
        service.kill()
        service.wait()
    assert gone_within(worker, 10 * PARENT_CHECK_S)


def test_parks_are_caught_up_at_the_same_time_each_in_order(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = harness.service
    first_runs: set[str] = set()
    both_in = threading.Barrier(2, timeout=10)

    def run(
        _self: Pipeline, site: Site, kind: PlanKind, now: datetime, run_id: int, target: Any = None
    ) -> PlanHeader:
        if site.id not in first_runs:
            first_runs.add(site.id)
            both_in.wait()  # passes only if both parks' first runs are under way at once
        begin = quarter_hour(now, "Asia/Shanghai")
        plan = real_plan(site.id, begin, 4, PlanKind.DAY_AHEAD)
        return store_plan(service.engine, plan, target or begin.date(), None, run_id)

    monkeypatch.setattr(Pipeline, "run", run)
    runs = catch_up(service.runner, parallel=2)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * len(runs), [r.error for r in runs]
    order = [service.parks.ids.index(r.site_id) for r in runs]
    assert order == sorted(order)  # park by park, in the parks' order
    assert {(r.site_id, r.job, r.trigger) for r in runs} >= {
        (p, Job.DAY_AHEAD, Trigger.STARTUP) for p in (PARK, OTHER_PARK)
    }
