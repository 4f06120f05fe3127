"""Throughput of the batched AC power flow against one pandapower.runpp per interval.

Builds a ~40-bus synthetic park network, draws a year of 15-minute set points (random but
seeded), solves all of them with `BatchPowerFlow`, times `pandapower.runpp` on a sample of
the same intervals, and prints both rates, their ratio and the largest differences.

    python bench/bench_powerflow_core.py [--intervals 35136] [--sequential 100]

BLAS threads: the batched solver is dominated by small dense matrix products; set
OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) before starting Python to compare thread counts.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from network_models.powerflow import BatchPowerFlow, run_sequential_runpp
from network_models.synthetic_park import build_synthetic_park_net, synthetic_setpoints

INTERVALS_PER_YEAR = 35_136  # 366 days of 96 quarter hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=INTERVALS_PER_YEAR)
    parser.add_argument(
        "--sequential",
        type=int,
        default=100,
        help="intervals to run through pandapower.runpp one by one",
    )
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3, help="batched runs; best is reported")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    net = build_synthetic_park_net(n_feeders=4, buses_per_feeder=9, n_lv_trafos=2)
    setpoints = synthetic_setpoints(net, args.intervals, seed=args.seed)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "default"))
    print(
        f"network: {len(net.bus)} buses, {len(net.line)} lines, {len(net.trafo)} trafos, "
        f"{len(net.load)} loads, {len(net.sgen)} sgens, {len(net.storage)} storages"
    )
    print(
        f"intervals: {args.intervals}, chunk size: {args.chunk_size}, "
        f"cpu count: {os.cpu_count()}, BLAS threads: {threads}"
    )

    start = time.perf_counter()
    flow = BatchPowerFlow(net)
    setup_s = time.perf_counter() - start
    timings = []
    for _ in range(max(1, args.repeats)):
        start = time.perf_counter()
        batch = flow.run(**setpoints, chunk_size=args.chunk_size)
        timings.append(time.perf_counter() - start)
    batch_s = min(timings)
    batch_rate = args.intervals / batch_s
    print(
        f"batched: setup {setup_s:.3f} s, solve {batch_s:.3f} s "
        f"(runs: {', '.join(f'{t:.3f}' for t in timings)} s) -> {batch_rate:,.0f} intervals/s"
    )
    print(
        f"  converged {int(batch.converged.sum())}/{args.intervals}, iterations "
        f"median {np.median(batch.iterations):.0f}, max {batch.iterations.max()}"
    )
    print(
        f"  max line loading {np.nanmax(batch.line_loading_percent):.1f} %, "
        f"vm range {np.nanmin(batch.vm_pu):.4f}..{np.nanmax(batch.vm_pu):.4f} pu"
    )

    rng = np.random.default_rng(args.seed)
    sample = np.sort(
        rng.choice(args.intervals, min(args.sequential, args.intervals), replace=False)
    )
    start = time.perf_counter()
    reference = run_sequential_runpp(net, **setpoints, intervals=sample)
    sequential_s = time.perf_counter() - start
    sequential_rate = sample.size / sequential_s
    print(
        f"runpp one by one: {sample.size} intervals in {sequential_s:.2f} s -> "
        f"{sequential_rate:,.1f} intervals/s (a year would take "
        f"{args.intervals / sequential_rate / 60:.0f} min)"
    )
    print(f"speed-up: {batch_rate / sequential_rate:,.0f}x")

    for name in (
        "vm_pu",
        "va_degree",
        "line_loading_percent",
        "trafo_loading_percent",
        "ext_grid_p_mw",
        "ext_grid_q_mvar",
        "losses_p_mw",
    ):
        diff = np.abs(getattr(batch, name)[sample] - getattr(reference, name))
        print(f"  max |batched - runpp| {name}: {np.nanmax(diff):.2e}")


if __name__ == "__main__":
    main()
