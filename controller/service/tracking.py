"""The policy targets tracked from measurements: renewable self-consumption and export ratio
of the year and the month so far, and how much more the park may export this year; with them
the month's demand-charge exposure: the peak import metered so far and the rate per kW.

The ratios are :func:`controller.plans.kpi.compute_kpis`'s, applied to a frame of what the meters
posted: each PV and wind meter's output is the renewable energy available (curtailment is
not metered, so a curtailed kWh counts neither as available nor as used), the connection
point's export meter the export, and each CHP unit's output meter the park's own generation
(counted as exported before any renewable energy, as a plan counts it). The ratios count
only the quarter hours whose export was metered (an interval without an export reading is
not one without export); where no export
was posted over a period, its ratios are unknown (``None``) and ``missing`` names the series,
rather than a 100 % that no meter showed.

The remaining export budget is what may still be exported this year with the year's export
ratio at its limit, on the renewable energy metered so far (in those same quarter hours):
``max_export_ratio * renewable_available_kwh - export_kwh`` (negative: over the limit).
Each kWh of renewable energy generated later in the year raises it by ``max_export_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from controller import columns as pc
from controller.plans.kpi import compute_kpis
from controller.service.store import measurements as measurement_store
from sites import Site, columns
from sites.tariff import site_tariff


@dataclass(frozen=True)
class MeasuredPeriod:
    start: datetime
    end: datetime
    intervals: int
    """Quarter hours of the period so far."""
    intervals_measured: int
    """Of those, quarter hours with a renewable meter reading."""
    intervals_export_metered: int
    """Of those, quarter hours with an export reading: the ratios are over these."""
    renewable_available_kwh: float
    """All renewable meter readings of the period."""
    renewable_available_export_metered_kwh: float
    """Of that, the quarter hours whose export was metered (the ratios' denominator)."""
    renewable_used_on_site_kwh: float | None
    export_kwh: float | None
    self_consumption_ratio: float | None
    export_ratio: float | None
    missing: tuple[str, ...]
    """Series no meter posted in the period, which the ratios need."""
    peak_import_kw: float | None
    """The highest metered 15-minute import of the period (``None``: no import metered); of
    the month so far, the peak the month's demand charge is already billed on."""


@dataclass(frozen=True)
class PolicyTracking:
    site_id: str
    at: datetime
    timezone: str
    min_self_consumption_ratio: float
    max_export_ratio: float
    year_to_date: MeasuredPeriod
    month_to_date: MeasuredPeriod
    remaining_export_budget_kwh: float | None
    """See the module's docstring; ``None`` where the year's export is not metered."""
    demand_charge_cny_per_kw_month: float
    """What each kW of import above the month's peak so far adds to the month's bill."""


def renewable_meters(site: Site) -> list[str]:
    return [columns.pv_kw(x.name) for x in site.assets.pv] + [
        columns.wind_kw(x.name) for x in site.assets.wind
    ]


def measured_period(
    connection: Connection, site: Site, start: pd.Timestamp, end: pd.Timestamp
) -> MeasuredPeriod:
    """The ratios over ``[start, end)`` from the meters' readings (see the module)."""
    meters = renewable_meters(site)
    generators = [columns.chp_kw(c.name) for c in site.assets.chp]
    frame = measurement_store.frame(
        connection,
        site,
        [*meters, *generators, pc.GRID_EXPORT_KW, pc.GRID_IMPORT_KW],
        start.to_pydatetime(),
        end.to_pydatetime(),
    )
    imported = frame[pc.GRID_IMPORT_KW]
    read = frame[meters].notna().any(axis=1) if meters else pd.Series(False, frame.index)
    exported = frame[pc.GRID_EXPORT_KW]
    kpi_frame = pd.DataFrame(index=frame.index)
    for x in site.assets.pv:
        kpi_frame[pc.pv_available_kw(x.name)] = frame[columns.pv_kw(x.name)].fillna(0.0)
    for w in site.assets.wind:
        kpi_frame[pc.wind_available_kw(w.name)] = frame[columns.wind_kw(w.name)].fillna(0.0)
    for name in generators:  # the park's own generation is counted as exported first
        kpi_frame[name] = frame[name].fillna(0.0)
    kpi_frame[pc.GRID_EXPORT_KW] = exported.fillna(0.0)
    metered = exported.notna().to_numpy()
    everything = compute_kpis(site, kpi_frame)
    kpis = compute_kpis(site, kpi_frame.iloc[np.flatnonzero(metered)])
    export_metered = bool(metered.any())
    return MeasuredPeriod(
        start=start.to_pydatetime(),
        end=end.to_pydatetime(),
        intervals=len(frame),
        intervals_measured=int(np.count_nonzero(read)),
        intervals_export_metered=int(np.count_nonzero(metered)),
        renewable_available_kwh=everything.renewable_available_kwh,
        renewable_available_export_metered_kwh=kpis.renewable_available_kwh,
        renewable_used_on_site_kwh=kpis.renewable_used_on_site_kwh if export_metered else None,
        export_kwh=kpis.export_kwh if export_metered else None,
        self_consumption_ratio=kpis.self_consumption_ratio if export_metered else None,
        export_ratio=kpis.export_ratio if export_metered else None,
        missing=() if export_metered else (pc.GRID_EXPORT_KW,),
        peak_import_kw=float(imported.max()) if imported.notna().any() else None,
    )


def policy_tracking(connection: Connection, site: Site, at: datetime) -> PolicyTracking:
    """Year and month to date on the park's own clock, up to the quarter hour ``at`` is in
    (the meters post an interval once it has ended)."""
    zone = site.location.timezone
    end = pd.Timestamp(at).tz_convert(zone).floor("15min")
    year_start = end.normalize().replace(month=1, day=1)
    month_start = end.normalize().replace(day=1)
    year = measured_period(connection, site, year_start, end)
    month = measured_period(connection, site, month_start, end)
    budget = (
        site.policy.max_export_ratio * year.renewable_available_export_metered_kwh - year.export_kwh
        if year.export_kwh is not None
        else None
    )
    return PolicyTracking(
        site_id=site.id,
        at=end.to_pydatetime(),
        timezone=zone,
        min_self_consumption_ratio=site.policy.min_self_consumption_ratio,
        max_export_ratio=site.policy.max_export_ratio,
        year_to_date=year,
        month_to_date=month,
        remaining_export_budget_kwh=budget,
        demand_charge_cny_per_kw_month=site_tariff(site).demand_charge_cny_per_kw_month,
    )
