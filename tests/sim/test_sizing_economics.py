"""Sizing economics against hand computations (closed-form annuities, a quadratic IRR)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.sizing.economics import (
    Investment,
    SizingEconomics,
    TechnologyCosts,
    appraise,
    park_with_sizing,
    read_economics,
)
from sites import SiteConfigError
from sites.loader import bundled_site_paths

CNY_TOL = 1e-6  # closed forms against numpy-financial's sums: rounding of a few operations
RATE_TOL = 1e-9


def _annuity(rate: float, years: int) -> float:
    """Present value of 1 CNY a year for ``years`` years, paid at each year's end."""
    return (1 - (1 + rate) ** -years) / rate


def _economics(rate: float, years: int, **battery: float | None) -> SizingEconomics:
    zero = TechnologyCosts()
    return SizingEconomics(
        discount_rate=rate,
        analysis_years=years,
        battery=TechnologyCosts(**battery),  # type: ignore[arg-type]
        thermal=zero,
        pv=zero,
        wind=zero,
    )


def test_npv_with_salvage_of_a_life_longer_than_the_analysis() -> None:
    economics = _economics(0.05, 10, capex_cny_per_kwh=1000, lifetime_years=20)
    found = appraise(economics, [Investment("battery", energy_kwh=100)], 15_000)
    salvage = 100_000 * (20 - 10) / 20  # half the life left at year 10
    npv = -100_000 + 15_000 * _annuity(0.05, 10) + salvage / 1.05**10
    assert found.capex_cny == pytest.approx(100_000)
    assert found.npv_cny == pytest.approx(npv, abs=CNY_TOL)
    assert found.simple_payback_years == pytest.approx(100_000 / 15_000)
    costs = 100_000 - salvage / 1.05**10
    assert found.annualised_cost_cny == pytest.approx(costs / _annuity(0.05, 10), abs=CNY_TOL)


def test_the_battery_is_replaced_when_its_cycles_run_out_before_its_years() -> None:
    economics = _economics(
        0.08,
        10,
        capex_cny_per_kwh=800,
        capex_cny_per_kw=200,
        fixed_om_cny_per_kw_year=10,
        lifetime_years=15,
        lifetime_full_cycles=3000,
        replacement_fraction=0.5,
    )
    item = Investment("battery", 1000, 500, cycles_per_year=500, discharged_kwh_per_year=400_000)
    found = appraise(economics, [item], 120_000)
    capex = 800 * 1000 + 200 * 500
    om = 10 * 500
    # 3000 cycles at 500 a year: a life of 6 years, replaced at year 6 for half the capex;
    # the replacement's life runs to year 12, so 2 of its 6 years are left at year 10
    replacement, salvage = 0.5 * capex, 0.5 * capex * 2 / 6
    pv_costs = capex + om * _annuity(0.08, 10) + replacement / 1.08**6 - salvage / 1.08**10
    assert found.fixed_om_cny_per_year == pytest.approx(om)
    assert found.npv_cny == pytest.approx(120_000 * _annuity(0.08, 10) - pv_costs, abs=CNY_TOL)
    assert found.lcos_battery_cny_per_kwh == pytest.approx(
        pv_costs / (400_000 * _annuity(0.08, 10)), rel=RATE_TOL
    )
    assert found.cash_flows_cny[6] == pytest.approx(120_000 - om - replacement)


def test_irr_of_two_years_is_the_root_of_the_quadratic() -> None:
    economics = _economics(0.05, 2, capex_cny_per_kwh=100, lifetime_years=2)
    found = appraise(economics, [Investment("battery", energy_kwh=1)], 60)
    # 100 = 60 x + 60 x^2 with x = 1 / (1 + irr)
    x = (-60 + math.sqrt(60**2 + 4 * 60 * 100)) / (2 * 60)
    assert found.irr == pytest.approx(1 / x - 1, abs=RATE_TOL)


def test_no_savings_has_no_irr_and_never_pays_back() -> None:
    economics = _economics(
        0.05, 10, capex_cny_per_kwh=1000, fixed_om_cny_per_kwh_year=5, lifetime_years=10
    )
    found = appraise(economics, [Investment("battery", energy_kwh=10)], 0.0)
    assert math.isnan(found.irr)  # every flow negative (no salvage: the life ends at year 10)
    assert found.simple_payback_years == math.inf
    assert found.npv_cny == pytest.approx(-10_000 - 50 * _annuity(0.05, 10), abs=CNY_TOL)


def test_renewables_and_thermal_add_their_capex() -> None:
    economics = SizingEconomics(
        battery=TechnologyCosts(),
        thermal=TechnologyCosts(capex_cny_per_kwh=30),
        pv=TechnologyCosts(capex_cny_per_kw=3000),
        wind=TechnologyCosts(capex_cny_per_kw=5000),
    )
    items = [
        Investment("thermal", energy_kwh=1000),
        Investment("pv", power_kw=100),
        Investment("wind", power_kw=10),
    ]
    assert appraise(economics, items, 0.0).capex_cny == pytest.approx(30_000 + 300_000 + 50_000)


def test_a_sizing_section_of_a_site_file_is_read_and_bad_values_are_named(
    tmp_path: Path,
) -> None:
    good = tmp_path / "park.yaml"
    good.write_text("id: x\nsizing:\n  discount_rate: 0.07\n  analysis_years: 12\n")
    assert read_economics(good).discount_rate == pytest.approx(0.07)
    bad = tmp_path / "sizing.yaml"
    bad.write_text("battery:\n  capex_cny_per_kwh: -5\n")
    with pytest.raises(SiteConfigError, match="battery.capex_cny_per_kwh"):
        read_economics(bad)


def test_a_site_file_with_a_sizing_section_is_a_park_and_its_costs(tmp_path: Path) -> None:
    bundled = Path(bundled_site_paths()["gaotang-solar-textile"]).read_text(encoding="utf-8")
    path = tmp_path / "park.yaml"
    path.write_text(bundled + "\nsizing:\n  discount_rate: 0.08\n", encoding="utf-8")
    park, economics = park_with_sizing(str(path), None, None)
    assert park.site.id == "gaotang-solar-textile"
    assert economics is not None and economics.discount_rate == pytest.approx(0.08)
    assert park_with_sizing("gaotang-solar-textile", None, None)[1] is None
