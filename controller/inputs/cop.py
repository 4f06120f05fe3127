"""Heat-pump coefficient of performance: data computed before the optimisation, not a variable."""

from __future__ import annotations

import numpy as np

from sites.schema import HeatPump

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
