"""Device maps: a park's field devices and their points, as YAML next to the site.

A map names, per device, its protocol and address (Modbus TCP host, port and unit id, or an
MQTT topic prefix), its role and the asset it belongs to, an optional heartbeat, and per point
the register or topic, data type, scale, unit, direction and the measurement series (read) or
setpoint (write) it carries. :func:`load_field_map` checks a map against its site and reports
every problem at once, in the site files' style (file, field, value, what is accepted).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from controller import columns as pc
from controller.service.validation import series_bounds
from sites import Site, columns
from sites.errors import ConfigProblem, SiteConfigError

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]
Topic = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-/.]+$", max_length=200)]

EXPORT_LIMIT_KW = "export_limit_kw"
"""A setpoint that is no plan column: the connection point's export limit (the site's limit,
or a lower one while a grid event caps export)."""
IMPORT_LIMIT_KW = "import_limit_kw"
"""The same for import: the connection's import limit, or a grid event's lower one (a
demand-response cap or target), held by the connection point's controller."""
CONNECTION_LIMITS = (IMPORT_LIMIT_KW, EXPORT_LIMIT_KW)


class FieldMapError(SiteConfigError):
    """A device map that does not validate; carries every problem."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__(problems)
        lines = [f"{len(self.problems)} problem(s) in device map:"]
        lines += [f"  - {p}" for p in self.problems]
        self.args = ("\n".join(lines),)


class Role(StrEnum):
    BATTERY_PCS = "battery_pcs"
    PV_INVERTER = "pv_inverter"
    GRID_METER = "grid_meter"
    HEAT_PUMP = "heat_pump"
    TANK_SENSOR = "tank_sensor"
    BOILER = "boiler"
    WEATHER_STATION = "weather_station"
    LOAD_METER = "load_meter"
    HEAT_METER = "heat_meter"
    CHP_CONTROLLER = "chp_controller"
    RECOVERY_CONTROLLER = "recovery_controller"
    PROCESS_CONTROLLER = "process_controller"
    ELECTROLYSER_CONTROLLER = "electrolyser_controller"
    FUEL_CELL_CONTROLLER = "fuel_cell_controller"
    HYDROGEN_TANK_SENSOR = "hydrogen_tank_sensor"


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def registers(self) -> int:
        """Width in 16-bit registers."""
        return 1 if self in (DataType.INT16, DataType.UINT16) else 2


class Direction(StrEnum):
    READ = "read"
    WRITE = "write"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModbusAddress(_Strict):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=247)
    timeout_s: float = Field(default=1.0, gt=0, le=30)


class MqttAddress(_Strict):
    topic_prefix: Topic
    """Telemetry arrives on ``<prefix>/<point topic>``; commands go to ``.../set``."""


class Heartbeat(_Strict):
    address: int | None = Field(default=None, ge=0, le=65535)
    topic: Topic | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    """The device falls back to its local rules when the counter has not changed this long."""


class Point(_Strict):
    name: Name
    direction: Direction
    address: int | None = Field(default=None, ge=0, le=65535)
    topic: Topic | None = None
    data_type: DataType = DataType.FLOAT32
    scale: float = Field(default=1.0, description="engineering value = raw value * scale")
    unit: str
    series: str | None = None
    """Read points: the measurement series the value is stored as."""
    setpoint: str | None = None
    """Write points: the plan column (or ``export_limit_kw``) written to the device."""
    min: float | None = None
    max: float | None = None
    """Write points: the device's limits; a setpoint is clamped into them before it is sent."""


class Device(_Strict):
    name: Name
    role: Role
    asset: Name | None = None
    modbus: ModbusAddress | None = None
    mqtt: MqttAddress | None = None
    heartbeat: Heartbeat | None = None
    points: list[Point] = Field(min_length=1)

    @property
    def reads(self) -> list[Point]:
        return [p for p in self.points if p.direction is Direction.READ]

    @property
    def writes(self) -> list[Point]:
        return [p for p in self.points if p.direction is Direction.WRITE]


class FieldMap(_Strict):
    site: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=48)]
    poll_s: float = Field(default=5.0, gt=0, le=900, description="seconds between two polls")
    readback_timeout_s: float = Field(default=2.0, gt=0, le=60)
    devices: list[Device] = Field(min_length=1)

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)


def bundled_map_path(site_id: str) -> Path:
    """Where the example map of a bundled park lies (``sites/data/devices/<id>.yaml``)."""
    return Path(str(files("sites") / "data" / "devices" / f"{site_id}.yaml"))


