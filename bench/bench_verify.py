"""AC verification of a year of 15-minute intervals for the largest bundled park.

Prints the batched verification throughput beside plain per-interval ``pandapower.runpp``
throughput, both measured in this run on the same injections (the park's historical year,
battery and heat pump at seeded random setpoints).
"""

from __future__ import annotations

import copy
import statistics
import time

import pandapower as pp
import pandas as pd

from network_models.reference import history_injections, set_row
from network_models.verify import NetworkVerifier
from sites import bundled_sites

RUNPP_SAMPLE = 100  # per-interval runpp is ~25/s; 100 intervals give a stable rate in seconds
REPEATS = 3


def largest_site():  # type: ignore[no-untyped-def]
    return max(bundled_sites(), key=lambda s: sum(x.peak_kw for x in s.assets.electric_loads))


def runpp_rate(verifier: NetworkVerifier, frame: pd.DataFrame) -> float:
    net = copy.deepcopy(verifier.park.net)
    rows = frame.iloc[:: len(frame) // RUNPP_SAMPLE][:RUNPP_SAMPLE]
    start = time.perf_counter()
    for _, row in rows.iterrows():
        set_row(verifier.park, net, row)
        pp.runpp(net, numba=False)  # pandapower default here: numba is not installed
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    site = largest_site()
    verifier = NetworkVerifier(site)
    frame = history_injections(site, verifier.park, heat_pump_share=0.5)
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
