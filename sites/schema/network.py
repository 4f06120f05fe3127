"""The park's internal electrical network: either described here or a pandapower JSON file."""

from __future__ import annotations

from pydantic import Field, model_validator

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

    @model_validator(mode="after")
    def _type_or_parameters(self) -> Transformer:
        explicit = (self.sn_mva, self.vn_hv_kv, self.vn_lv_kv, self.vk_percent, self.vkr_percent)
        if self.std_type is None and any(v is None for v in explicit):
            raise ValueError(
                "give std_type or all of sn_mva, vn_hv_kv, vn_lv_kv, vk_percent, vkr_percent"
            )
        if self.std_type is not None and any(v is not None for v in explicit):
            raise ValueError("give std_type or explicit parameters, not both")
        return self


class NetworkLimits(StrictModel):
    """Operating limits the plan and the verification hold the network to."""

    vm_min_pu: float = Field(default=0.93, gt=0.5, lt=1.0, description="GB/T 12325: 10 kV -7 %")
    vm_max_pu: float = Field(default=1.07, gt=1.0, lt=1.5, description="GB/T 12325: 10 kV +7 %")
    max_line_loading_percent: float = Field(default=100.0, gt=0, le=200)
    max_trafo_loading_percent: float = Field(default=100.0, gt=0, le=200)


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
        return self
