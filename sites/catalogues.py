"""Names a site may take from libraries' catalogues.

pandapower standard line and transformer types, windpowerlib turbine types.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

from sites.errors import ConfigProblem

_RATED_RTOL = 0.01  # a turbine's rated_kw must match the catalogue's nominal power to 1 %


@cache
def pandapower_std_types(element: str) -> frozenset[str]:
    import pandapower as pp

    return frozenset(pp.available_std_types(pp.create_empty_network(), element).index)


@cache
def windpowerlib_turbines() -> frozenset[str]:
    """Turbine types with a power curve in windpowerlib's bundled library."""
    from windpowerlib import get_turbine_types

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the library's own pandas usage
        table = get_turbine_types(print_out=False)
    return frozenset(
        str(t) for t in table.loc[table["has_power_curve"].astype(bool), "turbine_type"]
    )


@cache
def turbine_nominal_kw(turbine_type: str) -> float:
    from windpowerlib import WindTurbine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return float(WindTurbine(hub_height=100.0, turbine_type=turbine_type).nominal_power) / 1e3


def catalogue_problems(raw: Any, file: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    network = raw.get("network") if isinstance(raw, Mapping) else None
    if isinstance(network, Mapping):
        for key, element in (("lines", "line"), ("transformers", "trafo")):
            items = network.get(key)
            for i, item in enumerate(items if isinstance(items, list) else []):
                std = item.get("std_type") if isinstance(item, Mapping) else None
                if std is not None and std not in pandapower_std_types(element):
                    problems.append(
                        ConfigProblem(
                            file,
                            f"network.{key}[{i}].std_type",
                            std,
                            f"must be a pandapower standard {element} type, e.g. "
                            f"{sorted(pandapower_std_types(element))[:4]}",
                        )
                    )
    assets = raw.get("assets") if isinstance(raw, Mapping) else None
    wind = assets.get("wind") if isinstance(assets, Mapping) else None
    for i, turbine in enumerate(wind if isinstance(wind, list) else []):
        kind = turbine.get("turbine_type") if isinstance(turbine, Mapping) else None
        if kind is None:
            continue
        known = windpowerlib_turbines()
        if kind not in known:
            problems.append(
                ConfigProblem(
                    file,
                    f"assets.wind[{i}].turbine_type",
                    kind,
                    "must be a turbine type with a power curve in windpowerlib's library, "
                    f"e.g. {sorted(known)[:4]}, or give power_curve instead",
                )
            )
            continue
        rated = turbine.get("rated_kw")
        nominal = turbine_nominal_kw(kind)
        if isinstance(rated, int | float) and abs(rated - nominal) > _RATED_RTOL * nominal:
            problems.append(
                ConfigProblem(
                    file,
                    f"assets.wind[{i}].rated_kw",
                    rated,
                    f"must match the nominal power of {kind}: {nominal:g} kW",
                )
            )
    return problems
