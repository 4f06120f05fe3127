"""Figures of merit of a comparison: how far each policy's cost is from the bound, and what
share of the storage's value it captured, over the period and per billing month.

- regret = the policy's total cost - the bound's (perfect foresight);
- share of perfect = the bound's total cost / the policy's (1 = as cheap as the bound);
- storage value = the no-storage park's total cost - the bound's; the share of it captured
  = (no-storage cost - the policy's cost) / storage value (1 = all of it, 0 = no better than
  having no storage, negative = worse).

Costs are the KPIs' total costs (:func:`controller.plans.kpi.compute_kpis`: the demand charge billed
per calendar month, deviation and lost production included). A month's figures come from the
KPIs of that month's intervals alone, which bill that month's own peak.

Where the regret is: :func:`regret_by_component` splits each policy's regret into the parts
of the total cost (energy, demand charge, degradation, fuel, export revenue, deviation from the
committed schedule, lost production), so that what forecast error costs through the schedule
is told apart from what the decisions cost. The bound commits its own plan and follows it, so
its deviation is 0: a policy's deviation is regret that only better forecasts remove.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from controller import billing_months, compute_kpis
from sim.replay import ReplayResult
from sites import Site

BOUND = "perfect"
NO_STORAGE = "no-storage"


def figures(costs: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per policy (run name -> total cost; the bound and no-storage among them where run):
    regret, share of perfect and share of the storage value captured (NaN where a reference
    is missing)."""
    bound = costs.get(BOUND, float("nan"))
    bare = costs.get(NO_STORAGE, float("nan"))
    value = bare - bound
    out = {}
    for name, cost in costs.items():
        out[name] = {
            "total_cost_cny": cost,
            "regret_cny": cost - bound,
            "regret_percent": 100.0 * (cost - bound) / abs(bound) if bound else float("nan"),
            "share_of_perfect": bound / cost if cost else float("nan"),
            "storage_value_captured": (bare - cost) / value if value else float("nan"),
        }
    return out


COST_COMPONENTS = {
    "energy_cost_cny": 1.0,
    "demand_charge_cny": 1.0,
    "degradation_cost_cny": 1.0,
    "fuel_cost_cny": 1.0,
    "export_revenue_cny": -1.0,
    "deviation_cost_cny": 1.0,
    "lost_production_cny": 1.0,
}
"""The parts of :attr:`controller.plans.kpi.Kpis.total_cost_cny`, each with its sign in the
total."""


def regret_by_component(results: Mapping[str, ReplayResult]) -> pd.DataFrame:
    """Each policy's regret (rows: the cost components and ``regret_cny``, their sum; columns:
    run name) against the bound, per part of the total cost; empty without the bound."""
    if BOUND not in results:
        return pd.DataFrame()
    bound = results[BOUND].kpis.as_dict()
    data = {}
    for name, r in results.items():
        kpis = r.kpis.as_dict()
        parts = {
            c: sign * (np.nan_to_num(kpis[c]) - np.nan_to_num(bound[c]))
            for c, sign in COST_COMPONENTS.items()
        }
        data[name] = {**parts, "regret_cny": sum(parts.values())}
    return pd.DataFrame(data)


def merit_table(results: Mapping[str, ReplayResult]) -> pd.DataFrame:
    """One column per run name, one row per figure, over the whole period; with the bound,
    the regret's parts too (``regret_of_<component>``, see :func:`regret_by_component`)."""
    found = pd.DataFrame(figures({name: r.kpis.total_cost_cny for name, r in results.items()}))
    parts = regret_by_component(results).drop(index="regret_cny", errors="ignore")
    return pd.concat([found, parts.rename(index=lambda c: f"regret_of_{c}")])


def monthly_costs(site: Site, results: Mapping[str, ReplayResult]) -> pd.DataFrame:
    """Total cost per calendar month (rows, ``YYYY-MM``) and run name (columns)."""
    data = {}
    for name, r in results.items():
        months = billing_months(pd.DatetimeIndex(r.frame.index))
        data[name] = {
            str(month): compute_kpis(
                site, r.frame.iloc[np.flatnonzero(months == month)]
            ).total_cost_cny
            for month in months.unique()
        }
    return pd.DataFrame(data)


def monthly_storage_value_captured(monthly: pd.DataFrame) -> pd.DataFrame:
    """Share of each month's storage value captured, per policy (rows months)."""
    rows = {
        str(month): figures({str(k): float(v) for k, v in row.items()})
        for month, row in monthly.iterrows()
    }
    return pd.DataFrame(
        {
            month: {name: f["storage_value_captured"] for name, f in found.items()}
            for month, found in rows.items()
        }
    ).T
