"""What gas-CHP commitment costs in plan time, on the largest bundled park and on the
bundled park that has a CHP, each measured in one run.

A 6 MWe gas CHP (electric efficiency 0.40, heat 0.45, gas 0.37 CNY/kWh) is added in memory
to chiping-aluminium (the largest park) on its process hot-water demand, once without a
minimum load (plain LP columns) and once with a 50 % minimum stable load and a 2000 CNY
start (96 on/off binaries per day-ahead plan: a MILP, solved by HiGHS branch and bound).
liaocheng-chemical-chp (8 MWe gas turbine, 50 % minimum, 3000 CNY start) is planned as
bundled (MILP) and with the same unit's minimum load and start cost taken away (LP). Each is
planned on the same days with history as the forecast; printed: median whole planning step
and median solve (all stages), and the CHP's run hours and starts. The CHP is a network
element (a static generator at its bus): the network rows and the AC check see it. Not a
test: it prints, it does not assert.
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

SITE = "chiping-aluminium"
CHP_PARK = "liaocheng-chemical-chp"


def _site_with_chp(min_stable_fraction: float, start_cost_cny: float) -> Any:
    raw = yaml.safe_load(bundled_site_paths()[SITE].read_text(encoding="utf-8"))
    demand = raw["assets"]["heat_demands"][0]
    bus = raw["assets"]["electric_loads"][0]["bus"]
    raw["assets"]["chp"] = [
        {
            "name": "gas_chp",
            "bus": bus,
            "supplies": demand["name"],
            "rated_electric_kw": 6000,
            "electric_efficiency": 0.40,
            "heat_efficiency": 0.45,
            "min_stable_fraction": min_stable_fraction,
            "ramp_kw_per_h": 24000,
            "start_cost_cny": start_cost_cny,
            "fuel_price_cny_per_kwh": 0.37,
            "emission_factor_kg_per_kwh_fuel": 0.202,
        }
    ]
    return load_site_mapping(raw, source=f"{SITE} + gas CHP")


def _bundled_chp_park(committed: bool) -> Any:
    raw = yaml.safe_load(bundled_site_paths()[CHP_PARK].read_text(encoding="utf-8"))
    if not committed:
        for unit in raw["assets"]["chp"]:
            unit.update(min_stable_fraction=0.0, start_cost_cny=0.0)
    return load_site_mapping(raw, source=f"{CHP_PARK}{'' if committed else ' as LP'}")


def main() -> None:
    for label, site in (
        ("LP (CHP without minimum load)", _site_with_chp(0.0, 0.0)),
        ("MILP (50 % minimum, 2000 CNY start)", _site_with_chp(0.5, 2000.0)),
        ("LP (its CHP without minimum load or start cost)", _bundled_chp_park(False)),
        ("MILP (as bundled: 50 % minimum, 3000 CNY start)", _bundled_chp_park(True)),
    ):
        history = load_history(site).frame
        plan(site, forecast_of(site, history, DAYS[0]), default_state(site))  # compile
        total_s, solve_s, hours, starts = [], [], [], []
        for day in DAYS:
            t0 = time.perf_counter()
            result = plan(site, forecast_of(site, history, day), default_state(site))
            total_s.append(time.perf_counter() - t0)
            solve_s.append(result.metadata.objective_terms["solve_seconds"])
            hours.append(result.kpis.chp_run_hours)
            starts.append(result.kpis.chp_starts)
            status = result.metadata.status.value
        print(
            f"{site.id} {label}: median of {len(DAYS)} days: planning step "
            f"{ms(statistics.median(total_s))}, solve {ms(statistics.median(solve_s))}; "
            f"CHP runs {statistics.mean(hours):.1f} h/day, {statistics.mean(starts):.1f} "
            f"starts/day (last status {status})"
        )


if __name__ == "__main__":
    main()
