"""Economics of a sizing candidate: what it costs to build and keep, and what it saves.

Read from a sizing file (YAML) or the ``sizing:`` section of a site file::

    discount_rate: 0.06        # real, per year
    analysis_years: 15
    battery:   {capex_cny_per_kwh: 900, capex_cny_per_kw: 300, fixed_om_cny_per_kw_year: 15,
                lifetime_years: 12, lifetime_full_cycles: 6000, replacement_fraction: 0.6}
    thermal:   {capex_cny_per_kwh: 30, fixed_om_cny_per_kwh_year: 0.3, lifetime_years: 25}
    pv:        {capex_cny_per_kw: 3000, fixed_om_cny_per_kw_year: 40, lifetime_years: 25}
    wind:      {capex_cny_per_kw: 5000, fixed_om_cny_per_kw_year: 120, lifetime_years: 20}

(``thermal`` per kWh_th.) Cash flows per year, with year 0 the build:

- year 0: minus the capital cost (storage at its size; PV and wind only for what is added
  beyond the park's present capacity);
- years 1..N: the annual savings against the reference, minus fixed O&M, minus each
  replacement falling in that year, plus in year N the salvage value;
- a technology's life is its lifetime in years, for the battery also its lifetime in full
  cycles divided by the cycles it made per year, whichever ends first; it is replaced
  (``replacement_fraction`` of its capital cost) at the end of each life that ends before
  year N; the salvage value is the replaced (or original) capital cost times the share of
  the last life still left at year N (straight line).

From them (numpy-financial): NPV at the discount rate, IRR where the flows have one, simple
payback (capital cost / (annual savings - O&M)), the annualised cost (the level annual
payment of the present value of every cost: capital, O&M, replacements, less salvage) and the
levelised cost of storage per technology (present value of its costs / present value of the
energy it discharged, the year's discharge each year).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy_financial as npf
import pandas as pd
import yaml
from pydantic import Field, ValidationError

from controller import billing_months
from sites import ConfigProblem, DataError, SiteConfigError
from sites.loader import bundled_site_paths, load_site_mapping
from sites.park import Park, open_park
from sites.schema.base import StrictModel
from sites.time_step import HOURS_PER_STEP

TECHNOLOGIES = ("battery", "thermal", "pv", "wind")
DAYS_PER_YEAR = 365.0
MONTHS_PER_YEAR = 12.0


@dataclass(frozen=True)
class Annualisation:
    """How a period's costs scale to a year.

    Energy, fuel, degradation, export and deviation accrue with time: x 365 / the period's
    days. The demand charge does not: each calendar month the period touches is billed whole
    on its own peak (:func:`controller.kpi.demand_charge_cny`), so a week inside one month
    carries a whole month's charge, and a year has 12 of them: x 12 / the billing months
    touched. (Scaled by 365 / days as well, a week's demand charge would count 52 times a
    year.)"""

    energy: float
    demand: float

    @staticmethod
    def of(index: pd.DatetimeIndex, hours_per_step: float = HOURS_PER_STEP) -> Annualisation:
        """Of the intervals of ``index``, each ``hours_per_step`` long."""
        days = len(index) * hours_per_step / 24.0
        months = len(billing_months(index).unique())
        return Annualisation(DAYS_PER_YEAR / days, MONTHS_PER_YEAR / months)

    @staticmethod
    def between(start: pd.Timestamp, end: pd.Timestamp) -> Annualisation:
        """Of the 15-minute intervals of [start, end)."""
        index = pd.date_range(start, end, freq="15min", inclusive="left")
        return Annualisation.of(pd.DatetimeIndex(index))

    def cost(self, total_cny: float, demand_charge_cny: float) -> float:
        """A year's cost from the period's total and its demand-charge part."""
        return (total_cny - demand_charge_cny) * self.energy + demand_charge_cny * self.demand


class TechnologyCosts(StrictModel):
    capex_cny_per_kwh: float = Field(default=0.0, ge=0, description="per kWh (kWh_th) of energy")
    capex_cny_per_kw: float = Field(default=0.0, ge=0, description="per kW of power (kWp of PV)")
    fixed_om_cny_per_kwh_year: float = Field(default=0.0, ge=0)
    fixed_om_cny_per_kw_year: float = Field(default=0.0, ge=0)
    lifetime_years: float = Field(default=20.0, gt=0)
    lifetime_full_cycles: float | None = Field(
        default=None, gt=0, description="battery only: equivalent full cycles before replacement"
    )
    replacement_fraction: float = Field(
        default=1.0, ge=0, description="cost of a replacement as a share of the capital cost"
    )


class SizingEconomics(StrictModel):
    discount_rate: float = Field(default=0.06, gt=-1, lt=1)
    analysis_years: int = Field(default=15, ge=1, le=60)
    battery: TechnologyCosts = TechnologyCosts(
        capex_cny_per_kwh=900,
        capex_cny_per_kw=300,
        fixed_om_cny_per_kw_year=15,
        lifetime_years=12,
        lifetime_full_cycles=6000,
        replacement_fraction=0.6,
    )
    thermal: TechnologyCosts = TechnologyCosts(
        capex_cny_per_kwh=30, fixed_om_cny_per_kwh_year=0.3, lifetime_years=25
    )
    pv: TechnologyCosts = TechnologyCosts(
        capex_cny_per_kw=3000, fixed_om_cny_per_kw_year=40, lifetime_years=25
    )
    wind: TechnologyCosts = TechnologyCosts(
        capex_cny_per_kw=5000, fixed_om_cny_per_kw_year=120, lifetime_years=20
    )


def load_economics(raw: Any, source: str) -> SizingEconomics:
    """Check a sizing mapping; every problem names its field, value and what is accepted."""
    try:
        return SizingEconomics.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise SiteConfigError(
            [
                ConfigProblem(
                    source,
                    ".".join(str(p) for p in err["loc"]) or "(document)",
                    err.get("input"),
                    err["msg"],
                )
                for err in exc.errors()
            ]
        ) from None


def read_economics(path: Path) -> SizingEconomics:
    """A sizing file, or a site file's ``sizing:`` section (a file with a ``sizing`` key)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SiteConfigError(
            [ConfigProblem(str(path), "(file)", str(path), f"must be a readable YAML file ({exc})")]
        ) from None
    if isinstance(raw, dict) and "sizing" in raw:
        return load_economics(raw["sizing"], f"{path}: sizing")
    return load_economics(raw, str(path))


