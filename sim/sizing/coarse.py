"""The sizing LP on hourly means: a year's LP in a fraction of the 15-minute one's time.

A year of 15-minute intervals is 35,000 columns per variable; the sizing LP took 1,663 s
there (interior point, two shared cores), and a sweep solves it again at every candidate.
On hourly means it has a quarter of the columns.

Each array over the horizon becomes the mean of its four quarter hours (prices, availability,
loads, heat demand, COPs, limits, losses), except the one-hot last interval (the last hour)
and the tanks' standing loss (compounded over the hour). The model's blocks take the hour as
their step (``ModelContext.dt``).

It is nearly a relaxation of the 15-minute LP, so it stays a bound: any 15-minute dispatch
averaged per hour meets the hourly rows (every row is linear with coefficients constant
within the hour: ratings, balances, the battery's and tanks' levels at the hours' ends) at
the same cost, and its hourly peaks are no higher than its quarter-hour peaks, so its
demand charge is no higher. Where it is not exact: a price or a COP that changes within an
hour is averaged, and a tank's standing loss applies to the hour's mean level rather than to
each quarter's. Families whose rows count 15-minute steps (batch windows, shift windows) or
whose state is sampled per step (hydrogen) are not coarsened: such a park keeps the
15-minute LP.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from controller import DispatchInputs, NetworkData
from sites import Site

STEPS_PER_HOUR = 4


def coarsenable(site: Site, inputs: DispatchInputs) -> bool:
    """Whether ``inputs`` may be averaged per hour: whole hours from the first column, and no
    family whose rows count quarter-hour steps."""
    a = site.assets
    counted_in_steps = (
        a.batch_loads,
        a.shiftable_loads,
        a.curtailable_loads,
        a.electrolysers,
        a.hydrogen_tanks,
        a.hydrogen_fuel_cells,
    )
    return (
        inputs.start == 0
        and inputs.horizon % STEPS_PER_HOUR == 0
        and inputs.index[0].minute == 0
        and not any(counted_in_steps)
    )


def hourly(inputs: DispatchInputs) -> DispatchInputs:
    """``inputs`` as hourly means (see the module); check :func:`coarsenable` first."""
    h = inputs.horizon

    def mean(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if values.shape[-1:] != (h,):
            return values
        return values.reshape(*values.shape[:-1], h // STEPS_PER_HOUR, STEPS_PER_HOUR).mean(-1)

    def per_hour(values: np.ndarray, how: str) -> np.ndarray:
        grouped = np.asarray(values, dtype=float)
        grouped = grouped.reshape(*grouped.shape[:-1], h // STEPS_PER_HOUR, STEPS_PER_HOUR)
        return getattr(grouped, how)(-1)

    changed: dict[str, object] = {
        f.name: mean(getattr(inputs, f.name))
        for f in dataclasses.fields(inputs)
        if isinstance(getattr(inputs, f.name), np.ndarray)
    }
    changed.update(
        index=inputs.index[::STEPS_PER_HOUR],
        horizon=h // STEPS_PER_HOUR,
        hours_per_step=inputs.hours_per_step * STEPS_PER_HOUR,
        bands=inputs.bands[::STEPS_PER_HOUR],
        terminal_mask=per_hour(inputs.terminal_mask, "max"),
        storage_keep=per_hour(inputs.storage_keep, "prod"),
        storage_level_in=per_hour(inputs.storage_level_in, "sum"),
        forecast_error_kw={
            k: (mean(above), mean(below)) for k, (above, below) in inputs.forecast_error_kw.items()
        },
    )
    if inputs.network is not None:
        changed["network"] = NetworkData(
            rhs=mean(inputs.network.rhs), losses_kw=mean(inputs.network.losses_kw)
        )
    return dataclasses.replace(inputs, **changed)  # type: ignore[arg-type]
