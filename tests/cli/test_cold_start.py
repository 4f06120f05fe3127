"""A new park gets a plan on day one: ``microgrid plan`` at 0, 1, 2, 7, 14 and 21 days of
history, the plan's metadata naming each series' fallback baseline.

The day planned is the one after the history ends (the forecaster, not the history's own
values); the expected fallbacks come from the documented minimum history of each model
(``tests/support/cold_start.py``).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cold_start import HISTORY_DAYS, expected_methods
from own_park import HISTORY_START, OwnPark, history_frame, write_own_park
from typer.testing import CliRunner

from controller.cli.main import app
from controller.plans.plan import PlanStatus
from sites import load_site

PLANNED = {PlanStatus.OPTIMAL.value, PlanStatus.RELAXED.value}


def plan_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["plan", *args, "--format", "json"])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> OwnPark:
    return write_own_park(tmp_path_factory.mktemp("cold-start"), 1)


@pytest.mark.parametrize("days", HISTORY_DAYS)
def test_plan_on_day_one_and_after(park: OwnPark, days: int) -> None:
    site = load_site(park.site_file)
    history = park.folder / f"history-{days}d.csv"
    history_frame(park.folder, days).to_csv(history, index=False)  # header only at 0 days
    day = (HISTORY_START + pd.Timedelta(days=days)).date().isoformat()

    plan = plan_json("--site", str(park.site_file), "--history", str(history), "--date", day)
    meta = plan["metadata"]
    assert meta["status"] in PLANNED
    assert plan["intervals"]["interval_start"][0] == f"{day}T00:00:00+08:00"
    expected = expected_methods(site, days)
    fallbacks = meta["forecast_fallbacks"]
    assert set(fallbacks) == set(expected)
    for column, method in expected.items():
        assert fallbacks[column].startswith(f"{method.value}: history too short")
    if days == 0:  # the same day one with no history file at all
        bare = plan_json("--site", str(park.site_file), "--date", day)["metadata"]
        assert bare["status"] in PLANNED and bare["forecast_fallbacks"] == fallbacks
