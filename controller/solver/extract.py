"""Reading a solved model: the dispatch arrays and the constraints that bound."""

from __future__ import annotations

import numpy as np

from controller.inputs.dispatch_inputs import DispatchInputs
from controller.inputs.flexible import FlexibleDispatch, has_flexible
from controller.inputs.hydrogen import HydrogenDispatch, has_hydrogen
from controller.model.build import DispatchModel
from controller.plans.dispatch import Dispatch
from controller.plans.plan import Binding
from sites.errors import MicrogridError

DUAL_TOL = 1e-7  # a constraint with a dual below this did not bind


class ModelReadError(MicrogridError):
    """A solved model read for a variable it does not hold, or one the solve left without a
    value: a mismatch between the model and its reader, never read as zeros."""


def _value(model: DispatchModel, name: str, rows: int, start: int) -> np.ndarray:
    """The solution of variable ``name`` with ``rows`` rows (assets), from interval
    ``start``. An asset family the site lacks has no variable and reads as no rows."""
    if rows == 0:
        return np.zeros((0, model.ctx.horizon - start))
    variable = model.ctx.variables.get(name)
    if variable is None:
        raise ModelReadError(
            f"the model holds no variable {name!r} (it holds {sorted(model.ctx.variables)})"
        )
    if variable.value is None:
        raise ModelReadError(f"variable {name!r} has no value: the model was not solved")
    return np.asarray(variable.value, dtype=float).reshape(rows, -1)[:, start:]


def extract(model: DispatchModel, inputs: DispatchInputs) -> Dispatch:
    ctx = model.ctx
    a = ctx.site.assets
    n = inputs.start
    electric = _value(model, "heat_pump_electric", len(a.heat_pumps), n)
    cop = inputs.real(inputs.cop)
    to_pump = np.zeros((len(a.waste_heat), inputs.n_steps))
    for k, stream in enumerate(ctx.layout.heat_pump_source):
        if stream >= 0:
            to_pump[stream] += (cop[k] - 1.0) * electric[k]
    slacks = {
        name: np.asarray(s.variable.value, dtype=float).reshape(
            (-1, ctx.horizon) if s.per_interval else (-1,)
        )[..., n if s.per_interval else 0 :]
        for name, s in ctx.slacks.items()
        if s.variable.value is not None
    }
    losses = ctx.params["losses"].value
    return Dispatch(
        pv_kw=_value(model, "pv_used", len(a.pv), n),
        wind_kw=_value(model, "wind_used", len(a.wind), n),
        battery_charge_kw=_value(model, "battery_charge", len(a.batteries), n),
        battery_discharge_kw=_value(model, "battery_discharge", len(a.batteries), n),
        battery_soc_kwh=_value(model, "battery_soc", len(a.batteries), n),
        heat_pump_kw=electric,
        heat_pump_heat_kw_th=ctx.layout.heat_to_demand(cop, electric),
        waste_heat_direct_kw_th=_value(model, "waste_heat_direct", len(ctx.layout.direct_pairs), n),
        waste_heat_to_heat_pump_kw_th=to_pump,
        storage_charge_kw_th=_value(model, "storage_charge", len(a.thermal_storage), n),
        storage_discharge_kw_th=_value(model, "storage_discharge", len(a.thermal_storage), n),
        storage_level_kwh_th=_value(model, "storage_level", len(a.thermal_storage), n),
        boiler_heat_kw_th=_value(model, "boiler_heat", len(a.boilers), n),
        heat_unmet_kw_th=slacks.get("heat_unmet", np.zeros((len(a.heat_demands), inputs.n_steps))),
        grid_import_kw=_value(model, "grid_import", 1, n)[0],
        grid_export_kw=_value(model, "grid_export", 1, n)[0],
        losses_kw=inputs.real(losses) if losses is not None else np.zeros(inputs.n_steps),
        slacks=slacks,
        recovery_kw=_value(model, "recovery_power", len(a.recovery_power), n),
        **_chp(model, n),
        flexible=_flexible(model, inputs),
        hydrogen=_hydrogen(model, inputs),
    )


