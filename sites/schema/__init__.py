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
    "Battery",
    "Bus",
    "ElectricLoad",
    "EmissionFactor",
    "Fuel",
    "GasChp",
    "GeneratorFuel",
    "GeneratorKind",
    "GridConnection",
    "HeatDemand",
    "HeatPump",
    "History",
    "Line",
    "Location",
    "Network",
    "NetworkLimits",
    "PVArray",
    "PolicyTargets",
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
