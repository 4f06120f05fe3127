"""Hydrogen as storage: electrolysers fill tanks, fuel cells draw on them, and hydrogen is
sold or used by the process at a price.

- :class:`Electrolyser`: electricity in, hydrogen out at ``kwh_per_kg`` (at any load) or
  along ``efficiency_curve`` (kWh per kg at a few loads; between them the hydrogen made is
  linear in the power); below ``min_load_fraction`` of its rating it cannot run (on/off
  binaries, as a CHP's minimum stable load).
- :class:`HydrogenTank`: kg stored, a standing loss per hour (leakage, boil-off), and an
  offtake: hydrogen sold or used by the process at ``value_cny_per_kg``, at most
  ``max_offtake_kg_per_h``.
- :class:`HydrogenFuelCell`: hydrogen from its tank to electricity at ``kwh_per_kg``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sites.schema.base import Name, StrictModel

HYDROGEN_LHV_KWH_PER_KG = 33.33
"""Lower heating value of hydrogen: no electrolyser makes a kg with less, no fuel cell gives
more from one."""


class EfficiencyPoint(StrictModel):
    load_fraction: float = Field(gt=0, le=1, description="electric input, share of the rating")
    kwh_per_kg: float = Field(gt=HYDROGEN_LHV_KWH_PER_KG, description="electricity per kg there")


class Electrolyser(StrictModel):
    name: Name
    bus: Name
    tank: Name = Field(description="the hydrogen tank it fills")
    rated_kw: float = Field(gt=0, description="electric input at full load [kW]")
    kwh_per_kg: float | None = Field(
        default=None, gt=HYDROGEN_LHV_KWH_PER_KG, description="electricity per kg at any load"
    )
    efficiency_curve: list[EfficiencyPoint] | None = Field(default=None, min_length=2)
    min_load_fraction: float = Field(
        default=0.0, ge=0, lt=1, description="lowest input when on, share of the rating"
    )
    power_factor: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _efficiency(self) -> Electrolyser:
        if (self.kwh_per_kg is None) == (self.efficiency_curve is None):
            raise ValueError("give exactly one of kwh_per_kg and efficiency_curve")
        curve = self.efficiency_curve
        if curve is None:
            return self
        loads = [p.load_fraction for p in curve]
        if loads != sorted(set(loads)) or loads[-1] != 1.0:
            raise ValueError(
                f"efficiency_curve load_fraction values {loads} must increase strictly and "
                "end at 1.0 (full load)"
            )
        if abs(loads[0] - self.min_load_fraction) > 1e-9 and self.min_load_fraction > 0:
            raise ValueError(
                f"efficiency_curve must start at min_load_fraction={self.min_load_fraction} "
                f"(it starts at {loads[0]})"
            )
        slopes = [b - a for a, b in zip(self.curve_slopes, self.curve_slopes[1:], strict=False)]
        if any(s > 1e-12 for s in slopes):
            raise ValueError(
                "efficiency_curve must make hydrogen at a falling rate as the load rises (kWh "
                "per kg rising with load, as electrolysers do): got kg per kWh of "
                f"{[round(s, 6) for s in self.curve_slopes]} between its points"
            )
        return self

    def curve_points(self) -> list[tuple[float, float]]:
        """(input kW, hydrogen kg/h) at the curve's points, from the first (the minimum load,
        or 0 kW where the unit has none) to full load."""
        if self.efficiency_curve is None:
            assert self.kwh_per_kg is not None
            low = self.min_load_fraction * self.rated_kw
            points = [(low, low / self.kwh_per_kg)] if low > 0 else [(0.0, 0.0)]
            return [*points, (self.rated_kw, self.rated_kw / self.kwh_per_kg)]
        points = [
            (p.load_fraction * self.rated_kw, p.load_fraction * self.rated_kw / p.kwh_per_kg)
            for p in self.efficiency_curve
        ]
        return points if self.min_load_fraction > 0 else [(0.0, 0.0), *points]

    @property
    def curve_slopes(self) -> list[float]:
        """kg per kWh between successive curve points."""
        points = self.curve_points()
        return [
            (m1 - m0) / (p1 - p0) for (p0, m0), (p1, m1) in zip(points, points[1:], strict=False)
        ]

    def hydrogen_kg_per_h(self, power_kw: float) -> float:
        """Hydrogen made at ``power_kw`` of input (0 below the first point)."""
        points = self.curve_points()
        if power_kw <= points[0][0] and points[0][0] > 0:
            return points[0][1] if power_kw >= points[0][0] - 1e-9 else 0.0
        for (p0, m0), (p1, m1) in zip(points, points[1:], strict=False):
            if power_kw <= p1 + 1e-9:
                return m0 + (m1 - m0) * (min(power_kw, p1) - p0) / (p1 - p0)
        return points[-1][1]

    @property
    def needs_commitment(self) -> bool:
        return self.min_load_fraction > 0


class HydrogenTank(StrictModel):
    name: Name
    capacity_kg: float = Field(gt=0)
    standing_loss_fraction_per_hour: float = Field(default=0.0, ge=0, lt=1)
    initial_level_fraction: float = Field(default=0.5, ge=0, le=1)
    value_cny_per_kg: float = Field(
        ge=0, description="what a kg sold or used by the process is worth [CNY]"
    )
    max_offtake_kg_per_h: float = Field(ge=0, description="largest offtake [kg/h]; 0: none")

    @property
    def initial_level_kg(self) -> float:
        """Where a plan, the replay and the plant start it when no state says."""
        return self.capacity_kg * self.initial_level_fraction

    def kept_over(self, hours: float) -> float:
        """Share of the stored hydrogen left after ``hours`` of standing loss (compounded):
        the one definition the planner, its checks, the fallback and the plant use."""
        return float((1.0 - self.standing_loss_fraction_per_hour) ** hours)


class HydrogenFuelCell(StrictModel):
    name: Name
    bus: Name
    tank: Name = Field(description="the hydrogen tank it draws from")
    rated_kw: float = Field(gt=0, description="electric output at full load [kW]")
    kwh_per_kg: float = Field(
        gt=0, lt=HYDROGEN_LHV_KWH_PER_KG, description="electricity out per kg of hydrogen"
    )
