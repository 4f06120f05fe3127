"""A whole park: identity, grid connection, tariff, targets, assets, network."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from sites.schema.assets import Assets
from sites.schema.base import Name, StrictModel
from sites.schema.network import Network
from sites.schema.tariff import TariffConfig


class Location(StrictModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude_m: float = Field(ge=-500, le=9000)
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as 'Asia/Shanghai'") from None
        return value


SETPOINT_RANGE_PU = (0.9, 1.1)
"""What a grid operator holds a connection point to (beyond it, the park's limits cannot hold)."""


class GridConnection(StrictModel):
    pcc_bus: Name = Field(description="bus of the point of common coupling (external grid)")
    voltage_kv: float = Field(gt=0)
    import_limit_kw: float = Field(gt=0)
    export_limit_kw: float = Field(ge=0)
    contracted_demand_kw: float = Field(gt=0, description="basis of the demand charge")
    voltage_setpoint_pu: float | None = Field(
        default=None,
        description="voltage the external grid holds at the PCC [pu], 0.9 to 1.1; default the "
        "set-point of the pandapower file's external grid at that bus, else 1.0",
    )

    @field_validator("voltage_setpoint_pu")
    @classmethod
    def _setpoint_in_range(cls, value: float | None) -> float | None:
        low, high = SETPOINT_RANGE_PU
        if value is not None and not low <= value <= high:
            raise ValueError(f"must be a voltage set-point from {low} to {high} pu")
        return value


class EmissionFactor(StrictModel):
    kg_co2_per_kwh: float = Field(default=0.6191, ge=0)
    year: int = Field(default=2023, ge=2000, le=2100)
    source: str = (
        "Shandong provincial average grid CO2 emission factor for 2023, published by the "
        "Ministry of Ecology and Environment and the National Bureau of Statistics"
    )


class PolicyTargets(StrictModel):
    """Annual targets as shares of the available renewable generation."""

    min_self_consumption_ratio: float = Field(default=0.60, ge=0, le=1)
    max_export_ratio: float = Field(default=0.20, ge=0, le=1)
    min_renewable_share_of_consumption: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="optional third target: renewable energy used on site as a share of the "
        "park's electricity consumption (used on site + grid import); none by default",
    )


class History(StrictModel):
    """Which benchmark profile each asset's historical year is made from."""

    profiles: dict[Name, str] = Field(
        default={}, description="asset name -> column of the bundled benchmark extract"
    )
    climate_seed: int = 0


_GATE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Site(StrictModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=48)
    name: str
    description: str = ""
    location: Location
    time_step_minutes: int = Field(default=15, ge=15, le=15, description="only 15 is supported")
    day_ahead_gate_time: str = Field(
        default="10:00", description="local clock time the day-ahead plan is committed"
    )
    grid_connection: GridConnection
    tariff: TariffConfig
    grid_emission_factor: EmissionFactor = EmissionFactor()
    policy: PolicyTargets = PolicyTargets()
    assets: Assets
    network: Network
    history: History = History()

    @field_validator("day_ahead_gate_time")
    @classmethod
    def _gate(cls, value: str) -> str:
        if not _GATE.match(value):
            raise ValueError("must be a local clock time HH:MM")
        return value

    @property
    def gate_time(self) -> time:
        hours, minutes = self.day_ahead_gate_time.split(":")
        return time(int(hours), int(minutes))

    def without_storage(self) -> Site:
        """The same park with no battery and no thermal store (a replay's 'no storage'
        baseline; the demo meter's park)."""
        assets = self.assets.model_copy(update={"batteries": [], "thermal_storage": []})
        return self.model_copy(update={"assets": assets})
