"""Pydantic models of a site.

Load sites with :func:`sites.load_site`, which also checks references between parts.
"""

from sites.schema.assets import (
    AMBIENT,
    Assets,
    BackupBoiler,
    Battery,
    ElectricLoad,
    Fuel,
    GasChp,
    GeneratorFuel,
    GeneratorKind,
    HeatDemand,
    HeatPump,
    PVArray,
    RecoveryGenerator,
    RecoveryKind,
    ThermalStorage,
    WasteHeatStream,
    WindTurbine,
)
from sites.schema.flexible import BatchLoad, CurtailableLoad, ShiftableLoad
from sites.schema.hydrogen import Electrolyser, HydrogenFuelCell, HydrogenTank
from sites.schema.network import (
    Bus,
    Line,
    Network,
    NetworkLimits,
    Transformer,
    VoltageLevel,
)
from sites.schema.site import EmissionFactor, GridConnection, History, Location, PolicyTargets, Site
from sites.schema.tariff import Band, TariffCalendar, TariffConfig

__all__ = [
    "AMBIENT",
    "Assets",
    "BackupBoiler",
    "Band",
    "BatchLoad",
    "Battery",
    "Bus",
    "CurtailableLoad",
    "ElectricLoad",
    "Electrolyser",
    "EmissionFactor",
    "Fuel",
    "GasChp",
    "GeneratorFuel",
    "GeneratorKind",
    "GridConnection",
    "HeatDemand",
    "HeatPump",
    "History",
    "HydrogenFuelCell",
    "HydrogenTank",
    "Line",
    "Location",
    "Network",
    "NetworkLimits",
    "PVArray",
    "PolicyTargets",
    "ShiftableLoad",
    "RecoveryGenerator",
    "RecoveryKind",
    "Site",
    "TariffCalendar",
    "TariffConfig",
    "ThermalStorage",
    "Transformer",
    "VoltageLevel",
    "WasteHeatStream",
    "WindTurbine",
]
