"""What the CHP park's generator controllers are sent from a plan's row: the gas turbine its
planned power and run/stop, the waste-heat steam turbine an output limit only where the plan
curtails it (as a PV inverter)."""

from __future__ import annotations

from controller import columns as pc
from controller.service.field.devicemap import bundled_map_path, load_field_map
from controller.service.field.setpoints import planned_value
from sites import columns, load_bundled_site

SITE = load_bundled_site("liaocheng-chemical-chp")
FIELD_MAP = load_field_map(bundled_map_path(SITE.id), SITE)
POINTS = {p.setpoint: p for d in FIELD_MAP.devices for p in d.writes if p.setpoint is not None}
TURBINE = columns.recovery_kw("synthesis_steam_turbine")


def _sent(setpoint: str, row: dict[str, float]) -> float | None:
    return planned_value(SITE, POINTS[setpoint], row, None)


def test_the_gas_turbine_gets_its_planned_power_and_run_stop() -> None:
    row = {columns.chp_kw("gas_turbine"): 5200.0, pc.chp_on("gas_turbine"): 1.0}
    assert _sent(columns.chp_kw("gas_turbine"), row) == 5200.0
    assert _sent(pc.chp_on("gas_turbine"), row) == 1.0
    assert _sent(pc.chp_on("gas_turbine"), {pc.chp_on("gas_turbine"): 0.0}) == 0.0


def test_the_steam_turbine_is_capped_only_where_the_plan_curtails_it() -> None:
    available = pc.recovery_available_kw("synthesis_steam_turbine")
    assert _sent(TURBINE, {TURBINE: 650.0, available: 650.0}) == POINTS[TURBINE].max
    assert _sent(TURBINE, {TURBINE: 300.0, available: 650.0}) == 300.0
