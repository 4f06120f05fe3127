"""Injections from a park's history and plain ``runpp`` on one row, for tests and benches.

Both compare the batched verification with pandapower's own power flow on the same data;
keeping the two pieces here means they compare exactly the same thing.
"""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandas as pd

from network_models.build import KW_PER_MW, Element, ParkNetwork
from sites import Site, columns
from sites.history.derive import load_history


def history_injections(
    site: Site,
    park: ParkNetwork,
    rows: np.ndarray | None = None,
    seed: int = 0,
    heat_pump_share: float = 1.0,
) -> pd.DataFrame:
    """The historical year's rows (all, or ``rows`` positions) as injections in kW, with
    batteries charging or discharging and heat pumps running at seeded random setpoints."""
    history = load_history(site).frame
    if rows is not None:
        history = history.iloc[rows]
    rng = np.random.default_rng(seed)
    n = len(history)
    frame = pd.DataFrame(0.0, index=history.index, columns=park.columns())
    for column in frame.columns:
        if column in history.columns:
            frame[column] = history[column]
    for b in site.assets.batteries:
        charging = rng.random(n) < 0.5
        frame[columns.battery_charge_kw(b.name)] = np.where(
            charging, rng.random(n) * b.charge_kw, 0
        )
        frame[columns.battery_discharge_kw(b.name)] = np.where(
            charging, 0, rng.random(n) * b.discharge_kw
        )
    for hp in site.assets.heat_pumps:
        frame[columns.heat_pump_kw(hp.name)] = rng.random(n) * hp.electric_kw * heat_pump_share
    return frame


def set_row(park: ParkNetwork, net: pp.pandapowerNet, row: pd.Series) -> None:
    """Write one row of injections [kW] into ``net``'s elements [MW, Mvar]."""
    for table in Element:
        net[table.value]["p_mw"] = 0.0
        net[table.value]["q_mvar"] = 0.0
    for inj in park.injections:
        mw = row[inj.column] * inj.sign / KW_PER_MW
        net[inj.element.value].loc[inj.index, "p_mw"] += mw
        net[inj.element.value].loc[inj.index, "q_mvar"] += mw * inj.q_per_p


def runpp_row(park: ParkNetwork, row: pd.Series) -> pp.pandapowerNet:
    """pandapower's own power flow of one row, on a copy of the park's network."""
    net = copy.deepcopy(park.net)
    set_row(park, net, row)
    pp.runpp(net, numba=False)  # numba is optional for pandapower and not installed here
    return net
