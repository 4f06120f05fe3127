"""Assets of a park: generation, storage, conversion, demand.

Ratings are in kW (electric) or kW_th (heat), energies in kWh / kWh_th, temperatures in degC.
Intra-asset rules (a SoC window that is a window) are checked here; references between
assets and to the network are checked in :mod:`sites.references`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from sites.schema.base import Name, StrictModel
from sites.schema.flexible import BatchLoad, CurtailableLoad, ShiftableLoad
from sites.schema.hydrogen import Electrolyser, HydrogenFuelCell, HydrogenTank

AMBIENT = "ambient"
"""Heat-pump source name meaning outdoor air."""


class PVArray(StrictModel):
    name: Name
    bus: Name
    peak_kw: float = Field(gt=0, description="DC peak power [kWp]")
    tilt_deg: float = Field(ge=0, le=90)
    azimuth_deg: float = Field(ge=0, lt=360, description="180 = south")
    inverter_kva: float = Field(gt=0)


class PowerCurvePoint(StrictModel):
    wind_speed_m_per_s: float = Field(ge=0)
    power_kw: float = Field(ge=0)


class WindTurbine(StrictModel):
    name: Name
    bus: Name
    turbine_type: str | None = Field(
        default=None, description="a type in windpowerlib's turbine library, e.g. 'E-115/3200'"
    )
    power_curve: list[PowerCurvePoint] | None = Field(default=None, min_length=2)
    rated_kw: float = Field(gt=0, description="rated power of one turbine [kW]")
    hub_height_m: float = Field(gt=0)
    count: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_curve_source(self) -> WindTurbine:
        if (self.turbine_type is None) == (self.power_curve is None):
            raise ValueError("give exactly one of turbine_type and power_curve")
        if self.power_curve is not None:
            speeds = [p.wind_speed_m_per_s for p in self.power_curve]
            if speeds != sorted(set(speeds)):
                raise ValueError("power_curve wind speeds must be strictly increasing")
        return self

    @property
    def total_rated_kw(self) -> float:
        return self.rated_kw * self.count


class Battery(StrictModel):
    name: Name
    bus: Name
    capacity_kwh: float = Field(gt=0)
    charge_kw: float = Field(gt=0)
    discharge_kw: float = Field(gt=0)
    charge_efficiency: float = Field(gt=0, le=1)
    discharge_efficiency: float = Field(gt=0, le=1)
    soc_min_fraction: float = Field(ge=0, le=1)
    soc_max_fraction: float = Field(ge=0, le=1)
    initial_soc_fraction: float = Field(default=0.5, ge=0, le=1)
    degradation_cost_cny_per_kwh: float = Field(
        ge=0, description="cost per kWh of throughput (charge + discharge)/2"
    )

    @model_validator(mode="after")
    def _soc_window(self) -> Battery:
        if self.soc_min_fraction >= self.soc_max_fraction:
            raise ValueError(
                f"soc_min_fraction={self.soc_min_fraction} must be below "
                f"soc_max_fraction={self.soc_max_fraction}"
            )
        if not self.soc_min_fraction <= self.initial_soc_fraction <= self.soc_max_fraction:
            raise ValueError(
                f"initial_soc_fraction={self.initial_soc_fraction} must lie in the SoC window "
                f"[{self.soc_min_fraction}, {self.soc_max_fraction}]"
            )
        return self

    @property
    def soc_min_kwh(self) -> float:
        return self.capacity_kwh * self.soc_min_fraction

    @property
    def soc_max_kwh(self) -> float:
        return self.capacity_kwh * self.soc_max_fraction

    @property
    def initial_soc_kwh(self) -> float:
        """Where a plan, the checks, the replay and the plant start it when no state says."""
        return self.capacity_kwh * self.initial_soc_fraction


class CopPoint(StrictModel):
    source_temperature_degc: float
    cop: float = Field(gt=1)


class HeatPump(StrictModel):
    name: Name
    bus: Name
    electric_kw: float = Field(gt=0)
    sink_temperature_degc: float = Field(gt=0, le=200)
    source: str = Field(
        description=f"'{AMBIENT}', the name of a waste-heat stream, or the name of another heat "
        "pump: the lower stage of a cascade, whose whole heat output this one lifts further"
    )
    supplies: Name = Field(
        description="name of the heat demand it serves (for a lower stage of a cascade: the "
        "demand its upper stage serves; its heat reaches it only through that stage)"
    )
    carnot_quality: float | None = Field(default=None, gt=0, lt=1)
    cop_table: list[CopPoint] | None = Field(default=None, min_length=2)
    power_factor: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _one_cop_source(self) -> HeatPump:
        if (self.carnot_quality is None) == (self.cop_table is None):
            raise ValueError("give exactly one of carnot_quality and cop_table")
        return self


class WasteHeatStream(StrictModel):
    """Recovered heat, available in proportion to a process load."""

    name: Name
    process_load: Name = Field(description="electric load whose operation releases this heat")
    heat_per_load_kw_th_per_kw: float = Field(gt=0)
    max_kw_th: float = Field(gt=0)
    supply_temperature_degc: float


class ThermalStorage(StrictModel):
    name: Name
    supplies: Name
    capacity_kwh_th: float = Field(gt=0)
    charge_kw_th: float = Field(gt=0)
    discharge_kw_th: float = Field(gt=0)
    standing_loss_fraction_per_hour: float = Field(ge=0, lt=1)
    temperature_degc: float = Field(gt=0)
    initial_level_fraction: float = Field(default=0.5, ge=0, le=1)

    @property
    def initial_level_kwh_th(self) -> float:
        """Where a plan, the checks, the replay and the plant start it when no state says."""
        return self.capacity_kwh_th * self.initial_level_fraction

    def kept_over(self, hours: float) -> float:
        """Share of the stored heat left after ``hours`` of standing loss (compounded):
        the one definition the planner, its checks, the fallback and the plant use."""
        return float((1.0 - self.standing_loss_fraction_per_hour) ** hours)


class ElectricLoad(StrictModel):
    name: Name
    bus: Name
    peak_kw: float = Field(gt=0)
    annual_energy_mwh: float = Field(gt=0)
    power_factor: float = Field(default=0.95, gt=0, le=1)
    process: bool = Field(default=True, description="releases waste heat / drives process heat")

    @model_validator(mode="after")
    def _energy_below_peak(self) -> ElectricLoad:
        if self.annual_energy_mwh * 1000 > self.peak_kw * 8784:
            raise ValueError(
                f"annual_energy_mwh={self.annual_energy_mwh} exceeds peak_kw={self.peak_kw} "
                "running every hour of a leap year"
            )
        return self


class HeatDemand(StrictModel):
    name: Name
    temperature_degc: float = Field(gt=0, le=250)
    peak_kw_th: float = Field(gt=0)
    annual_energy_mwh_th: float = Field(gt=0)
    process_share: float = Field(ge=0, le=1)
    space_heating_share: float = Field(ge=0, le=1)
    process_load: Name | None = Field(
        default=None, description="electric load the process share follows"
    )

    @model_validator(mode="after")
    def _shares(self) -> HeatDemand:
        if abs(self.process_share + self.space_heating_share - 1.0) > 1e-9:
            raise ValueError(
                f"process_share={self.process_share} + space_heating_share="
                f"{self.space_heating_share} must equal 1"
            )
        if self.process_share > 0 and self.process_load is None:
            raise ValueError("a process share needs process_load (the electric load it follows)")
        return self


class Fuel(StrEnum):
    GAS = "gas"
    ELECTRIC = "electric"


class BackupBoiler(StrictModel):
    name: Name
    fuel: Fuel
    supplies: Name
    capacity_kw_th: float = Field(gt=0)
    efficiency: float = Field(gt=0, le=1.2, description="heat out / fuel in (gas boilers on LHV)")
    fuel_price_cny_per_kwh: float = Field(
        ge=0, description="per kWh of fuel; ignored for electric boilers (they pay the tariff)"
    )
    supply_temperature_degc: float | None = Field(
        default=None, gt=0, description="temperature it delivers heat at; none: hot enough"
    )
    emission_factor_kg_per_kwh_fuel: float = Field(
        ge=0, description="0.2 for natural gas; ignored for electric (grid factor applies)"
    )
    bus: Name | None = Field(default=None, description="required for electric boilers")

    @model_validator(mode="after")
    def _electric_needs_bus(self) -> BackupBoiler:
        if self.fuel is Fuel.ELECTRIC and self.bus is None:
            raise ValueError("an electric boiler needs the bus it draws from")
        return self


class GeneratorKind(StrEnum):
    """What a dispatchable generator is (the plan treats them alike; reports name them)."""

    GAS_ENGINE = "gas_engine"
    GAS_TURBINE = "gas_turbine"
    FUEL_CELL = "fuel_cell"
    DIESEL = "diesel"


class GeneratorFuel(StrEnum):
    GAS = "gas"
    HYDROGEN = "hydrogen"
    DIESEL = "diesel"


_FUELS_OF_KIND = {
    GeneratorKind.GAS_ENGINE: (GeneratorFuel.GAS, GeneratorFuel.HYDROGEN),
    GeneratorKind.GAS_TURBINE: (GeneratorFuel.GAS, GeneratorFuel.HYDROGEN),
    GeneratorKind.FUEL_CELL: (GeneratorFuel.GAS, GeneratorFuel.HYDROGEN),
    GeneratorKind.DIESEL: (GeneratorFuel.DIESEL,),
}


class GasChp(StrictModel):
    """A fuel-burning dispatchable generator: a gas engine or turbine making power and heat
    together (combined heat and power), a fuel cell on gas or hydrogen, or a diesel set.

    Fuel in at ``rated_electric_kw / electric_efficiency`` at full load; heat out is
    ``heat_efficiency`` x fuel at any load (both on LHV), to the heat demand it
    ``supplies`` (a unit whose heat is not used has neither). Below
    ``min_stable_fraction`` x rating it cannot run: it is off (0) or within
    [min stable, rating]; each start costs ``start_cost_cny``.
    """

    name: Name
    bus: Name
    kind: GeneratorKind = Field(default=GeneratorKind.GAS_ENGINE)
    fuel: GeneratorFuel = Field(default=GeneratorFuel.GAS)
    supplies: Name | None = Field(
        default=None, description="name of the heat demand its heat serves; none: heat unused"
    )
    rated_electric_kw: float = Field(gt=0)
    electric_efficiency: float = Field(gt=0, lt=1, description="electric out / fuel in (LHV)")
    heat_efficiency: float = Field(
        default=0.0, ge=0, lt=1, description="heat out / fuel in (LHV); 0: no heat used"
    )
    heat_temperature_degc: float | None = Field(
        default=None, gt=0, description="temperature its heat is delivered at; none: hot enough"
    )
    min_stable_fraction: float = Field(
        default=0.0, ge=0, lt=1, description="lowest output when on, share of the rating"
    )
    ramp_kw_per_h: float | None = Field(
        default=None, gt=0, description="largest change of electric output per hour; none: free"
    )
    start_cost_cny: float = Field(default=0.0, ge=0)
    fuel_price_cny_per_kwh: float = Field(ge=0, description="per kWh of fuel (LHV)")
    emission_factor_kg_per_kwh_fuel: float = Field(
        ge=0, description="0.2 for natural gas, 0.27 for diesel, 0 for hydrogen at the unit"
    )
    initially_on: bool = Field(default=False, description="running when the horizon starts")

    @model_validator(mode="after")
    def _efficiencies(self) -> GasChp:
        fuels = _FUELS_OF_KIND[self.kind]
        if self.fuel not in fuels:
            raise ValueError(
                f"fuel={self.fuel.value} does not fire a {self.kind.value}: give one of "
                f"{', '.join(f.value for f in fuels)}"
            )
        if (self.heat_efficiency > 0) != (self.supplies is not None):
            raise ValueError(
                f"heat_efficiency={self.heat_efficiency} and supplies={self.supplies!r}: a unit "
                "whose heat is used gives both (heat_efficiency above 0 and the heat demand), "
                "one whose heat is not, neither"
            )
        total = self.electric_efficiency + self.heat_efficiency
        if total > 1.0:
            raise ValueError(
                f"electric_efficiency={self.electric_efficiency} + heat_efficiency="
                f"{self.heat_efficiency} = {total:.3g} must be at most 1 (energy out <= fuel in)"
            )
        minimum = self.rated_electric_kw * self.min_stable_fraction
        if self.ramp_kw_per_h is not None and self.ramp_kw_per_h * 0.25 < minimum:
            raise ValueError(
                f"ramp_kw_per_h={self.ramp_kw_per_h} must reach the minimum stable load "
                f"({minimum:g} kW) within one 15-minute interval (at least {4 * minimum:g})"
            )
        if self.start_cost_cny > 0 and self.min_stable_fraction == 0:
            raise ValueError(
                f"start_cost_cny={self.start_cost_cny} needs min_stable_fraction above 0: "
                "a unit that may run at 0 kW never has to stop and start again"
            )
        return self

    @property
    def needs_commitment(self) -> bool:
        """True when on/off matters to the plan (a minimum load, and with it a start cost):
        binaries."""
        return self.min_stable_fraction > 0

    @property
    def heat_per_electric(self) -> float:
        """kW_th of heat per kW of electric output (0 where its heat is not used)."""
        return self.heat_efficiency / self.electric_efficiency


class RecoveryKind(StrEnum):
    """Power recovered from a process's waste energy."""

    ORC = "orc"
    """Organic Rankine cycle on low-temperature waste heat."""
    STEAM_TURBINE = "steam_turbine"
    """Steam raised on furnace or reactor waste heat, through a turbine."""
    PRESSURE_TURBINE = "pressure_turbine"
    """Top-gas (or other process gas) pressure recovery turbine, TRT."""


