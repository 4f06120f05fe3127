"""Whether each CHP unit runs, as the planner is told it, from the unit's metered output
posted through the API, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from conftest import Harness
from service_helpers import PARK

from controller.service import db
from controller.service.pipeline import STATE_MAX_AGE, measured_state
from controller.service.tracking import measured_period
from sites import columns

CHP_PARK = "liaocheng-chemical-chp"
ZONE = "Asia/Shanghai"
ISSUE = pd.Timestamp("2026-03-02 08:00", tz=ZONE)
OUTPUT = columns.chp_kw("gas_turbine")


def _post(harness: Harness, at: pd.Timestamp, value: float) -> None:
    posted = harness.client.post(
        f"/api/v1/sites/{CHP_PARK}/measurements",
        json={"points": [{"series": OUTPUT, "ts": at.isoformat(), "value": value}]},
        headers=harness.headers("operator"),
    )
    assert posted.status_code < 300, posted.text


def _chp_on(harness: Harness) -> dict[str, bool]:
    site = harness.service.parks.by_id[CHP_PARK]
    with db.read(harness.service.engine) as connection:
        return dict(measured_state(connection, site, ISSUE).chp_on)


def test_the_planner_is_told_whether_the_chp_runs_from_its_metered_output(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, CHP_PARK])
    assert _chp_on(harness) == {}  # never metered: the site file's initially_on holds
    stale = ISSUE - STATE_MAX_AGE - pd.Timedelta(minutes=15)
    _post(harness, stale, 6000.0)
    assert _chp_on(harness) == {}  # older than the state's age limit: not the state now
    _post(harness, ISSUE - pd.Timedelta(minutes=15), 4200.0)
    assert _chp_on(harness) == {"gas_turbine": True}
    _post(harness, ISSUE - pd.Timedelta(minutes=15), 0.0)  # the same interval, corrected
    assert _chp_on(harness) == {"gas_turbine": False}


def test_a_chp_output_above_its_rating_is_refused(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    harness = harness_factory(database_url, sites=[PARK, CHP_PARK])
    refused = harness.client.post(
        f"/api/v1/sites/{CHP_PARK}/measurements",
        json={"points": [{"series": OUTPUT, "ts": ISSUE.isoformat(), "value": 90000.0}]},
        headers=harness.headers("operator"),
    )
    assert refused.status_code == 422 and OUTPUT in refused.text


def test_metered_chp_output_is_counted_as_exported_before_renewables(
    harness_factory: Callable[..., Harness], database_url: str
) -> None:
    # one quarter hour: 2000 kW of PV, 3000 kW exported while the CHP gave 2500 kW: only the
    # 500 kW beyond the CHP's output is renewable export; the other 1500 kW of PV is used
    harness = harness_factory(database_url, sites=[PARK, CHP_PARK])
    at = ISSUE + pd.Timedelta(hours=4)  # noon: PV is plausible
    points = [
        {"series": "pv_pv_warehouses_kw", "ts": at.isoformat(), "value": 2000.0},
        {"series": "grid_export_kw", "ts": at.isoformat(), "value": 3000.0},
        {"series": OUTPUT, "ts": at.isoformat(), "value": 2500.0},
    ]
    posted = harness.client.post(
        f"/api/v1/sites/{CHP_PARK}/measurements",
        json={"points": points},
        headers=harness.headers("operator"),
    )
    assert posted.status_code < 300, posted.text
    site = harness.service.parks.by_id[CHP_PARK]
    with db.read(harness.service.engine) as connection:
        period = measured_period(connection, site, at, at + pd.Timedelta(minutes=15))
    assert period.export_ratio == pytest.approx(500.0 / 2000.0)
    assert period.renewable_used_on_site_kwh == pytest.approx(1500.0 * 0.25)
