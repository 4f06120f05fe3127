"""The REST API against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from conftest import Harness
from real_plans import real_plan
from service_helpers import OTHER_PARK, PARK, quarter_hour

from controller.plans.plan import PlanKind
from controller.service.pipeline import store_plan

ZONE = "Asia/Shanghai"


def stored_current_plan(h: Harness, steps: int = 8) -> int:
    start = quarter_hour(h.service.now(), ZONE)
    plan = real_plan(PARK, start, steps, PlanKind.INTRADAY)
    header = store_plan(h.service.engine, plan, start.date(), None, None)
    h.service.plans_changed()
    return header.id


def test_plan_in_force_json_csv_etag_and_304(harness: Harness) -> None:
    plan_id = stored_current_plan(harness)
    url = f"/api/v1/sites/{PARK}/plans/current"
    headers = harness.headers("utility")
    first = harness.client.get(url, headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert body["id"] == plan_id and body["site_id"] == PARK and body["version"] == 1
    assert body["metadata"]["input_hash"] and "grid_import_kw" in body["intervals"]["columns"]
    etag = first.headers["etag"]
    again = harness.client.get(url, headers=headers | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    csv = harness.client.get(url, headers=headers | {"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("interval_start,") and len(csv.text.strip().splitlines()) == 9
    assert csv.headers["etag"] != etag
    assert harness.client.get(url + "?format=csv", headers=headers).text == csv.text


def test_plans_by_kind_date_version_and_id(harness: Harness) -> None:
    start = quarter_hour(harness.service.now(), ZONE)
    plan = real_plan(PARK, start, 8, PlanKind.INTRADAY)
    engine = harness.service.engine
    first = store_plan(engine, plan, start.date(), None, None)
    second = store_plan(engine, plan, start.date(), None, None)
    headers = harness.headers("utility")
    base = f"/api/v1/sites/{PARK}/plans/intraday/{start.date()}"
    assert harness.client.get(base, headers=headers).json()["id"] == second.id
    assert harness.client.get(base + "?version=1", headers=headers).json()["id"] == first.id
    assert harness.client.get(base + "?version=9", headers=headers).status_code == 404
    versions = harness.client.get(base + "/versions", headers=headers).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert harness.client.get(f"/api/v1/plans/{first.id}", headers=headers).json()["version"] == 1
    other = harness.client.get(
        f"/api/v1/plans/{first.id}", headers=harness.headers("utility_other")
    )
    assert other.status_code == 404  # as for no plan: another park's plans are not told
    assert (
        harness.client.get(f"/api/v1/sites/{PARK}/plans/current", headers=headers).json()["id"]
        == second.id
    )


def test_no_plan_in_force_is_404(harness: Harness) -> None:
    response = harness.client.get(
        f"/api/v1/sites/{PARK}/plans/current", headers=harness.headers("utility")
    )
    assert response.status_code == 404


def _points(n: int, series: str = "load_auxiliaries_kw", value: float = 100.0) -> list[dict]:
    start = pd.Timestamp("2026-03-02T00:00+08:00")
    return [
        {"series": series, "ts": (start + timedelta(minutes=15 * i)).isoformat(), "value": value}
        for i in range(n)
    ]


def test_measurements_batch_post_and_get(harness: Harness) -> None:
    url = f"/api/v1/sites/{PARK}/measurements"
    headers = harness.headers("operator")
    posted = harness.client.post(url, json={"points": _points(4)}, headers=headers)
    assert posted.status_code == 201 and posted.json()["accepted"] == 4
    again = harness.client.post(url, json={"points": _points(4)}, headers=headers)
    assert again.status_code == 201
    got = harness.client.get(
        url,
        params={"start": "2026-03-02T00:00:00+08:00", "end": "2026-03-03T00:00:00+08:00"},
        headers=headers,
    )
    assert got.status_code == 200 and len(got.json()) == 4


def test_a_partly_bad_batch_is_rejected_whole_naming_every_point(harness: Harness) -> None:
    url = f"/api/v1/sites/{PARK}/measurements"
    headers = harness.headers("operator")
    points = _points(3)
    points.append({"series": "pv_nowhere_kw", "ts": points[0]["ts"], "value": 1.0})
    points.append({"series": "load_auxiliaries_kw", "ts": points[1]["ts"], "value": -5.0})
    points.append({"series": "load_auxiliaries_kw", "ts": points[2]["ts"], "value": 1e9})
    response = harness.client.post(url, json={"points": points}, headers=headers)
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert [p["index"] for p in problems] == [3, 4, 5]
    assert problems[0]["series"] == "pv_nowhere_kw" and "unknown series" in problems[0]["rule"]
    assert problems[1]["value"] == -5.0 and "outside the physical bound [0," in problems[1]["rule"]
    assert problems[2]["ts"] == "2026-03-02T00:30:00+08:00"
    got = harness.client.get(
        url,
        params={"start": "2026-03-01T00:00:00+08:00", "end": "2026-03-04T00:00:00+08:00"},
        headers=headers,
    )
    assert got.json() == []


def test_measurements_of_an_unknown_park_are_404(harness: Harness) -> None:
    response = harness.client.post(
        "/api/v1/sites/no-such-park/measurements",
        json={"points": _points(1)},
        headers=harness.headers("operator"),
    )
    assert response.status_code == 404


def test_off_grid_times_and_naive_times_are_rejected(harness: Harness) -> None:
    url = f"/api/v1/sites/{PARK}/measurements"
    point = {"series": "load_auxiliaries_kw", "ts": "2026-03-02T00:07:00+08:00", "value": 1.0}
    response = harness.client.post(
        url, json={"points": [point]}, headers=harness.headers("operator")
    )
    assert response.status_code == 422 and "quarter hour" in response.text
    point["ts"] = "2026-03-02T00:00:00"
    response = harness.client.post(
        url, json={"points": [point]}, headers=harness.headers("operator")
    )
    assert response.status_code == 422


def test_kpis_over_a_period_use_the_plan_definitions(harness: Harness) -> None:
    stored_current_plan(harness)
    start = quarter_hour(harness.service.now(), ZONE)
    response = harness.client.get(
        f"/api/v1/sites/{PARK}/kpis",
        params={"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
        headers=harness.headers("utility"),
    )
    assert response.status_code == 200
    report = response.json()
    plan = real_plan(PARK, start, 8, PlanKind.INTRADAY)
    assert report["intervals"] == 8
    assert report["kpis"]["import_kwh"] == pytest.approx(plan.kpis.import_kwh, rel=1e-9)
    assert report["kpis"]["min_self_consumption_ratio"] == 0.6


def test_sites_list_only_granted_parks_and_detail(harness: Harness) -> None:
    listed = harness.client.get("/api/v1/sites", headers=harness.headers("utility")).json()
    assert [s["id"] for s in listed] == [PARK]
    assert len(harness.client.get("/api/v1/sites", headers=harness.headers("admin")).json()) == 2
    detail = harness.client.get(f"/api/v1/sites/{PARK}", headers=harness.headers("utility"))
    assert detail.json()["config"]["id"] == PARK
    assert (
        harness.client.get(f"/api/v1/sites/{OTHER_PARK}", headers=harness.headers("utility"))
    ).status_code == 403


def test_keys_api_creates_lists_and_revokes(harness: Harness) -> None:
    admin = harness.headers("admin")
    made = harness.client.post(
        "/api/v1/keys", json={"role": "utility", "sites": [PARK], "label": "grid co"}, headers=admin
    )
    assert made.status_code == 201
    token, key_id = made.json()["key"], made.json()["details"]["id"]
    assert token.startswith(f"mg_{key_id}_")
    use = {"Authorization": f"Bearer {token}"}
    assert harness.client.get("/api/v1/sites", headers=use).status_code == 200
    listed = harness.client.get("/api/v1/keys", headers=admin).json()
    assert key_id in [k["id"] for k in listed] and "hash" not in listed[0]
    assert harness.client.delete(f"/api/v1/keys/{key_id}", headers=admin).status_code == 204
    assert harness.client.get("/api/v1/sites", headers=use).status_code == 401
    bad = harness.client.post("/api/v1/keys", json={"role": "utility"}, headers=admin)
    assert bad.status_code == 422


def test_health_is_public_and_says_why_degraded_and_metrics_need_a_key(harness: Harness) -> None:
    health = harness.client.get("/health")
    assert health.status_code == 200
    document = health.json()
    assert document["status"] == "degraded"
    assert "no plan in force now" in document["sites"][PARK]["reasons"]
    assert harness.client.get("/metrics").status_code == 401
    metrics = harness.client.get("/metrics", headers=harness.headers("operator"))
    assert metrics.status_code == 200
    assert f'microgrid_site_degraded{{site="{PARK}"}} 1.0' in metrics.text


def test_openapi_documents_the_api(harness: Harness) -> None:
    schema = harness.client.get("/openapi.json").json()
    assert "/api/v1/sites/{site_id}/plans/current" in schema["paths"]
    assert "/api/v1/sites/{site_id}/measurements" in schema["paths"]
