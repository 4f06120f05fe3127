"""From a plan row to what each device is sent: PV limits, the connection's import and
export limits, the tanks, device limits."""

from __future__ import annotations

from controller import columns as pc
from controller.service.field.devicemap import (
    EXPORT_LIMIT_KW,
    IMPORT_LIMIT_KW,
    bundled_map_path,
    load_field_map,
)
from controller.service.field.setpoints import orders
from sites import columns, load_bundled_site


def test_pv_limits_export_limit_and_clamping() -> None:
    site = load_bundled_site("gaotang-textile")
    field_map = load_field_map(bundled_map_path(site.id), site)
    row = {
        columns.pv_kw("pv_dye_house"): 3000.0,
        pc.pv_curtailed_kw("pv_dye_house"): 500.0,  # curtailed: capped at the dispatch
        columns.pv_kw("pv_weaving"): 2000.0,
        pc.pv_curtailed_kw("pv_weaving"): 0.0,  # not curtailed: uncapped
        columns.battery_discharge_kw("bess"): 9000.0,  # beyond the PCS's 4000 kW
        columns.battery_charge_kw("bess"): float("nan"),  # nothing to send
        pc.thermal_storage_charge_kw_th("hot_water_tank"): 2500.0,
        pc.thermal_storage_discharge_kw_th("hot_water_tank"): 0.0,
    }
    sent = {o.point.setpoint: o for o in orders(site, field_map, row)}
    assert sent[columns.pv_kw("pv_dye_house")].value == 3000.0
    assert sent[columns.pv_kw("pv_weaving")].value == 3600.0  # the inverter's max in the map
    discharge = sent[columns.battery_discharge_kw("bess")]
    assert discharge.planned == 9000.0 and discharge.value == 4000.0
    assert discharge.detail == "clamped from 9000 to the device's limits [0, 4000]"
    assert columns.battery_charge_kw("bess") not in sent
    assert sent[EXPORT_LIMIT_KW].value == site.grid_connection.export_limit_kw
    assert sent[IMPORT_LIMIT_KW].value == site.grid_connection.import_limit_kw
    assert sent[pc.thermal_storage_charge_kw_th("hot_water_tank")].value == 2500.0
    assert sent[pc.thermal_storage_discharge_kw_th("hot_water_tank")].value == 0.0
    capped = {
        o.point.setpoint: o
        for o in orders(site, field_map, row, export_cap_kw=1500.0, import_cap_kw=700.0)
    }
    assert capped[EXPORT_LIMIT_KW].value == 1500.0
    assert capped[IMPORT_LIMIT_KW].value == 700.0