class RecoveryGenerator(StrictModel):
    """Waste-heat or waste-pressure power: burns no fuel; what it can give follows a process
    load (``kw_per_process_kw`` x that load's power, up to ``rated_kw``). A must-run unit
    gives all of it (the process runs it); a curtailable one anything up to it."""

    name: Name
    bus: Name
    kind: RecoveryKind
    process_load: Name = Field(description="electric load whose operation releases the energy")
    kw_per_process_kw: float = Field(
        gt=0, description="electric output available per kW of the process load"
    )
    rated_kw: float = Field(gt=0, description="electric rating [kW]")
    must_run: bool = Field(
        default=False, description="true: gives everything available; false: may be curtailed"
    )

    def available_kw(self, process_kw: float) -> float:
        """Output available at a process load of ``process_kw`` [kW] (the one definition
        for the planner, its checks, the fallback and the plant)."""
        return min(self.rated_kw, self.kw_per_process_kw * max(process_kw, 0.0))


class Assets(StrictModel):
    pv: list[PVArray] = []
    wind: list[WindTurbine] = []
    batteries: list[Battery] = []
    heat_pumps: list[HeatPump] = []
    waste_heat: list[WasteHeatStream] = []
    thermal_storage: list[ThermalStorage] = []
    electric_loads: list[ElectricLoad] = Field(min_length=1)
    heat_demands: list[HeatDemand] = []
    boilers: list[BackupBoiler] = []
    chp: list[GasChp] = []
    batch_loads: list[BatchLoad] = []
    curtailable_loads: list[CurtailableLoad] = []
    shiftable_loads: list[ShiftableLoad] = []
    electrolysers: list[Electrolyser] = []
    hydrogen_tanks: list[HydrogenTank] = []
    hydrogen_fuel_cells: list[HydrogenFuelCell] = []
    recovery_power: list[RecoveryGenerator] = []
