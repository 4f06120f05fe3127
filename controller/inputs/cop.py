"""Heat-pump coefficient of performance: data computed before the optimisation, not a variable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sites import Site
from sites.schema import AMBIENT, HeatPump

KELVIN = 273.15
COP_MIN = 1.0  # a heat pump delivers at least its electric input as heat
COP_MAX = 10.0  # Carnot's formula diverges as the lift goes to zero; real machines do not
MIN_LIFT_K = 5.0  # smallest sink-source difference the Carnot formula is applied at


def heat_pump_cop(hp: HeatPump, source_temperature_degc: np.ndarray) -> np.ndarray:
    """COP per interval: the site's COP table interpolated at the source temperature, or
    ``carnot_quality x T_sink / (T_sink - T_source)`` in kelvin; clipped to [COP_MIN, COP_MAX].
    """
    source = np.asarray(source_temperature_degc, dtype=float)
    if hp.cop_table is not None:
        points = sorted(hp.cop_table, key=lambda p: p.source_temperature_degc)
        cop = np.interp(
            source,
            [p.source_temperature_degc for p in points],
            [p.cop for p in points],
        )
    else:
        assert hp.carnot_quality is not None  # one of the two is required by the schema
        sink_k = hp.sink_temperature_degc + KELVIN
        lift_k = np.maximum(sink_k - (source + KELVIN), MIN_LIFT_K)
        cop = hp.carnot_quality * sink_k / lift_k
    return np.clip(cop, COP_MIN, COP_MAX)


def site_heat_pump_cops(site: Site, ambient_temperature_degc: np.ndarray) -> np.ndarray:
    """(n_heat_pumps, T) COP of each heat pump of ``site`` at the ambient air temperatures
    ``ambient_temperature_degc`` (T,): an air-source pump's varies with them; a pump on a
    waste-heat stream has that stream's supply temperature as its source, the upper stage of a
    cascade its lower stage's sink temperature (both constant). The one definition the
    planner's inputs and the plant use."""
    ambient = np.asarray(ambient_temperature_degc, dtype=float)
    a = site.assets
    streams = {w.name: w.supply_temperature_degc for w in a.waste_heat}
    sinks = {h.name: h.sink_temperature_degc for h in a.heat_pumps}
    out = np.zeros((len(a.heat_pumps), ambient.shape[-1]))
    for k, hp in enumerate(a.heat_pumps):
        if hp.source == AMBIENT:
            out[k] = heat_pump_cop(hp, ambient)
        else:
            source = streams[hp.source] if hp.source in streams else sinks[hp.source]
            out[k] = heat_pump_cop(hp, np.full(ambient.shape[-1], source))
    return out


def cascade_electric_per_heat(cops: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Electric input of each stage of a cascade per kW_th its top stage delivers, for the
    stages' COPs ``cops`` listed top first. A stage at COP c giving q draws q / c and takes
    q (c - 1) / c at its evaporator, all of it the heat of the stage below; for two stages,
    1 / COP_up and (COP_up - 1) / (COP_up COP_low). The one rule for how a cascade's input
    splits between its stages (the plant, the fallback rules and their tests use it)."""
    heat = np.ones_like(np.asarray(cops[0], dtype=float))
    out = []
    for cop in cops:
        out.append(heat / cop)
        heat = heat * (cop - 1.0) / cop
    return out


def cascade_cop(cops: Sequence[np.ndarray]) -> np.ndarray:
    """Heat a cascade delivers per kW of electric input of all its stages (COPs top first):
    1 / (1 / COP_up + (COP_up - 1) / (COP_up COP_low)) for two stages."""
    return 1.0 / np.sum(cascade_electric_per_heat(cops), axis=0)
