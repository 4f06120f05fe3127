"""Names a site may take from libraries' catalogues.

pandapower standard line and transformer types, windpowerlib turbine types.

Importing pandapower or windpowerlib takes seconds, and every site file is checked against
their catalogues. So the names (and each turbine's nominal power) are stored in
`sites/data/catalogues/library_catalogues.json`, with the library versions they were read
from, and used while those versions are installed; another version is read live. Rewrite the
file with `python -m sites.build_catalogues` after upgrading either library (a test compares it
with the installed libraries).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from functools import cache
from importlib import metadata, resources
from typing import Any

from sites.errors import ConfigProblem

_RATED_RTOL = 0.01  # a turbine's rated_kw must match the catalogue's nominal power to 1 %
SNAPSHOT_FILE = "library_catalogues.json"
STD_TYPE_ELEMENTS = ("line", "trafo")


def _snapshot_resource() -> Any:
    return resources.files("sites") / "data" / "catalogues" / SNAPSHOT_FILE


@cache
def stored_catalogue(library: str) -> Mapping[str, Any] | None:
    """The stored catalogue of ``library`` if it was read from the installed version."""
    try:
        installed = metadata.version(library)
        stored = json.loads(_snapshot_resource().read_text(encoding="utf-8")).get(library)
    except (metadata.PackageNotFoundError, OSError, ValueError):
        return None
    if not isinstance(stored, Mapping) or stored.get("version") != installed:
        return None
    return stored


@cache
def pandapower_std_types(element: str) -> frozenset[str]:
    stored = stored_catalogue("pandapower")
    if stored is not None and element in stored:
        return frozenset(stored[element])
    return live_pandapower_std_types(element)


@cache
def windpowerlib_turbines() -> frozenset[str]:
    """Turbine types with a power curve in windpowerlib's bundled library."""
    stored = stored_catalogue("windpowerlib")
    if stored is not None:
        return frozenset(stored["turbines"])
    return live_windpowerlib_turbines()


@cache
def turbine_nominal_kw(turbine_type: str) -> float:
    stored = stored_catalogue("windpowerlib")
    if stored is not None and turbine_type in stored["turbines"]:
        return float(stored["turbines"][turbine_type])
    return live_turbine_nominal_kw(turbine_type)


def live_pandapower_std_types(element: str) -> frozenset[str]:
    import pandapower as pp

    return frozenset(pp.available_std_types(pp.create_empty_network(), element).index)


def live_windpowerlib_turbines() -> frozenset[str]:
    from windpowerlib import get_turbine_types

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the library's own pandas usage
        table = get_turbine_types(print_out=False)
    return frozenset(
        str(t) for t in table.loc[table["has_power_curve"].astype(bool), "turbine_type"]
    )


def live_turbine_nominal_kw(turbine_type: str) -> float:
    from windpowerlib import WindTurbine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return float(WindTurbine(hub_height=100.0, turbine_type=turbine_type).nominal_power) / 1e3


def live_catalogues() -> dict[str, dict[str, Any]]:
    """The catalogues as the installed libraries hold them, in the stored file's layout."""
    pandapower: dict[str, Any] = {"version": metadata.version("pandapower")}
    for element in STD_TYPE_ELEMENTS:
        pandapower[element] = sorted(live_pandapower_std_types(element))
    turbines = {t: live_turbine_nominal_kw(t) for t in sorted(live_windpowerlib_turbines())}
    windpowerlib = {"version": metadata.version("windpowerlib"), "turbines": turbines}
    return {"pandapower": pandapower, "windpowerlib": windpowerlib}


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
