"""Bad data is found, reported and handled in one place, never passed on silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import quality
from forecasting.pv import ClearSkyCache
from forecasting.quality import Issue
from forecasting.timeline import regular_grid
from sites import columns, load_bundled_site
from sites.errors import DataError
from sites.history.derive import load_history
from sites.history.series import expected_series
from sites.schema import Site

SITE_ID = "gaotang-textile"
START = pd.Timestamp("2016-04-04", tz="Asia/Shanghai")
DAYS = 14
PV = columns.pv_kw("pv_dye_house")
LOAD = columns.load_kw("dyeing_machines")
TEMPERATURE = columns.AMBIENT_TEMPERATURE_DEGC


@pytest.fixture(scope="module")
def site() -> Site:
    return load_bundled_site(SITE_ID)


@pytest.fixture(scope="module")
def clean_history(site: Site) -> pd.DataFrame:
    frame = load_history(site).frame
    return frame[(frame.index >= START) & (frame.index < START + pd.Timedelta(days=DAYS))]


def run(site: Site, history: pd.DataFrame) -> tuple[dict[str, np.ndarray], quality.QualityReport]:
    grid = regular_grid(START, START + pd.Timedelta(days=DAYS))
    night = {
        columns.pv_kw(a.name): ClearSkyCache(site.location, a.tilt_deg, a.azimuth_deg).per_kwp(grid)
        == 0.0
        for a in site.assets.pv
    }
    caps = quality.series_caps(site)
    values, report, _ = quality.clean(history, expected_series(site), grid, caps, night, None)
    return values, report


def test_the_clean_bundled_history_passes_untouched(
    site: Site, clean_history: pd.DataFrame
) -> None:
    values, report = run(site, clean_history)
    assert report.findings == ()
    for column in clean_history.columns:
        np.testing.assert_array_equal(values[column], clean_history[column].to_numpy())


def test_duplicated_timestamps_keep_the_last_value(site: Site, clean_history: pd.DataFrame) -> None:
    extra = clean_history.iloc[[100, 200]].copy()
    extra[LOAD] = [1.0, 2.0]
    values, report = run(site, pd.concat([clean_history, extra]))
    assert report.count(Issue.DUPLICATE_TIMESTAMP) == 4  # two timestamps, twice each
    assert values[LOAD][100] == 1.0 and values[LOAD][200] == 2.0


def test_missing_timestamps_short_gaps_filled_long_gaps_left(
    site: Site, clean_history: pd.DataFrame
) -> None:
    dropped = clean_history.drop(clean_history.index[list(range(500, 503)) + list(range(700, 740))])
    values, report = run(site, dropped)
    assert report.count(Issue.MISSING_TIMESTAMP) == 43
    assert report.count(Issue.GAP_FILLED, LOAD) == 3
    assert report.count(Issue.GAP_LEFT, LOAD) == 40
    assert np.isfinite(values[LOAD][500:503]).all()
    assert np.isnan(values[LOAD][700:740]).all()


def test_off_grid_timestamps_are_excluded(site: Site, clean_history: pd.DataFrame) -> None:
    odd = clean_history.iloc[[10]].copy()
    odd.index = odd.index + pd.Timedelta(minutes=7)
    odd[LOAD] = 1e5
    values, report = run(site, pd.concat([clean_history, odd]))
    assert report.count(Issue.OFF_GRID_TIMESTAMP) == 1
    np.testing.assert_array_equal(values[LOAD], clean_history[LOAD].to_numpy())


def test_pv_at_night_is_set_to_zero(site: Site, clean_history: pd.DataFrame) -> None:
    bad = clean_history.copy()
    midnight = bad.index.hour == 0
    bad.loc[midnight, PV] = -3.0  # a meter offset at night
    values, report = run(site, bad)
    assert report.count(Issue.PV_AT_NIGHT, PV) == midnight.sum()
    assert (values[PV][midnight] == 0.0).all()


def test_negative_and_impossible_flows(site: Site, clean_history: pd.DataFrame) -> None:
    bad = clean_history.copy()
    rating = site.assets.electric_loads[0].peak_kw
    bad.iloc[50, bad.columns.get_loc(LOAD)] = -0.001 * rating  # meter offset: clipped to 0
    bad.iloc[60, bad.columns.get_loc(LOAD)] = -0.5 * rating  # impossible: excluded
    bad.iloc[70, bad.columns.get_loc(LOAD)] = 3.0 * rating  # impossible: excluded
    values, report = run(site, bad)
    assert report.count(Issue.SMALL_NEGATIVE, LOAD) == 1
    assert report.count(Issue.OUT_OF_RANGE, LOAD) == 2
    # a load clipped to 0 between ~2 MW neighbours is then also a spike: bridged like the rest
    assert report.count(Issue.GAP_FILLED, LOAD) == 3
    assert (values[LOAD][[50, 60, 70]] > 0.0).all()
    assert (values[LOAD][[50, 60, 70]] <= rating).all()


def test_frozen_sensor_is_excluded_but_zero_and_ceiling_runs_are_not(
    site: Site, clean_history: pd.DataFrame
) -> None:
    bad = clean_history.copy()
    load, temperature = bad.columns.get_loc(LOAD), bad.columns.get_loc(TEMPERATURE)
    bad.iloc[1000:1024, load] = bad.iloc[1000, load]  # stuck for 6 h
    bad.iloc[300:340, temperature] = 12.5  # stuck for 10 h
    waste = columns.waste_heat_kw_th("warm_waste_water")
    bad.iloc[400:450, bad.columns.get_loc(waste)] = site.assets.waste_heat[0].max_kw_th
    values, report = run(site, bad)
    assert report.count(Issue.FROZEN, LOAD) == 24
    assert report.count(Issue.FROZEN, TEMPERATURE) == 40
    assert report.count(Issue.FROZEN, waste) == 0  # at its cap: genuine
    assert report.count(Issue.FROZEN, PV) == 0  # nights are long runs of 0
    assert np.isnan(values[LOAD][1000:1024]).all()


def test_spikes_are_excluded_and_bridged(site: Site, clean_history: pd.DataFrame) -> None:
    bad = clean_history.copy()
    bad.iloc[800, bad.columns.get_loc(LOAD)] += 2000.0
    bad.iloc[900, bad.columns.get_loc(TEMPERATURE)] -= 15.0
    values, report = run(site, bad)
    assert report.count(Issue.SPIKE, LOAD) == 1 and report.count(Issue.SPIKE, TEMPERATURE) == 1
    assert abs(values[LOAD][800] - clean_history[LOAD].iloc[800]) < 500.0
    assert abs(values[TEMPERATURE][900] - clean_history[TEMPERATURE].iloc[900]) < 1.0


def test_unusable_frames_are_refused(site: Site, clean_history: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="timezone-aware"):
        run(site, clean_history.tz_localize(None))
    with pytest.raises(DataError, match=LOAD):
        run(site, clean_history.drop(columns=[LOAD]))