def load_field_map(path: str | Path, site: Site) -> FieldMap:
    """Load a device map and check it against ``site``; raises :class:`FieldMapError`."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FieldMapError(
            [ConfigProblem(str(path), "(file)", str(path), f"must be a readable file ({exc})")]
        ) from None
    except yaml.YAMLError as exc:
        raise FieldMapError(
            [ConfigProblem(str(path), "(document)", None, f"must be valid YAML ({exc})")]
        ) from None
    return field_map_from_mapping(raw, site, str(path))


def field_map_from_mapping(raw: Any, site: Site, source: str = "<mapping>") -> FieldMap:
    if not isinstance(raw, Mapping):
        raise FieldMapError(
            [ConfigProblem(source, "(document)", type(raw).__name__, "must be a mapping")]
        )
    try:
        field_map = FieldMap.model_validate(raw)
    except ValidationError as exc:
        raise FieldMapError([_problem(source, e) for e in exc.errors()]) from None
    problems = map_problems(field_map, site, source)
    if problems:
        raise FieldMapError(problems)
    return field_map


ON_OFF_UNIT = "on/off"
"""Unit of an on/off setpoint (a CHP unit's ``chp_*_on``: 1 run, 0 stop)."""
KG_PER_H_UNIT = "kg/h"
"""Unit of a hydrogen flow setpoint (a tank's offtake)."""


def setpoint_units(site: Site) -> dict[str, str]:
    """Every setpoint a map may write for ``site``, with its unit."""
    a = site.assets
    names: dict[str, str] = {
        pc.GRID_IMPORT_CEILING_KW: "kW",
        IMPORT_LIMIT_KW: "kW",
        EXPORT_LIMIT_KW: "kW",
    }
    for b in a.batteries:
        names[columns.battery_charge_kw(b.name)] = "kW"
        names[columns.battery_discharge_kw(b.name)] = "kW"
    for pv in a.pv:
        names[columns.pv_kw(pv.name)] = "kW"
    for w in a.wind:
        names[columns.wind_kw(w.name)] = "kW"
    for hp in a.heat_pumps:
        names[columns.heat_pump_kw(hp.name)] = "kW"
    for boiler in a.boilers:
        names[pc.boiler_heat_kw_th(boiler.name)] = "kW_th"
    for tank in a.thermal_storage:
        names[pc.thermal_storage_charge_kw_th(tank.name)] = "kW_th"
        names[pc.thermal_storage_discharge_kw_th(tank.name)] = "kW_th"
    for chp in a.chp:
        names[columns.chp_kw(chp.name)] = "kW"
        names[pc.chp_on(chp.name)] = ON_OFF_UNIT
    for unit in a.recovery_power:  # an output limit, as a PV inverter's
        names[columns.recovery_kw(unit.name)] = "kW"
    for batch in a.batch_loads:  # the batch's draw (0: it does not run)
        names[columns.batch_kw(batch.name)] = "kW"
    for part in a.curtailable_loads:  # power shed off the load
        names[columns.curtailed_kw(part.name)] = "kW"
    for shift in a.shiftable_loads:  # power moved off the load, and onto it
        names[columns.shift_down_kw(shift.name)] = "kW"
        names[columns.shift_up_kw(shift.name)] = "kW"
    for e in a.electrolysers:
        names[columns.electrolyser_kw(e.name)] = "kW"
    for cell in a.hydrogen_fuel_cells:
        names[columns.hydrogen_fuel_cell_kw(cell.name)] = "kW"
    for h2 in a.hydrogen_tanks:  # what the process takes from the tank
        names[pc.tank_offtake_kg_per_h(h2.name)] = KG_PER_H_UNIT
    return names


def _assets_of(site: Site, role: Role) -> list[str] | None:
    """Asset names a device of ``role`` may belong to; ``None``: the role names no asset."""
    a = site.assets
    by_role: dict[Role, list[str]] = {
        Role.BATTERY_PCS: [b.name for b in a.batteries],
        Role.PV_INVERTER: [p.name for p in a.pv] + [w.name for w in a.wind],
        Role.HEAT_PUMP: [h.name for h in a.heat_pumps],
        Role.TANK_SENSOR: [t.name for t in a.thermal_storage],
        Role.BOILER: [b.name for b in a.boilers],
        Role.LOAD_METER: [ld.name for ld in a.electric_loads],
        Role.HEAT_METER: [d.name for d in a.heat_demands] + [w.name for w in a.waste_heat],
        Role.CHP_CONTROLLER: [c.name for c in a.chp],
        Role.RECOVERY_CONTROLLER: [r.name for r in a.recovery_power],
        Role.PROCESS_CONTROLLER: [b.name for b in a.batch_loads]
        + [c.name for c in a.curtailable_loads]
        + [s.name for s in a.shiftable_loads],
        Role.ELECTROLYSER_CONTROLLER: [e.name for e in a.electrolysers],
        Role.FUEL_CELL_CONTROLLER: [f.name for f in a.hydrogen_fuel_cells],
        Role.HYDROGEN_TANK_SENSOR: [t.name for t in a.hydrogen_tanks],
    }
    return by_role.get(role)


def map_problems(field_map: FieldMap, site: Site, source: str) -> list[ConfigProblem]:
    """Problems between a structurally valid map and its site (every one, not the first)."""
    problems: list[ConfigProblem] = []

    def add(where: str, value: Any, rule: str) -> None:
        problems.append(ConfigProblem(source, where, value, rule))

    if field_map.site != site.id:
        add("site", field_map.site, f"must be the site's id '{site.id}'")
    bounds = series_bounds(site)
    setpoints = setpoint_units(site)
    seen_devices: set[str] = set()
    endpoints: dict[tuple[str, int, int], str] = {}
    series_owner: dict[str, str] = {}
    for i, device in enumerate(field_map.devices):
        at = f"devices[{i}]"
        if device.name in seen_devices:
            add(f"{at}.name", device.name, "must differ from every other device's name")
        seen_devices.add(device.name)
        if (device.modbus is None) == (device.mqtt is None):
            add(at, device.name, "must have exactly one of 'modbus' and 'mqtt'")
        if device.modbus is not None:
            key = (device.modbus.host, device.modbus.port, device.modbus.unit_id)
            if key in endpoints:
                add(
                    f"{at}.modbus",
                    f"{key[0]}:{key[1]} unit {key[2]}",
                    f"must differ from device '{endpoints[key]}' (same host, port and unit id)",
                )
            endpoints[key] = device.name
        allowed = _assets_of(site, device.role)
        if allowed is not None and device.asset not in allowed:
            add(f"{at}.asset", device.asset, f"a {device.role.value} must name one of {allowed}")
        if allowed is None and device.asset is not None:
            add(f"{at}.asset", device.asset, f"a {device.role.value} names no asset; leave it out")
        problems += _heartbeat_problems(device, at, source)
        problems += _point_problems(device, at, source, bounds, setpoints, series_owner)
    return problems


def _heartbeat_problems(device: Device, at: str, source: str) -> list[ConfigProblem]:
    beat = device.heartbeat
    if beat is None:
        return []
    if device.modbus is not None and beat.address is None:
        return [ConfigProblem(source, f"{at}.heartbeat.address", None, "a Modbus device needs one")]
    if device.mqtt is not None and beat.topic is None:
        return [ConfigProblem(source, f"{at}.heartbeat.topic", None, "an MQTT device needs one")]
    return []


def _point_problems(
    device: Device,
    at: str,
    source: str,
    bounds: Mapping[str, Any],
    setpoints: Mapping[str, str],
    series_owner: dict[str, str],
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def add(where: str, value: Any, rule: str) -> None:
        problems.append(ConfigProblem(source, where, value, rule))

    used: dict[int, str] = {}
    if device.heartbeat is not None and device.heartbeat.address is not None:
        used[device.heartbeat.address] = "heartbeat"
    names: set[str] = set()
    for j, point in enumerate(device.points):
        where = f"{at}.points[{j}]"
        if point.name in names:
            add(f"{where}.name", point.name, "must differ from the device's other point names")
        names.add(point.name)
        if point.scale == 0:
            add(f"{where}.scale", point.scale, "must not be 0")
        if device.modbus is not None:
            if point.address is None:
                add(f"{where}.address", None, "a Modbus point needs its register address")
            else:
                for r in range(point.address, point.address + point.data_type.registers):
                    if r in used:
                        add(
                            f"{where}.address",
                            point.address,
                            f"register {r} is already used by '{used[r]}' "
                            f"({point.data_type.value} takes {point.data_type.registers})",
                        )
                    used[r] = point.name
        if device.mqtt is not None and point.topic is None:
            add(f"{where}.topic", None, "an MQTT point needs its topic (below the prefix)")
        if point.direction is Direction.READ:
            if point.series is None or point.series not in bounds:
                add(f"{where}.series", point.series, f"must be one of {sorted(bounds)}")
            else:
                unit = bounds[point.series].unit
                if point.unit != unit:
                    add(f"{where}.unit", point.unit, f"must be {unit!r}, the unit of the series")
                owner = series_owner.get(point.series)
                if owner is not None:
                    add(f"{where}.series", point.series, f"is already read by {owner}")
                series_owner[point.series] = f"{device.name}.{point.name}"
            if point.setpoint is not None:
                add(f"{where}.setpoint", point.setpoint, "only write points carry a setpoint")
        else:
            if point.setpoint is None or point.setpoint not in setpoints:
                add(f"{where}.setpoint", point.setpoint, f"must be one of {sorted(setpoints)}")
            elif point.unit != setpoints[point.setpoint]:
                unit = setpoints[point.setpoint]
                add(f"{where}.unit", point.unit, f"must be {unit!r}, the unit of the setpoint")
            if point.min is None or point.max is None:
                add(f"{where}.min/max", (point.min, point.max), "a write point needs both limits")
            elif point.min > point.max:
                add(f"{where}.min", point.min, f"must not exceed max={point.max}")
            if point.series is not None:
                add(f"{where}.series", point.series, "only read points carry a series")
    return problems


def _problem(source: str, err: Mapping[str, Any]) -> ConfigProblem:
    loc = tuple(err.get("loc", ()))
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    rule = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        rule = "unknown field; " + _accepted(loc[:-1])
    elif err.get("type") == "missing":
        rule = "required field is missing"
    return ConfigProblem(source, field or "(document)", err.get("input"), rule)


def _accepted(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = FieldMap
    nested: dict[str, type[BaseModel]] = {
        "devices": Device,
        "points": Point,
        "modbus": ModbusAddress,
        "mqtt": MqttAddress,
        "heartbeat": Heartbeat,
    }
    for part in loc:
        if isinstance(part, str) and part in nested:
            model = nested[part]
    return f"accepted here: {', '.join(model.model_fields)}"
