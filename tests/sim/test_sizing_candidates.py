"""Sizing candidates: the grid, the park each one is, and the history it replays."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from controller.cli.main import app
from sim.sizing.candidates import Candidate, CandidateGrid, parse_values, scaled_truth, variant_site
from sim.sizing.evaluate import Period
from sim.sizing.sweep import run_sweep
from sites import DataError, SiteConfigError, columns, load_bundled_site
from sites.history.derive import load_history

SITE_ID = "gaotang-solar-textile"


def test_values_as_lists_and_ranges() -> None:
    assert parse_values("--battery-kwh", "0:24000:6000") == [0, 6000, 12000, 18000, 24000]
    assert parse_values("--battery-kwh", "0, 12000") == [0, 12000]
    with pytest.raises(DataError, match="--duration-h: got 'two'"):
        parse_values("--duration-h", "two")


def test_the_grid_combines_every_value_and_a_zero_battery_once() -> None:
    site = load_bundled_site(SITE_ID)
    grid = CandidateGrid(battery_kwh=[0, 12000, 24000], duration_h=[1, 2], tank_kwh_th=[0, 60000])
    found = grid.candidates(site)
    assert len(found) == (1 + 2 * 2) * 2  # the empty battery has no duration to vary
    assert Candidate(12000, 6000, (("hot_water_tank", 60000.0),)) in found
    assert Candidate(0, 0, (("hot_water_tank", 0.0),)) in found


def test_power_and_duration_are_alternatives_and_values_are_checked() -> None:
    site = load_bundled_site(SITE_ID)
    with pytest.raises(DataError, match="--battery-kw and --duration-h"):
        CandidateGrid(battery_kwh=[1000], battery_kw=[500], duration_h=[2]).candidates(site)
    with pytest.raises(DataError, match="--pv-scale: got -1"):
        CandidateGrid(pv_scale=[-1]).candidates(site)
    with pytest.raises(DataError, match="--wind-scale: gaotang-solar-textile has no wind"):
        CandidateGrid(wind_scale=[2]).candidates(site)
    with pytest.raises(DataError, match="--tank: got nope"):
        CandidateGrid(tanks={"nope": [1]}).candidates(site)


def test_the_variant_has_the_candidates_sizes_and_keeps_the_rates() -> None:
    site = load_bundled_site(SITE_ID)
    variant = variant_site(site, Candidate(6000, 1500, (("hot_water_tank", 30000.0),), 1.5))
    battery, tank = variant.assets.batteries[0], variant.assets.thermal_storage[0]
    assert (battery.capacity_kwh, battery.charge_kw, battery.discharge_kw) == (6000, 1500, 1500)
    assert battery.charge_efficiency == site.assets.batteries[0].charge_efficiency
    assert (tank.capacity_kwh_th, tank.charge_kw_th) == (30000, 6000)  # 12 MW per 60 MWh
    assert sum(x.peak_kw for x in variant.assets.pv) == pytest.approx(1.5 * 30000)
    bare = variant_site(site, Candidate(0, 0, (("hot_water_tank", 0.0),)))
    assert bare.assets.batteries == [] and bare.assets.thermal_storage == []


def test_a_variant_is_checked_as_a_site_file_is() -> None:
    site = load_bundled_site(SITE_ID)
    with pytest.raises(SiteConfigError, match="charge_kw"):
        variant_site(site, Candidate(1000, -1, ()))


def test_the_history_of_scaled_renewables() -> None:
    site = load_bundled_site(SITE_ID)
    truth = load_history(site).frame.iloc[:200]
    scaled = scaled_truth(site, truth, 2.0, 1.0)
    pv = columns.pv_kw(site.assets.pv[0].name)
    load = columns.load_kw(site.assets.electric_loads[0].name)
    assert (scaled[pv] == 2 * truth[pv]).all()
    assert (scaled[load] == truth[load]).all()
    assert scaled is not truth and truth[pv].max() < scaled[pv].max()


def test_the_command_names_a_bad_option_and_exits_2(tmp_path: Path) -> None:
    args = ["size-storage", SITE_ID, "--from", "2016-05-02", "--to", "2016-05-03"]
    args += ["--battery-kwh", "6000", "--battery-kw", "3000", "--duration-h", "2"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--battery-kw and --duration-h: got both" in result.output
    assert not any(tmp_path.iterdir())  # nothing ran


def test_a_period_beyond_the_history_is_refused_before_anything_runs(tmp_path: Path) -> None:
    site = load_bundled_site(SITE_ID)
    zone = site.location.timezone
    period = Period(
        pd.Timestamp("2016-12-30", tz=zone), pd.Timestamp("2017-01-05", tz=zone), pd.Timedelta("1h")
    )
    candidates = CandidateGrid(battery_kwh=[6000]).candidates(site)
    with pytest.raises(DataError, match="--from/--to: got 2016-12-30..2017-01-05"):
        run_sweep(site, load_history(site).frame, candidates, period, tmp_path)
    assert not any(tmp_path.iterdir())
