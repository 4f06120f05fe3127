"""The park's internal electrical network: either described here or a pandapower JSON file."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sites.schema.base import Name, StrictModel


class Bus(StrictModel):
    name: Name
    vn_kv: float = Field(gt=0)


class Line(StrictModel):
    """A line by pandapower standard type or by explicit per-km parameters."""

    name: Name
    from_bus: Name
    to_bus: Name
    length_km: float = Field(gt=0)
    std_type: str | None = None
    r_ohm_per_km: float | None = Field(default=None, ge=0)
    x_ohm_per_km: float | None = Field(default=None, ge=0)
    c_nf_per_km: float | None = Field(default=None, ge=0)
    max_i_ka: float | None = Field(default=None, gt=0)
    parallel: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _type_or_parameters(self) -> Line:
        explicit = (self.r_ohm_per_km, self.x_ohm_per_km, self.c_nf_per_km, self.max_i_ka)
        if self.std_type is None and any(v is None for v in explicit):
            raise ValueError(
                "give std_type or all of r_ohm_per_km, x_ohm_per_km, c_nf_per_km, max_i_ka"
            )
        if self.std_type is not None and any(v is not None for v in explicit):
            raise ValueError("give std_type or explicit parameters, not both")
        if self.from_bus == self.to_bus:
            raise ValueError(f"from_bus and to_bus are both '{self.from_bus}'")
        return self


class Transformer(StrictModel):
    """A two-winding transformer by pandapower standard type or explicit parameters."""

    name: Name
    hv_bus: Name
    lv_bus: Name
    std_type: str | None = None
    sn_mva: float | None = Field(default=None, gt=0)
    vn_hv_kv: float | None = Field(default=None, gt=0)
    vn_lv_kv: float | None = Field(default=None, gt=0)
    vk_percent: float | None = Field(default=None, gt=0)
    vkr_percent: float | None = Field(default=None, ge=0)
    pfe_kw: float = Field(default=0.0, ge=0)
    i0_percent: float = Field(default=0.0, ge=0)
    parallel: int = Field(default=1, ge=1)
    tap_pos: int | None = Field(
        default=None,
        description="tap position in service; default the neutral position (a standard type's "
        "tap_neutral, or tap_neutral given here)",
    )
    tap_side: Literal["hv", "lv"] | None = Field(
        default=None, description="winding of the tap changer (explicit parameters only)"
    )
    tap_neutral: int | None = None
    tap_min: int | None = None
    tap_max: int | None = None
    tap_step_percent: float | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _type_or_parameters(self) -> Transformer:
        explicit = (self.sn_mva, self.vn_hv_kv, self.vn_lv_kv, self.vk_percent, self.vkr_percent)
        if self.std_type is None and any(v is None for v in explicit):
            raise ValueError(
                "give std_type or all of sn_mva, vn_hv_kv, vn_lv_kv, vk_percent, vkr_percent"
            )
        if self.std_type is not None and any(v is not None for v in explicit):
            raise ValueError("give std_type or explicit parameters, not both")
        self._check_taps()
        return self

    @property
    def tap_changer(self) -> dict[str, object]:
        """The explicit tap changer's fields as pandapower takes them (empty if none)."""
        if self.tap_side is None:
            return {}
        return {
            "tap_side": self.tap_side,
            "tap_neutral": self.tap_neutral,
            "tap_min": self.tap_min,
            "tap_max": self.tap_max,
            "tap_step_percent": self.tap_step_percent,
            "tap_changer_type": "Ratio",
        }

    def _check_taps(self) -> None:
        fields = {
            "tap_side": self.tap_side,
            "tap_neutral": self.tap_neutral,
            "tap_min": self.tap_min,
            "tap_max": self.tap_max,
            "tap_step_percent": self.tap_step_percent,
        }
        given = [k for k, v in fields.items() if v is not None]
        if self.std_type is not None and given:
            raise ValueError(
                f"{', '.join(given)}: a standard type brings its own tap changer; give only "
                "tap_pos with std_type"
            )
        if given and len(given) < len(fields):
            missing = [k for k in fields if k not in given]
            raise ValueError(
                f"a tap changer needs all of {', '.join(fields)}; missing {', '.join(missing)}"
            )
        if self.tap_min is not None and self.tap_max is not None:
            assert self.tap_neutral is not None
            if not self.tap_min <= self.tap_neutral <= self.tap_max:
                raise ValueError(
                    f"tap_neutral={self.tap_neutral} must lie in tap_min..tap_max = "
                    f"{self.tap_min}..{self.tap_max}"
                )
            if self.tap_pos is not None and not self.tap_min <= self.tap_pos <= self.tap_max:
                raise ValueError(
                    f"tap_pos={self.tap_pos} must lie in tap_min..tap_max = "
                    f"{self.tap_min}..{self.tap_max}"
                )
        if self.tap_pos is not None and self.std_type is None and not given:
            raise ValueError(
                f"tap_pos={self.tap_pos} needs a tap changer: give tap_side, tap_neutral, "
                "tap_min, tap_max and tap_step_percent (or a std_type that has one)"
            )


