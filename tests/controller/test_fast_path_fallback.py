"""The fast path reads cvxpy's compiled problem past its public interface. When that fails
(a form its maps do not cover, or a cvxpy whose internals moved), the plan is solved on
cvxpy's own path; when that fails too, the plan is the rule-based one. Nothing of it
escapes ``plan()``. The failures are injected where they would arise."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from types import SimpleNamespace

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from dispatch_cases import base_mapping, day_index, forecast, site_from
from packaging.requirements import Requirement
from packaging.version import Version

from controller import DEFAULT_CONFIG, PlanKind, PlanStatus, plan
from controller.plans.check import check_plan
from controller.solver import extract, lp_data
from controller.solver.cache import ModelCache
from controller.solver.extract import ModelReadError
from controller.solver.lp_data import LpMapError, ParametricLp
from sites import Site

ROOT = Path(__file__).resolve().parents[2]
COST_RTOL = 1e-6
"""Both paths hand HiGHS the same LP; its optimum's cost agrees to solver precision."""


def _case() -> tuple[Site, pd.DataFrame]:
    site = site_from(base_mapping())
    index = day_index()
    hours = index.hour + index.minute / 60
    pv = np.where((hours >= 9) & (hours < 15), 1900.0, 0.0)
    return site, forecast(site, index, pv_roof_kw=pv, load_plant_kw=800.0)


def _no_lp_map(*args: object) -> None:
    raise LpMapError("injected: a form the LP maps do not cover")


def _own_path_notes(notes: tuple[str, ...]) -> list[str]:
    return [note for note in notes if "cvxpy's own path" in note]


@pytest.mark.parametrize("how", ["no_lp_map", "internals_moved"])
def test_a_failing_fast_path_solves_on_cvxpys_own_path(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, fc = _case()
    fast = plan(site, fc, cache=ModelCache())
    assert _own_path_notes(fast.metadata.notes) == []
    if how == "no_lp_map":
        monkeypatch.setattr(ParametricLp, "compile", _no_lp_map)
    else:  # a cvxpy without the function the fast path reads the parameters with
        monkeypatch.setattr(lp_data, "canonInterface", SimpleNamespace())
    cache = ModelCache()
    own = plan(site, fc, cache=cache)
    assert fast.status is not PlanStatus.FALLBACK
    assert own.status is fast.status
    expected = "LpMapError" if how == "no_lp_map" else "AttributeError"
    assert any(expected in note for note in _own_path_notes(own.metadata.notes))
    assert check_plan(site, own).ok
    np.testing.assert_allclose(
        own.kpis.total_cost_cny, fast.kpis.total_cost_cny, rtol=COST_RTOL, atol=1e-6
    )
    # the compiled problem keeps to cvxpy's own path: the next solve does not try again
    again = plan(site, fc, cache=cache)
    assert _own_path_notes(again.metadata.notes) == _own_path_notes(own.metadata.notes)


def _broken(*args: object, **kwargs: object) -> None:
    raise AttributeError("injected: cvxpy's solve moved too")


def test_both_paths_failing_give_the_rule_based_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    site, fc = _case()
    monkeypatch.setattr(lp_data, "canonInterface", SimpleNamespace())
    monkeypatch.setattr(cp.Problem, "solve", _broken)
    result = plan(site, fc, cache=ModelCache())
    assert result.status is PlanStatus.FALLBACK
    assert any("AttributeError" in note for note in result.metadata.notes)
    assert check_plan(site, result).ok


def test_reading_a_variable_the_model_does_not_hold_raises() -> None:
    site, fc = _case()
    cache = ModelCache()
    made = plan(site, fc, cache=cache)
    assert made.status is not PlanStatus.FALLBACK
    (entry,) = cache._entries.values()
    model = entry.model
    horizon = model.ctx.horizon
    read = extract._value(model, "grid_import", 1, 0)
    assert read.shape == (1, horizon)
    with pytest.raises(ModelReadError, match="no variable 'grid_imports'"):
        extract._value(model, "grid_imports", 1, 0)
    # an asset family the site lacks has no variable and reads as no rows
    assert extract._value(model, "chp_electric", 0, 0).shape == (0, horizon)


def test_a_model_never_solved_is_not_read_as_zeros() -> None:
    site, fc = _case()
    cache = ModelCache()
    plan(site, fc, cache=cache)
    (entry,) = cache._entries.values()
    fresh = ModelCache().get(
        site,
        entry.model.ctx.horizon,
        PlanKind.DAY_AHEAD,
        DEFAULT_CONFIG,
        entry.model.ctx.linear,
        tuple(entry.model.ctx.network_rows),
    )
    with pytest.raises(ModelReadError, match="has no value"):
        extract._value(fresh.model, "grid_import", 1, 0)


@pytest.mark.parametrize("package", ["cvxpy", "highspy"])
def test_the_libraries_the_fast_path_reads_are_pinned_to_the_installed_minor(
    package: str,
) -> None:
    """The tests above ran on the installed versions; pyproject.toml admits them and no
    later minor version, whose internals the fast path has not been held to."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (spec,) = [Requirement(r) for r in project["project"]["dependencies"] if r.startswith(package)]
    installed = Version(importlib.metadata.version(package))
    assert installed in spec.specifier
    next_minor = Version(f"{installed.major}.{installed.minor + 1}")
    assert next_minor not in spec.specifier