def _hydrogen(model: DispatchModel, inputs: DispatchInputs) -> HydrogenDispatch | None:
    """Electrolysers, fuel cells and tanks (None for a site without hydrogen)."""
    site, n = model.ctx.site, inputs.start
    if not has_hydrogen(site):
        return None
    a = site.assets
    level0 = inputs.hydrogen.level0_kg if inputs.hydrogen is not None else np.zeros(0)
    return HydrogenDispatch(
        _value(model, "electrolyser_power", len(a.electrolysers), n),
        _value(model, "electrolyser_hydrogen", len(a.electrolysers), n),
        _value(model, "hydrogen_fuel_cell_power", len(a.hydrogen_fuel_cells), n),
        _value(model, "hydrogen_offtake", len(a.hydrogen_tanks), n),
        np.asarray(level0, dtype=float),
    )


def _flexible(model: DispatchModel, inputs: DispatchInputs) -> FlexibleDispatch | None:
    """The flexible loads' setpoints (None for a site without them)."""
    site, n = model.ctx.site, inputs.start
    if not has_flexible(site):
        return None
    a = site.assets
    flexible = inputs.flexible
    backlog0 = flexible.shift_backlog0_kwh if flexible is not None else np.zeros(0)
    delivered0 = flexible.batch_delivered_kwh if flexible is not None else np.zeros(0)
    return FlexibleDispatch(
        _value(model, "batch_power", len(a.batch_loads), n),
        _value(model, "curtailed", len(a.curtailable_loads), n),
        _value(model, "shift_down", len(a.shiftable_loads), n),
        _value(model, "shift_up", len(a.shiftable_loads), n),
        np.asarray(backlog0, dtype=float),
        np.asarray(delivered0, dtype=float),
    )


def _chp(model: DispatchModel, start: int) -> dict[str, np.ndarray]:
    """CHP output and, for the committed units, their on/off (others: None, read from output)."""
    ctx = model.ctx
    n = len(ctx.site.assets.chp)
    if n == 0:
        return {}
    electric = _value(model, "chp_electric", n, start)
    committed = ctx.layout.committed_chp
    if not committed:
        return {"chp_electric_kw": electric}
    on = (electric > 1e-3).astype(float)
    on[list(committed)] = np.round(_value(model, "chp_on", len(committed), start))
    return {"chp_electric_kw": electric, "chp_on": on}


def _families(model: DispatchModel, name: str, values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """A constraint's duals, split per network element for the network rows."""
    if name != "network_limit" or values.ndim != 2:
        return [(name, values)]
    rows = model.ctx.network_rows
    elements: dict[str, list[int]] = {}
    for k, r in enumerate(rows):
        elements.setdefault(model.ctx.linear.rows[r].element, []).append(k)
    return [(f"{name}[{element}]", values[ks]) for element, ks in elements.items()]


def binding(model: DispatchModel, inputs: DispatchInputs) -> tuple[Binding, ...]:
    """Inequality families with a non-zero dual in the final stage, and where (the network
    rows per element)."""
    ctx = model.ctx
    found = []
    for family in sorted(ctx.inequalities):
        dual = ctx.constraints[family].dual_value
        if dual is None:
            continue
        values = np.abs(np.atleast_1d(np.asarray(dual, dtype=float)))
        for name, part in _families(model, family, values):
            found += _where(name, part, ctx.horizon, inputs)
    return tuple(found)


def _where(name: str, values: np.ndarray, horizon: int, inputs: DispatchInputs) -> list[Binding]:
    start = inputs.start
    found = []
    if values.ndim == 1 and values.shape[0] == horizon:
        per_interval = np.asarray(values[start:] > DUAL_TOL)
    elif values.ndim == 2 and values.shape[1] == horizon:
        per_interval = np.asarray((values[:, start:] > DUAL_TOL).any(axis=0))
    else:
        return [Binding(name, 0, None)] if (values > DUAL_TOL).any() else []
    count = int(per_interval.sum())
    if count:
        first = inputs.index[int(np.argmax(per_interval))]
        found.append(Binding(name, count, first))
    return found
