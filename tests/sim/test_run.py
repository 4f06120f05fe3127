"""``microgrid simulate`` end to end: every policy through the same plant, outputs written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from controller.cli.main import app
from sim.merit import monthly_storage_value_captured
from sim.run import POLICIES, RunResult, run_policies
from sites import load_bundled_site
from sites.history.derive import load_history

SITE_ID = "gaotang-textile"
FROM, TO = "2016-03-08", "2016-03-10"  # two days; the history before them trains forecasts
INTRADAY_EVERY = "4h"  # fewer re-plans keep the test quick; the same code path as 15 min
COST_TOL_CNY = 1.0  # the tier tolerance of the planner's cost stage (controller.config)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    out = tmp_path_factory.mktemp("sim")
    site = load_bundled_site(SITE_ID)
    return run_policies(
        site,
        load_history(site).frame,
        FROM,
        TO,
        list(POLICIES),
        pd.Timedelta(INTRADAY_EVERY),
        out,
        lambda _: _quiet,
    )


def _quiet(done: int, total: int) -> None:
    return None


def test_every_policy_has_its_own_column_and_outputs(run: RunResult) -> None:
    assert len(run.table.columns) == len(POLICIES) == len(set(run.table.columns))
    assert list(run.results) == list(POLICIES)
    for result in run.results.values():
        assert len(result.frame) == 2 * 96
        assert run.written[f"intervals {result.policy}"].exists()
    saved = json.loads(Path(run.written["kpis"]).read_text(encoding="utf-8"))
    assert set(saved["kpis"]) == set(run.table.columns)
    assert set(saved["provenance"]) == set(run.table.columns)
    html = Path(run.written["report"]).read_text(encoding="utf-8")
    assert all(policy in html for policy in run.table.columns)


def test_merit_is_measured_against_the_bound_and_no_storage(run: RunResult) -> None:
    production = run.table.filter(like="intraday").iloc[:, 0]["total_cost_cny"]
    bound = run.table.filter(like="perfect").iloc[:, 0]["total_cost_cny"]
    bare = run.table.filter(like="no storage").iloc[:, 0]["total_cost_cny"]
    merit = run.merit["production"]
    assert merit["regret_cny"] == pytest.approx(production - bound)
    assert merit["share_of_perfect"] == pytest.approx(bound / production)
    assert merit["storage_value_captured"] == pytest.approx((bare - production) / (bare - bound))
    assert run.merit["perfect"]["storage_value_captured"] == pytest.approx(1.0)
    assert run.merit["no-storage"]["storage_value_captured"] == pytest.approx(0.0)
    captured = monthly_storage_value_captured(run.monthly)
    assert captured["production"].iloc[0] == pytest.approx(merit["storage_value_captured"])
    # months add up to the period: the period's demand charge is billed per month too
    assert run.monthly.sum().to_dict() == pytest.approx(run.merit.loc["total_cost_cny"].to_dict())
    # the regret's parts add up to it, each from the KPIs of the policy and of the bound
    production_kpis = run.table.filter(like="intraday").iloc[:, 0]
    bound_kpis = run.table.filter(like="perfect").iloc[:, 0]
    parts = run.merit.filter(like="regret_of_", axis=0)["production"]
    assert len(parts) == 7
    assert parts.sum() == pytest.approx(merit["regret_cny"])
    assert parts["regret_of_fuel_cost_cny"] == pytest.approx(
        production_kpis["fuel_cost_cny"] - bound_kpis["fuel_cost_cny"]
    )
    assert parts["regret_of_export_revenue_cny"] == pytest.approx(
        bound_kpis["export_revenue_cny"] - production_kpis["export_revenue_cny"]
    )
    assert (run.merit.filter(like="regret_of_", axis=0)["perfect"] == 0.0).all()
    # The bound knows the truth: no policy through the same plant is cheaper than it.
    cheapest = run.table.loc["total_cost_cny"].min()
    assert bound <= cheapest + COST_TOL_CNY


def test_the_cli_prints_the_table_and_rejects_an_unknown_policy(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["simulate", "--site", SITE_ID, "--from", FROM, "--to", "2016-03-09"]
    ok = runner.invoke(app, [*args, "--policy", "rule-based", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "KPIs by policy" in ok.output and (tmp_path / "report.html").exists()
    bad = runner.invoke(app, [*args, "--policy", "clairvoyant", "--out", str(tmp_path)])
    assert bad.exit_code != 0
    assert "clairvoyant" in bad.output
