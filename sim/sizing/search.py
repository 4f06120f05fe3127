"""A search that starts from the sizing LP's optimum: the candidates around it, and the LP's
promise at every candidate's sizes.

The LP (:mod:`sim.sizing.lp`) sizes with hindsight in seconds; the closed loop tells what the
controller makes of a size, in minutes. So the LP is solved first, within the largest sizes
the sweep names (else four times the park's present storage), and the closed loop replays
the sizes around its optimum: each size the LP chose times :data:`SEARCH_FACTORS`, one at a
time (the battery's energy with its power at the LP's duration, then each tank), rounded to
:data:`ROUND_KWH`.

Solutions are kept in the sweep's output folder (``lp/<hash>.json``, by the hash of the
LP's inputs: the park, its history over the period, the period, the economics, the limits
or the fixed sizes, the code version), so that a rerun reuses them: a year's LP takes tens
of minutes, where a week's takes seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from controller import code_version
from sim.sizing.candidates import Candidate, CandidateGrid, digest, frame_hash
from sim.sizing.economics import SizingEconomics
from sim.sizing.lp import SizeLimits, SizingSolution, period_inputs, solve_sizing_lp
from sim.sizing.sweep import write_atomic
from sites import Site

LP_FOLDER = "lp"

SEARCH_FACTORS = (0.5, 1.0, 1.5)
ROUND_KWH = 100.0
"""Sizes are bought in steps far coarser than 100 kWh (kW, kWh_th)."""
DEFAULT_LIMIT_FACTOR = 4.0
"""Without a swept size to bound it, the LP may buy up to this many times the park's present
battery (energy and power) and each tank."""


def _round(size: float) -> float:
    return float(round(size / ROUND_KWH) * ROUND_KWH)


def lp_limits(site: Site, grid: CandidateGrid) -> SizeLimits:
    """The largest sizes the grid sweeps, else :data:`DEFAULT_LIMIT_FACTOR` x the present."""
    batteries = site.assets.batteries
    energy_now = sum(b.capacity_kwh for b in batteries)
    power_now = sum(b.discharge_kw for b in batteries)
    energy = max(grid.battery_kwh, default=DEFAULT_LIMIT_FACTOR * energy_now)
    if grid.battery_kw:
        power = max(grid.battery_kw)
    elif grid.duration_h:
        power = energy / min(grid.duration_h)
    else:
        power = DEFAULT_LIMIT_FACTOR * power_now
    tanks = {}
    for t in site.assets.thermal_storage:
        swept = list(grid.tanks.get(t.name, grid.tank_kwh_th))
        tanks[t.name] = max(swept, default=DEFAULT_LIMIT_FACTOR * t.capacity_kwh_th)
    return SizeLimits(float(energy), float(power), tanks)


def around_optimum(
    solution: SizingSolution, factors: Sequence[float] = SEARCH_FACTORS
) -> list[Candidate]:
    """The optimum's sizes, each scaled by ``factors`` with the others at the optimum."""
    energy, power = solution.battery_kwh, solution.battery_kw
    tanks = solution.tank_kwh_th
    found: dict[Candidate, None] = {}

    def add(battery_kwh: float, battery_kw: float, sizes: tuple[tuple[str, float], ...]) -> None:
        kwh, kw = _round(battery_kwh), _round(battery_kw)
        if kwh == 0 or kw == 0:
            kwh = kw = 0.0
        found[Candidate(kwh, kw, tuple((n, _round(v)) for n, v in sizes))] = None

    for f in factors:
        add(energy * f, power * f, tanks)
    for k, (name, size) in enumerate(tanks):
        for f in factors:
            scaled = (*tanks[:k], (name, size * f), *tanks[k + 1 :])
            add(energy, power, scaled)
    return list(found)


def lp_promises(
    site: Site,
    truth: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    economics: SizingEconomics,
    candidates: Sequence[Candidate],
    out: Path | None = None,
) -> dict[Candidate, SizingSolution]:
    """The LP at each candidate's sizes (those at the park's present renewables: the LP does
    not scale PV or wind), sharing the period's prepared arrays; kept in ``out``."""
    prepared = functools.cache(lambda: period_inputs(site, truth, start, end))
    period = _period_key(site, truth, start, end, economics)

    def promise(c: Candidate) -> SizingSolution:
        limits = SizeLimits()
        return solve_sizing_lp(
            site, truth, start, end, economics, limits, fixed=c, inputs=prepared()
        )

    return {
        c: _kept(out, digest(period, "fixed", c.as_dict()), functools.partial(promise, c))
        for c in candidates
        if c.renewables == (1.0, 1.0)
    }


def solve_optimum(
    site: Site,
    truth: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    economics: SizingEconomics,
    limits: SizeLimits,
    out: Path | None = None,
) -> SizingSolution:
    """The LP's optimum within ``limits``; kept in ``out``."""
    key = digest(
        _period_key(site, truth, start, end, economics), "limits", dataclasses.asdict(limits)
    )
    return _kept(out, key, lambda: solve_sizing_lp(site, truth, start, end, economics, limits))


def _period_key(
    site: Site,
    truth: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    economics: SizingEconomics,
) -> str:
    """The hash of what every LP of the period shares (its history hashed once per call)."""
    window = truth.loc[start : end - pd.Timedelta(minutes=15)]
    return digest(
        "sizing-lp",
        site,
        frame_hash(window),
        str(start),
        str(end),
        economics.model_dump(mode="json"),
        code_version(),
    )


def _kept(out: Path | None, key: str, solve: Callable[[], SizingSolution]) -> SizingSolution:
    """The solution a run with the same inputs left in ``out/lp/<key>.json``, else solved
    and written there."""
    if out is None:
        return solve()
    path = out / LP_FOLDER / f"{key}.json"
    if path.is_file():
        return SizingSolution.from_dict(json.loads(path.read_text(encoding="utf-8")))
    solution = solve()
    write_atomic(path, solution.as_dict())
    return solution
