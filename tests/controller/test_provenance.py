"""The input hash reads frames as pandas hashes them: its stored values must never change."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from

from controller.config import DEFAULT_CONFIG
from controller.inputs.state import default_state
from controller.planner import plan
from controller.plans.plan import PlanKind
from controller.plans.provenance import input_hash, replay_input_hash
from controller.plans.row_hash import frame_row_hashes
from sites import Site

INDEX = pd.date_range("2016-06-06 10:00", periods=6, freq="15min", tz="Asia/Shanghai")


def _floats() -> pd.DataFrame:
    values = np.array(
        [
            [0.0, -0.0, 1.5, np.nan, np.inf, -np.inf],
            [1e-300, 3.0, -7.25, 2.0, 0.1, 1e9],
        ]
    ).T
    return pd.DataFrame(values, index=INDEX, columns=["pv_roof_kw_p50", "load_kw_p50"])


def _mixed() -> pd.DataFrame:
    frame = _floats()
    frame.insert(1, "price_band", ["peak", "flat", "peak", "valley", "flat", "peak"])
    frame["count"] = np.arange(6)
    frame["on"] = [True, False, True, True, False, False]
    frame["band_with_gap"] = ["a", None, "b", "a", "a", "b"]
    frame["category"] = pd.Categorical(["x", "y", "x", "x", "y", "y"])
    frame["nullable"] = pd.array([1.0, None, 2.0, 3.0, None, 4.0], dtype="Float64")
    frame["stamp"] = INDEX
    frame["small"] = np.arange(6, dtype=np.float32)
    frame["objects"] = pd.Series([1, "1", 1.0, True, None, b"1"], index=INDEX, dtype=object)
    return frame


def _two_float_blocks() -> pd.DataFrame:
    frame = _floats()
    frame["later"] = np.linspace(0.0, 1.0, 6)  # a second float block
    return frame


@pytest.mark.parametrize(
    "frame",
    [
        _floats(),
        _mixed(),
        _two_float_blocks(),
        _floats().reset_index(drop=True),
        _floats().iloc[0:0],
        pd.DataFrame(index=INDEX),
        pd.DataFrame(np.ones((6, 2)), index=INDEX, columns=["same", "same"]),
        _floats().tz_convert("UTC"),
    ],
    ids=["floats", "mixed", "two-blocks", "range-index", "no-rows", "no-columns", "dup", "utc"],
)
def test_row_hashes_are_pandas_hashes(frame: pd.DataFrame) -> None:
    expected = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    np.testing.assert_array_equal(frame_row_hashes(frame), expected)


def test_hashing_leaves_the_frame_alone() -> None:
    frame = _floats()
    before = frame.copy()
    frame_row_hashes(frame)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)


def test_a_committed_plan_hashes_as_its_frame() -> None:
    site = site_from(base_mapping())
    index = day_index()
    frame = forecast(site, index, load_plant_kw=1000.0)
    committed = plan(site, frame, kind=PlanKind.DAY_AHEAD)
    state = default_state(site)
    args = (site, frame, state, PlanKind.INTRADAY)
    by_plan = input_hash(*args, committed, DEFAULT_CONFIG)
    assert by_plan == input_hash(*args, committed.frame, DEFAULT_CONFIG)
    changed = committed.frame
    changed.iloc[5, 0] += 1.0
    assert by_plan != input_hash(*args, changed, DEFAULT_CONFIG)


def test_a_replay_hashes_its_inputs_as_it_always_did() -> None:
    """The replay's input hash is the planner's hashing of site and frame; its value is the
    one replays stored before both were written once (site JSON, pandas' row hashes of the
    replayed history, the settings)."""
    site = site_from(base_mapping())
    truth = history_frame(site)
    settings = {"policy": "production", "from": "2016-03-01"}
    before = hashlib.sha256(site.model_dump_json().encode())
    before.update(pd.util.hash_pandas_object(truth, index=True).to_numpy().tobytes())
    before.update(repr(sorted(settings.items())).encode())
    assert replay_input_hash(site, truth, settings) == before.hexdigest()
    assert replay_input_hash(site, truth, {**settings, "policy": "perfect"}) != before.hexdigest()


def history_frame(site: Site) -> pd.DataFrame:
    index = day_index(periods=4 * 96)
    return forecast(site, index, load_plant_kw=np.linspace(500.0, 1500.0, len(index)))
