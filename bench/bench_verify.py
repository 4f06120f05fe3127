"""AC verification of a year of 15-minute intervals for the largest bundled park.

Prints the batched verification throughput beside plain per-interval ``pandapower.runpp``
throughput, both measured in this run on the same injections (the park's historical year,
battery and heat pump at seeded random setpoints).
"""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np
import pandapower as pp
import pandas as pd

from network_models.build import KW_PER_MW, Element
from network_models.verify import NetworkVerifier
from sites import bundled_sites, columns
from sites.history.derive import load_history

RUNPP_SAMPLE = 100  # per-interval runpp is ~25/s; 100 intervals give a stable rate in seconds
REPEATS = 3


def largest_site():  # type: ignore[no-untyped-def]
    return max(bundled_sites(), key=lambda s: sum(x.peak_kw for x in s.assets.electric_loads))


def year_of_injections(verifier: NetworkVerifier) -> pd.DataFrame:
    site = verifier.site
    history = load_history(site).frame
    rng = np.random.default_rng(0)
    n = len(history)
    frame = pd.DataFrame(0.0, index=history.index, columns=verifier.park.columns())
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
        frame[columns.heat_pump_kw(hp.name)] = rng.random(n) * hp.electric_kw * 0.5
    return frame


def runpp_rate(verifier: NetworkVerifier, frame: pd.DataFrame) -> float:
    net = copy.deepcopy(verifier.park.net)
    rows = frame.iloc[:: len(frame) // RUNPP_SAMPLE][:RUNPP_SAMPLE]
    start = time.perf_counter()
    for _, row in rows.iterrows():
        for table in Element:
            net[table.value]["p_mw"] = 0.0
            net[table.value]["q_mvar"] = 0.0
        for inj in verifier.park.injections:
            mw = row[inj.column] * inj.sign / KW_PER_MW
            net[inj.element.value].loc[inj.index, "p_mw"] += mw
            net[inj.element.value].loc[inj.index, "q_mvar"] += mw * inj.q_per_p
        pp.runpp(net, numba=False)  # pandapower default here: numba is not installed
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    site = largest_site()
    verifier = NetworkVerifier(site)
    frame = year_of_injections(verifier)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = verifier.verify(frame)
        times.append(time.perf_counter() - start)
    batched_s = statistics.median(times)
    rate = runpp_rate(verifier, frame)
    n = len(frame)
    print(
        f"site: {site.id} ({len(verifier.park.net.bus)} buses, {len(verifier.park.net.line)} "
        f"lines, {len(verifier.park.net.trafo)} transformers)"
    )
    print(
        f"intervals: {n:,}; converged: {int(result.intervals['converged'].sum()):,}; "
        f"violations found: {len(result.violations):,}"
    )
    print(
        f"batched verification: {batched_s:.2f} s for the year (median of {REPEATS}), "
        f"{n / batched_s:,.0f} intervals/s"
    )
    print(
        f"per-interval runpp:   {rate:,.1f} intervals/s (on {RUNPP_SAMPLE} intervals), "
        f"a year would take {n / rate:,.0f} s"
    )
    print(f"speed-up: {n / batched_s / rate:,.0f}x")


if __name__ == "__main__":
    main()