class VoltageLevel(StrictModel):
    """Voltage limits of the buses of one voltage level: an exact nominal voltage
    (``vn_kv``) or a half-open range ``vn_kv_min <= vn_kv < vn_kv_max`` (either end open)."""

    vn_kv: float | None = Field(default=None, gt=0)
    vn_kv_min: float | None = Field(default=None, ge=0)
    vn_kv_max: float | None = Field(default=None, gt=0)
    vm_min_pu: float = Field(gt=0.5, lt=1.0)
    vm_max_pu: float = Field(gt=1.0, lt=1.5)

    @model_validator(mode="after")
    def _exact_or_range(self) -> VoltageLevel:
        ranged = self.vn_kv_min is not None or self.vn_kv_max is not None
        if self.vn_kv is not None and ranged:
            raise ValueError("give vn_kv (one level) or vn_kv_min/vn_kv_max (a range), not both")
        if self.vn_kv is None and not ranged:
            raise ValueError("give vn_kv (one level) or vn_kv_min and/or vn_kv_max (a range)")
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"vn_kv_min={low} must be below vn_kv_max={high}")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """[low, high) in kV; an exact level is a range of its own rounding."""
        if self.vn_kv is not None:
            return self.vn_kv * (1 - _EXACT_KV_RTOL), self.vn_kv * (1 + _EXACT_KV_RTOL)
        low = self.vn_kv_min if self.vn_kv_min is not None else 0.0
        high = self.vn_kv_max if self.vn_kv_max is not None else math.inf
        return low, high

    def covers(self, vn_kv: float) -> bool:
        low, high = self.bounds
        return low <= vn_kv < high

    def describe(self) -> str:
        if self.vn_kv is not None:
            return f"vn_kv = {self.vn_kv:g}"
        low, high = self.bounds
        text = f"{low:g} <= vn_kv" if self.vn_kv_min is not None else "vn_kv"
        return text + (f" < {high:g}" if self.vn_kv_max is not None else "")


_EXACT_KV_RTOL = 1e-6  # an exact level matches a bus's vn_kv to float round-off


class NetworkLimits(StrictModel):
    """Operating limits the plan and the verification hold the network to."""

    vm_min_pu: float = Field(default=0.93, gt=0.5, lt=1.0, description="GB/T 12325: 10 kV -7 %")
    vm_max_pu: float = Field(default=1.07, gt=1.0, lt=1.5, description="GB/T 12325: 10 kV +7 %")
    max_line_loading_percent: float = Field(default=100.0, gt=0, le=200)
    max_trafo_loading_percent: float = Field(default=100.0, gt=0, le=200)
    voltage_levels: list[VoltageLevel] = Field(
        default=[],
        description="limits per voltage level (GB/T 12325: 35 kV and above, 10 kV, 0.4 kV); "
        "when given, every bus's vn_kv must fall in exactly one level, and vm_min_pu / "
        "vm_max_pu above are not used",
    )

    @field_validator("voltage_levels")
    @classmethod
    def _no_overlap(cls, levels: list[VoltageLevel]) -> list[VoltageLevel]:
        for i, a in enumerate(levels):
            for j in range(i):
                b = levels[j]
                (a_low, a_high), (b_low, b_high) = a.bounds, b.bounds
                if a_low < b_high and b_low < a_high:
                    raise ValueError(
                        f"levels [{j}] ({b.describe()}) and [{i}] ({a.describe()}) overlap: "
                        "each nominal voltage must fall in one level (ranges are "
                        "vn_kv_min <= vn_kv < vn_kv_max)"
                    )
        return levels

    def for_voltage(self, vn_kv: float) -> tuple[float, float]:
        """(vm_min_pu, vm_max_pu) of a bus of nominal voltage ``vn_kv``: its level's, or the
        network-wide pair when no level covers it (the site check reports that case)."""
        for level in self.voltage_levels:
            if level.covers(vn_kv):
                return level.vm_min_pu, level.vm_max_pu
        return self.vm_min_pu, self.vm_max_pu


class Network(StrictModel):
    """Buses, lines and transformers given here, or ``pandapower_file`` with ``bus_map``.

    With a pandapower file, site bus names map to the file's buses: by ``bus_map``
    (site name -> pandapower bus index) where given, else by the file's bus ``name``.
    """

    buses: list[Bus] = []
    lines: list[Line] = []
    transformers: list[Transformer] = []
    pandapower_file: str | None = Field(
        default=None, description="path of a pandapower JSON network, relative to the site file"
    )
    bus_map: dict[Name, int] = {}
    transformer_taps: dict[Name, int] = Field(
        default={},
        description="pandapower file only: tap position per transformer, by the site's name of "
        "it (the file's name written as a site name, e.g. 'T 1' is t_1); others keep the file's",
    )
    limits: NetworkLimits = NetworkLimits()

    @model_validator(mode="after")
    def _one_description(self) -> Network:
        described = bool(self.buses or self.lines or self.transformers)
        if self.pandapower_file is not None and described:
            raise ValueError("give buses/lines/transformers or pandapower_file, not both")
        if self.pandapower_file is None and not self.buses:
            raise ValueError("give buses (with lines and transformers) or a pandapower_file")
        if self.bus_map and self.pandapower_file is None:
            raise ValueError("bus_map applies only with pandapower_file")
        if self.transformer_taps and self.pandapower_file is None:
            raise ValueError(
                "transformer_taps applies only with pandapower_file; a described transformer "
                "takes tap_pos itself"
            )
        return self
