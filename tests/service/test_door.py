"""Bad input is refused at the door, saying which field, what was sent and what is accepted,
and nothing already stored is lost; an operator can delete bad points (audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Harness
from service_helpers import OTHER_PARK, PARK

from controller.service import db
from controller.service.auth import Role, create_key
from controller.service.store import runs as run_store
from controller.service.store.runs import Job, Trigger

URL = f"/api/v1/sites/{PARK}/measurements"
LOAD = "load_auxiliaries_kw"
PV = "pv_pv_dye_house_kw"  # 5,400 kW rating
SOC = "battery_bess_soc_kwh"  # 8,000 kWh; 1,000 kW: at most 1,100 kWh per quarter hour
GOOD_TS = "2026-03-02T00:00:00+08:00"
NIGHT = "2026-03-02T01:00:00+08:00"  # Gaotang, 1 a.m. local: the sun is down
NOON = "2026-03-02T12:00:00+08:00"


def _point(series: str = LOAD, ts: Any = GOOD_TS, value: Any = 100.0, **more: Any) -> dict:
    return {"series": series, "ts": ts, "value": value, **more}


def _stored(h: Harness) -> int:
    got = h.client.get(
        URL,
        params={"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z"},
        headers=h.headers("operator"),
    )
    assert got.status_code == 200
    return len(got.json())


# (what, point, the field named, words of the reason)
BAD_POINTS = [
    ("a boolean value", _point(value=True), "value", "number"),
    ("a Unix timestamp", _point(ts=1772380800), "ts", "ISO 8601"),
    ("a 1970 date", _point(ts="1970-01-01T00:00:00+00:00"), "ts", "window"),
    ("a 2100 date", _point(ts="2100-01-01T00:00:00+00:00"), "ts", "window"),
    ("an offset off the grid", _point(ts="2026-03-02T00:00:00+00:07"), "ts", "+00:07"),
    ("a unit other than the series'", _point(unit="MW", value=0.1), "unit", "'kW'"),
    ("PV at night", _point(series=PV, ts=NIGHT, value=800.0), "value", "PV at night"),
    ("PV in the year 1000", _point(PV, "1000-01-01T12:00:00+00:00", 800.0), "ts", "window"),
    ("an unknown field", _point(quality="good"), "quality", "Extra inputs"),
]


@pytest.mark.parametrize("case", BAD_POINTS, ids=[c[0] for c in BAD_POINTS])
def test_a_bad_point_is_refused_naming_field_value_and_rule(
    harness: Harness, case: tuple[str, dict, str, str]
) -> None:
    _, point, field, words = case
    headers = harness.headers("operator")
    kept = harness.client.post(URL, json={"points": [_point(value=7.0)]}, headers=headers)
    assert kept.status_code == 201
    refused = harness.client.post(URL, json={"points": [_point(ts=NOON), point]}, headers=headers)
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    if isinstance(detail, list):  # the framework's parsing: loc names the field
        assert detail and all(p["loc"][:4] == ["body", "points", 1, field] for p in detail)
        assert any(words in p["msg"] for p in detail), detail
    else:  # the plausibility rules: one entry per point, with its index
        (problem,) = detail["problems"]
        assert problem["index"] == 1 and problem["field"] == field
        assert words in problem["rule"], problem
        assert detail["code"] == "points_rejected"
    assert _stored(harness) == 1  # the good point of the batch was not written; the old kept


def test_a_state_of_charge_jumping_faster_than_the_battery_allows_is_refused(
    harness: Harness,
) -> None:
    headers = harness.headers("operator")
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    stored = harness.client.post(
        URL, json={"points": [_point(SOC, start.isoformat(), 4000.0)]}, headers=headers
    )
    assert stored.status_code == 201
    # against the stored point: 4,000 -> 8,000 kWh in 15 min; in the batch: 8,000 -> 0
    jumps = [
        _point(SOC, (start + timedelta(minutes=15)).isoformat(), 5000.0),
        _point(SOC, (start + timedelta(minutes=30)).isoformat(), 8000.0),
        _point(SOC, (start + timedelta(minutes=45)).isoformat(), 7000.0),
    ]
    refused = harness.client.post(URL, json={"points": jumps}, headers=headers)
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]["problems"]
    assert problem["index"] == 1 and "at most 1100 kWh" in problem["rule"]
    smooth = [jumps[0], _point(SOC, jumps[1]["ts"], 6000.0), jumps[2]]
    assert harness.client.post(URL, json={"points": smooth}, headers=headers).status_code == 201


def test_ids_beyond_the_columns_and_nul_bytes_are_refused_with_422(harness: Harness) -> None:
    admin, operator = harness.headers("admin"), harness.headers("operator")
    for plan_id in (2**31, 2**63, 2**64):
        refused = harness.client.get(f"/api/v1/plans/{plan_id}", headers=admin)
        assert refused.status_code == 422
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["path", "plan_id"] and problem["input"] == str(plan_id)
        assert "2147483647" in problem["msg"]
    version = harness.client.get(
        f"/api/v1/sites/{PARK}/plans/intraday/2026-03-02",
        params={"version": 2**63},
        headers=admin,
    )
    assert version.status_code == 422 and version.json()["detail"][0]["loc"] == [
        "query",
        "version",
    ]
    label = harness.client.post(
        "/api/v1/keys", json={"role": "operator", "label": "a\u0000b"}, headers=admin
    )
    assert label.status_code == 422 and "NUL" in label.text
    long_label = harness.client.post(
        "/api/v1/keys", json={"role": "operator", "label": "x" * 100_000}, headers=admin
    )
    assert long_label.status_code == 422 and len(long_label.content) < 2_000
    series = harness.client.get(
        URL,
        params={"start": GOOD_TS, "end": NOON, "series": "load\u0000"},
        headers=operator,
    )
    assert series.status_code == 422
    assert series.json()["detail"]["field"] == "query parameter 'series'"
    key_id = harness.client.delete("/api/v1/keys/ab%00cd", headers=admin)
    assert key_id.status_code == 422 and key_id.json()["detail"]["code"] == "nul_byte"
    unknown = harness.client.get(
        URL, params={"start": GOOD_TS, "end": NOON, "series": "nope"}, headers=operator
    )
    assert unknown.status_code == 422 and LOAD in unknown.json()["detail"]["accepted"]
    far = harness.client.get(
        URL,
        params={"start": "9999-12-31T00:00:00-12:00", "end": "9999-12-31T12:00:00-12:00"},
        headers=operator,
    )
    assert far.status_code == 422 and far.json()["detail"]["field"] == "query.start"


def test_the_key_is_checked_before_the_body_is_read_and_bodies_are_bounded(
    harness_factory: Any, sqlite_url: str
) -> None:
    h = harness_factory(sqlite_url, max_body_bytes=4096)
    body = {"points": [_point(value=1.0)] * 200}  # about 12 kB
    anonymous = h.client.post(URL, json=body)
    assert anonymous.status_code == 401
    too_large = h.client.post(URL, json=body, headers=h.headers("operator"))
    assert too_large.status_code == 413
    detail = too_large.json()["detail"]
    assert detail["code"] == "body_too_large" and "at most 4096 bytes" in detail["accepted"]
    fits = h.client.post(URL, json={"points": [_point(value=1.0)]}, headers=h.headers("operator"))
    assert fits.status_code == 201


def test_an_operator_deletes_a_period_and_the_deletion_is_recorded(harness: Harness) -> None:
    headers = harness.headers("operator")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    points = [
        _point(LOAD, (start + timedelta(minutes=15 * i)).isoformat(), 10.0 + i) for i in range(4)
    ]
    assert harness.client.post(URL, json={"points": points}, headers=headers).status_code == 201
    period = {
        "start": (start + timedelta(minutes=15)).isoformat(),
        "end": (start + timedelta(minutes=45)).isoformat(),
        "reason": "meter swapped, readings wrong",
    }
    deleted = harness.client.delete(URL, params=period, headers=headers)
    assert deleted.status_code == 200 and deleted.json()["deleted"] == 2
    assert _stored(harness) == 2
    (audit,) = harness.client.get(f"{URL}/deletions", headers=headers).json()
    operator_key_id = harness.keys["operator"].split("_")[1]
    assert audit["key_id"] == operator_key_id and audit["reason"] == period["reason"]
    assert audit["deleted"] == 2 and audit["series"] is None


def test_a_mistyped_replan_date_is_refused_and_no_run_is_recorded(harness: Harness) -> None:
    headers = harness.headers("operator")
    replan = f"/api/v1/sites/{PARK}/replan"
    far = harness.client.post(
        replan, params={"job": "day-ahead", "date": "2062-03-02"}, headers=headers
    )
    assert far.status_code == 422
    assert far.json()["detail"]["field"] == "query.date" and far.json()["detail"]["value"] == (
        "2062-03-02"
    )
    intraday = harness.client.post(replan, params={"date": "2026-03-02"}, headers=headers)
    assert intraday.status_code == 422 and intraday.json()["detail"]["code"] == (
        "date_not_accepted"
    )
    with db.read(harness.service.engine) as connection:
        assert run_store.recent(connection, [PARK]) == []


def test_a_run_killed_mid_way_does_not_leave_the_park_degraded(harness: Harness) -> None:
    engine = harness.service.engine
    with db.write(engine) as connection:
        run_store.start(connection, PARK, Job.INTRADAY, Trigger.SCHEDULE, None)
    with db.write(engine) as connection:  # what the next start does
        assert run_store.close_interrupted(connection) == 1
    health = harness.client.get("/health").json()["sites"][PARK]
    assert health["last_runs"][0]["error"] == run_store.INTERRUPTED  # shown
    assert not any("failed" in r for r in health["reasons"])  # not a degradation


def test_a_keys_park_grant_holds_for_every_role_route_and_metrics(harness: Harness) -> None:
    service = harness.service
    ids = service.parks.ids
    one_park_admin = create_key(service.engine, Role.ADMIN, [PARK], ids).token
    one_park_operator = create_key(service.engine, Role.OPERATOR, [PARK], ids).token
    admin = {"Authorization": f"Bearer {one_park_admin}"}
    listed = harness.client.get("/api/v1/sites", headers=admin).json()
    assert [s["id"] for s in listed] == [PARK]
    assert harness.client.get(f"/api/v1/sites/{OTHER_PARK}", headers=admin).status_code == 403
    # a park that does not exist answers as one not granted: its existence is not told
    assert harness.client.get("/api/v1/sites/no-such-park", headers=admin).status_code == 403
    everywhere = harness.headers("admin")
    assert harness.client.get("/api/v1/sites/no-such-park", headers=everywhere).status_code == 404
    harness.service.metrics.measurements.labels(OTHER_PARK).inc()
    harness.service.metrics.measurements.labels(PARK).inc()
    text = harness.client.get(
        "/metrics", headers={"Authorization": f"Bearer {one_park_operator}"}
    ).text
    assert f'site="{PARK}"' in text and f'site="{OTHER_PARK}"' not in text
    assert f'site="{OTHER_PARK}"' in harness.client.get("/metrics", headers=everywhere).text


def test_head_is_answered_wherever_get_is(harness: Harness) -> None:
    for path in ("/health", "/api/v1/sites", "/openapi.json"):
        got = harness.client.get(path, headers=harness.headers("admin"))
        head = harness.client.head(path, headers=harness.headers("admin"))
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


def test_an_address_refused_too_often_is_throttled_but_verified_keys_go_on(
    harness_factory: Any, sqlite_url: str
) -> None:
    h = harness_factory(sqlite_url, auth_failures_per_minute=5, key_cache_ttl_s=60.0)
    good = h.headers("utility")
    assert h.client.get("/api/v1/sites", headers=good).status_code == 200  # verified, cached
    bad = {"Authorization": "Bearer mg_0123abcd_not-a-real-key"}
    codes = [h.client.get("/api/v1/sites", headers=bad).status_code for _ in range(8)]
    assert codes[:6] == [401] * 6 and codes[6:] == [429, 429]
    throttled = h.client.get("/api/v1/sites", headers=bad)
    assert throttled.headers["Retry-After"] == "60"
    assert throttled.json()["detail"]["code"] == "too_many_failures"
    assert h.client.get("/api/v1/sites", headers=good).status_code == 200
