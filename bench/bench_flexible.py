"""What flexible process loads and hydrogen cost in plan time, with and without binaries.

The Gaotang textile park gets, in memory, a daily 6 MWh dyeing batch (window 06:00-22:00, up
to 1.5 MW), a curtailable 15 % of spinning and weaving, a shiftable 20 % of the dyeing
machines (3 h), a 1 MW electrolyser on a curve with a 400 kg tank and a 300 kW fuel cell
(the test park ``tests/sim/data/flex_textile.yaml``). Planned once as LPs (no minimum
draw, no minimum load) and once with a 500 kW minimum batch draw and a 20 % electrolyser
minimum load (on/off binaries: a MILP, HiGHS branch and bound); and once without any of
them, for the base. Each on the same days with history as the forecast; printed: median
whole planning step and median solve (all stages). Not a test: it prints, it does not
assert.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import yaml
from bench_optimiser import DAYS, forecast_of, ms  # the same days, forecasts and units

from controller.inputs.state import default_state
from controller.planner import plan
from sites import bundled_site_paths, load_site_mapping
from sites.history.derive import load_history

SITE = "gaotang-textile"


def _site(flexible: bool, minimums: bool) -> Any:
    raw = yaml.safe_load(bundled_site_paths()[SITE].read_text(encoding="utf-8"))
    if flexible:
        a = raw["assets"]
        a["batch_loads"] = [
            {
                "name": "jet_dyeing_batch",
                "bus": "f1_dyeing",
                "energy_kwh": 6000,
                "max_kw": 1500,
                "min_kw": 500 if minimums else 0,
                "window_start_hour": 6,
                "window_end_hour": 22,
            }
        ]
        a["curtailable_loads"] = [
            {
                "name": "weaving_pause",
                "load": "spinning_weaving",
                "max_fraction": 0.15,
                "cost_cny_per_kwh": 1.0,
            }
        ]
        a["shiftable_loads"] = [
            {
                "name": "dyeing_rinse",
                "load": "dyeing_machines",
                "max_fraction": 0.2,
                "max_shift_h": 3,
                "max_extra_kw": 1000,
                "cost_cny_per_kwh": 0.02,
            }
        ]
        a["electrolysers"] = [
            {
                "name": "pem_electrolyser",
                "bus": "f3_utilities",
                "tank": "h2_store",
                "rated_kw": 1000,
                "min_load_fraction": 0.2 if minimums else 0.0,
                "efficiency_curve": [
                    {"load_fraction": 0.2, "kwh_per_kg": 48},
                    {"load_fraction": 1.0, "kwh_per_kg": 53},
                ],
            }
        ]
        a["hydrogen_tanks"] = [
            {
                "name": "h2_store",
                "capacity_kg": 400,
                "standing_loss_fraction_per_hour": 0.0005,
                "value_cny_per_kg": 25,
                "max_offtake_kg_per_h": 15,
            }
        ]
        a["hydrogen_fuel_cells"] = [
            {
                "name": "pem_fuel_cell",
                "bus": "f3_utilities",
                "tank": "h2_store",
                "rated_kw": 300,
                "kwh_per_kg": 16,
            }
        ]
    return load_site_mapping(raw, source=f"{SITE} + flexible loads and hydrogen")


def main() -> None:
    for label, site in (
        ("without flexible loads or hydrogen", _site(False, False)),
        ("with them, LP (no minimums)", _site(True, False)),
        ("with them, MILP (batch and electrolyser minimums)", _site(True, True)),
    ):
        history = load_history(site).frame
        plan(site, forecast_of(site, history, DAYS[0]), default_state(site))  # compile
        total_s, solve_s = [], []
        for day in DAYS:
            t0 = time.perf_counter()
            result = plan(site, forecast_of(site, history, day), default_state(site))
            total_s.append(time.perf_counter() - t0)
            solve_s.append(result.metadata.objective_terms["solve_seconds"])
            status = result.metadata.status.value
        print(
            f"{SITE} {label}: median of {len(DAYS)} days: planning step "
            f"{ms(statistics.median(total_s))}, solve {ms(statistics.median(solve_s))} "
            f"(last status {status})"
        )


if __name__ == "__main__":
    main()