@dataclass(frozen=True)
class Investment:
    """One technology of a candidate: its size and what it did in the replayed year."""

    technology: str
    energy_kwh: float = 0.0
    power_kw: float = 0.0
    cycles_per_year: float = 0.0
    discharged_kwh_per_year: float = 0.0


@dataclass(frozen=True)
class Appraisal:
    capex_cny: float
    fixed_om_cny_per_year: float
    annual_savings_cny: float
    npv_cny: float
    irr: float
    """NaN where the cash flows have no internal rate of return."""
    simple_payback_years: float
    """inf where the savings do not cover the O&M."""
    annualised_cost_cny: float
    lcos_battery_cny_per_kwh: float
    lcos_thermal_cny_per_kwh_th: float
    cash_flows_cny: tuple[float, ...]

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in vars(self).items() if k != "cash_flows_cny"}


def _cost_flows(
    costs: TechnologyCosts, item: Investment, years: int
) -> tuple[float, float, np.ndarray]:
    """(capital cost, fixed O&M per year, cost flows of years 0..N: capex, O&M,
    replacements, minus salvage)."""
    capex = costs.capex_cny_per_kwh * item.energy_kwh + costs.capex_cny_per_kw * item.power_kw
    om = costs.fixed_om_cny_per_kwh_year * item.energy_kwh + costs.fixed_om_cny_per_kw_year * (
        item.power_kw
    )
    flows = np.zeros(years + 1)
    if capex == 0 and om == 0:
        return 0.0, 0.0, flows
    flows[0] = capex
    flows[1:] += om
    life = costs.lifetime_years
    if costs.lifetime_full_cycles is not None and item.cycles_per_year > 0:
        life = min(life, costs.lifetime_full_cycles / item.cycles_per_year)
    replacement = capex * costs.replacement_fraction
    last_cost, last_start = capex, 0.0
    k = 1
    while k * life < years:
        year = int(np.ceil(k * life - 1e-9))
        flows[year] += replacement
        last_cost, last_start = replacement, k * life
        k += 1
    left = max(last_start + life - years, 0.0) / life
    flows[years] -= last_cost * left
    return capex, om, flows


def appraise(
    economics: SizingEconomics, investments: list[Investment], annual_savings_cny: float
) -> Appraisal:
    """The candidate's NPV, IRR, payback, annualised cost and LCOS (see the module)."""
    n, rate = economics.analysis_years, economics.discount_rate
    capex = om = 0.0
    cost_flows = np.zeros(n + 1)
    lcos: dict[str, float] = {"battery": float("nan"), "thermal": float("nan")}
    for item in investments:
        c, o, flows = _cost_flows(getattr(economics, item.technology), item, n)
        capex, om = capex + c, om + o
        cost_flows += flows
        if item.technology in lcos and item.discharged_kwh_per_year > 0:
            energy = np.full(n + 1, item.discharged_kwh_per_year)
            energy[0] = 0.0
            lcos[item.technology] = float(npf.npv(rate, flows) / npf.npv(rate, energy))
    savings = np.full(n + 1, annual_savings_cny)
    savings[0] = 0.0
    cash = savings - cost_flows
    npv = float(npf.npv(rate, cash))
    irr = float(npf.irr(cash)) if capex > 0 else float("nan")
    net = annual_savings_cny - om
    payback = capex / net if net > 0 else float("inf")
    annualised = float(-npf.pmt(rate, n, npf.npv(rate, cost_flows)))
    return Appraisal(
        capex_cny=capex,
        fixed_om_cny_per_year=om,
        annual_savings_cny=annual_savings_cny,
        npv_cny=npv,
        irr=irr,
        simple_payback_years=payback,
        annualised_cost_cny=annualised,
        lcos_battery_cny_per_kwh=lcos["battery"],
        lcos_thermal_cny_per_kwh_th=lcos["thermal"],
        cash_flows_cny=tuple(float(x) for x in cash),
    )


def park_with_sizing(
    reference: str, history: Path | None, timezone: str | None
) -> tuple[Park, SizingEconomics | None]:
    """The park a command names (:func:`sites.park.open_park`), where a site file may also
    hold a ``sizing:`` section (read here, and taken out of the site before it is checked)."""
    path = Path(reference)
    if reference not in bundled_site_paths() and path.suffix.lower() in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            raw = None  # open_park below reports the file's problem
        if isinstance(raw, dict) and "sizing" in raw:
            economics = load_economics(raw.pop("sizing"), f"{path}: sizing")
            if history is not None and not history.is_file():
                raise DataError(f"--history: got {str(history)!r}; it must be an existing file")
            site = load_site_mapping(raw, source=str(path), base_dir=path.parent)
            return Park(site, str(path), history, timezone), economics
    return open_park(reference, history, timezone), None
