"""Where an intraday plan must end: the committed plan's levels at its last interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from controller import columns as pc
from controller.inputs.state import committed_end_levels
from sites import bundled_sites

SITE = next(s for s in bundled_sites() if s.assets.batteries and s.assets.thermal_storage)


def _committed(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Levels that rise by one unit per interval, from each battery's lowest SoC."""
    steps = np.arange(len(index), dtype=float)
    data = {pc.battery_soc_kwh(b.name): b.soc_min_kwh + steps for b in SITE.assets.batteries}
    data |= {
        pc.thermal_storage_level_kwh_th(t.name): 50.0 + steps for t in SITE.assets.thermal_storage
    }
    return pd.DataFrame(data, index=index)


def _ends(committed: pd.DataFrame | None, last: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    a = SITE.assets
    horizon = pd.date_range(last - pd.Timedelta(hours=1), last, freq="15min")
    return committed_end_levels(
        SITE, committed, horizon, np.zeros(len(a.batteries)), np.zeros(len(a.thermal_storage))
    )


def test_the_levels_at_the_last_committed_interval_up_to_the_horizon_end() -> None:
    index = pd.date_range("2016-07-15", periods=96, freq="15min", tz=SITE.location.timezone)
    committed = _committed(index)
    soc, level = _ends(committed, index[40] + pd.Timedelta(minutes=5))  # between intervals
    assert soc == pytest.approx([b.soc_min_kwh + 40.0 for b in SITE.assets.batteries])
    assert level == pytest.approx([90.0] * len(level))
    shuffled = committed.sample(frac=1.0, random_state=3)  # the same rows in another order
    expected = shuffled[shuffled.index <= index[40]].iloc[-1]
    soc, _ = _ends(shuffled, index[40])
    battery = SITE.assets.batteries[0]
    assert soc[0] == pytest.approx(expected[pc.battery_soc_kwh(battery.name)])


def test_without_a_committed_interval_or_number_the_initial_levels_hold() -> None:
    index = pd.date_range("2016-07-15", periods=96, freq="15min", tz=SITE.location.timezone)
    committed = _committed(index)
    initial = [b.capacity_kwh * b.initial_soc_fraction for b in SITE.assets.batteries]
    soc, _ = _ends(committed, index[0] - pd.Timedelta(hours=2))  # before the plan begins
    assert soc == pytest.approx(initial)
    committed[pc.battery_soc_kwh(SITE.assets.batteries[0].name)] = np.nan
    soc, level = _ends(committed, index[10])
    assert soc[0] == pytest.approx(initial[0])
    assert level == pytest.approx([60.0] * len(level))
    soc, _ = _ends(None, index[10])
    assert soc == pytest.approx(initial)
