"""Flexible process loads: the demand side the plan can move (电力需求侧管理).

- :class:`BatchLoad`: one batch a day (a melt, a dyeing batch) that must receive
  ``energy_kwh`` between ``window_start_hour`` and ``window_end_hour`` (the site's local
  clock), at most ``max_kw``, and at least ``min_kw`` in every interval it runs; the plan
  says when it runs. It is a load of its own, on its bus, beside the park's forecast loads.
- :class:`CurtailableLoad`: up to ``max_fraction`` of an electric load's forecast may be
  shed, each kWh at ``cost_cny_per_kwh`` (the production it loses).
- :class:`ShiftableLoad`: up to ``max_fraction`` of an electric load's forecast may move
  earlier or later by at most ``max_shift_h`` hours; the energy is conserved (what is
  deferred is made up, what is advanced is taken off, within that time), and catching up
  may draw at most ``max_extra_kw`` above the forecast.

Curtailable and shiftable parts are shares of a declared electric load (its forecast and
its bus); the shares on one load add up to at most 1 (:mod:`sites.references` checks).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sites.schema.base import Name, StrictModel

INTERVAL_H = 0.25
"""The plan's interval: windows and shifts are whole numbers of it."""


def _on_grid(hours: float) -> bool:
    return abs(hours / INTERVAL_H - round(hours / INTERVAL_H)) < 1e-9


class BatchLoad(StrictModel):
    name: Name
    bus: Name
    energy_kwh: float = Field(gt=0, description="energy one batch needs [kWh]")
    max_kw: float = Field(gt=0, description="highest draw while it runs [kW]")
    min_kw: float = Field(
        default=0.0, ge=0, description="lowest draw while it runs [kW]; above 0: on/off binaries"
    )
    window_start_hour: float = Field(ge=0, lt=24, description="earliest start, local clock [h]")
    window_end_hour: float = Field(gt=0, le=24, description="latest end, local clock [h]")
    power_factor: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _window(self) -> BatchLoad:
        for field in ("window_start_hour", "window_end_hour"):
            value = getattr(self, field)
            if not _on_grid(value):
                raise ValueError(
                    f"{field}={value} must be a whole number of 15-minute intervals "
                    "(a multiple of 0.25)"
                )
        if self.window_start_hour >= self.window_end_hour:
            raise ValueError(
                f"window_start_hour={self.window_start_hour} must be before window_end_hour="
                f"{self.window_end_hour} (a window within one day; split one across midnight)"
            )
        if self.min_kw > self.max_kw:
            raise ValueError(f"min_kw={self.min_kw} must be at most max_kw={self.max_kw}")
        most = self.max_kw * self.window_hours
        if self.energy_kwh > most + 1e-9:
            raise ValueError(
                f"energy_kwh={self.energy_kwh} does not fit its window: at most max_kw x "
                f"window = {self.max_kw:g} x {self.window_hours:g} h = {most:g} kWh"
            )
        return self

    @property
    def window_hours(self) -> float:
        return self.window_end_hour - self.window_start_hour

    @property
    def needs_commitment(self) -> bool:
        """A minimum draw while running makes on/off a binary decision."""
        return self.min_kw > 0


class CurtailableLoad(StrictModel):
    name: Name
    load: Name = Field(description="the electric load a share of which may be shed")
    max_fraction: float = Field(gt=0, le=1, description="largest share of the load shed")
    cost_cny_per_kwh: float = Field(ge=0, description="what a kWh shed costs (lost output)")


class ShiftableLoad(StrictModel):
    name: Name
    load: Name = Field(description="the electric load a share of which may move")
    max_fraction: float = Field(gt=0, le=1, description="largest share of the load moved")
    max_shift_h: float = Field(gt=0, le=24, description="how far energy may move [h]")
    max_extra_kw: float = Field(gt=0, description="largest draw above the forecast [kW]")
    cost_cny_per_kwh: float = Field(
        default=0.0, ge=0, description="what moving a kWh costs (handling, labour)"
    )

    @model_validator(mode="after")
    def _shift(self) -> ShiftableLoad:
        if not _on_grid(self.max_shift_h):
            raise ValueError(
                f"max_shift_h={self.max_shift_h} must be a whole number of 15-minute "
                "intervals (a multiple of 0.25)"
            )
        return self

    @property
    def shift_steps(self) -> int:
        return round(self.max_shift_h / INTERVAL_H)
