"""A park's network: site -> pandapower network (``build_network``), linear sensitivities for
the planner, batched AC verification of plans and replayed actuals, the design check at the
extremes. The public API is in ``__all__``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sites.lazy_api import lazy_api

if TYPE_CHECKING:
    from network_models.build import KW_PER_MW, ParkNetwork, build_network, dropped_elements
    from network_models.design import DesignCheck, design_check
    from network_models.importer import site_from_pandapower
    from network_models.sensitivity import BranchSensitivities, injection_incidence, sensitivities
    from network_models.verify import VIOLATION_COLUMNS, NetworkVerifier, Verification

_HOME: dict[str, str] = {
    "site_from_pandapower": "network_models.importer",
    "BranchSensitivities": "network_models.sensitivity",
    "DesignCheck": "network_models.design",
    "KW_PER_MW": "network_models.build",
    "NetworkVerifier": "network_models.verify",
    "ParkNetwork": "network_models.build",
    "VIOLATION_COLUMNS": "network_models.verify",
    "Verification": "network_models.verify",
    "build_network": "network_models.build",
    "design_check": "network_models.design",
    "dropped_elements": "network_models.build",
    "injection_incidence": "network_models.sensitivity",
    "sensitivities": "network_models.sensitivity",
}
"""Each public name and the module that defines it: imported when the name is first read,
so that importing one light module of the package does not load the whole of it."""

__all__ = [
    "site_from_pandapower",
    "BranchSensitivities",
    "DesignCheck",
    "KW_PER_MW",
    "NetworkVerifier",
    "ParkNetwork",
    "VIOLATION_COLUMNS",
    "Verification",
    "build_network",
    "design_check",
    "dropped_elements",
    "injection_incidence",
    "sensitivities",
]


__getattr__, __dir__ = lazy_api(__name__, _HOME, globals(), __all__)
