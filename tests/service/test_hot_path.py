"""The plan in force from memory: same answer as the store, never stale, auth unchanged.

Every request below goes through the whole app (fast path first, then the route); the fast
path's own decisions are checked on :meth:`PlanInForceFastPath.answer` directly.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Harness, service_settings
from real_plans import real_plan
from service_helpers import OTHER_PARK, PARK, quarter_hour
from sqlalchemy import event

from controller.plans.plan import PlanKind
from controller.service import db
from controller.service.api.plans import PlanDocument
from controller.service.app import create_app
from controller.service.auth import Role, create_key
from controller.service.fastpath import PlanInForceFastPath
from controller.service.flight import SingleFlight
from controller.service.pipeline import Pipeline, store_plan
from controller.service.store import keys as key_store
from controller.service.store.plans import PlanHeader
from controller.service.store.runs import Job, RunStatus, Trigger
from controller.service.watch import StoreWatcher
from sites import Site

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ZONE = "Asia/Shanghai"
URL = f"/api/v1/sites/{PARK}/plans/current"
STEP = timedelta(minutes=15)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(database_url: str) -> Iterator[tuple[Harness, Clock]]:
    """A harness whose service clock the test moves, trusting verified keys for a minute."""
    clock = Clock(datetime.now(UTC))
    app = create_app(service_settings(database_url, key_cache_ttl_s=60.0), clock=clock)
    service = app.state.service
    engine, ids = service.engine, service.parks.ids
    keys = {
        "utility": create_key(engine, Role.UTILITY, [PARK], ids).token,
        "utility_other": create_key(engine, Role.UTILITY, [OTHER_PARK], ids).token,
        "admin": create_key(engine, Role.ADMIN, [], ids).token,
    }
    harness = Harness(app, TestClient(app), service, keys)
    yield harness, clock
    harness.client.close()
    engine.dispose()


def store(h: Harness, start: datetime, steps: int) -> PlanHeader:
    begin = quarter_hour(start, ZONE)
    plan = real_plan(PARK, begin, steps, PlanKind.INTRADAY)
    return store_plan(h.service.engine, plan, begin.date(), None, None)


def watcher(h: Harness) -> StoreWatcher:
    s = h.service
    made = StoreWatcher(s.engine, 1.0, s.plans_changed, s.keys.forget)
    made.poll()
    return made


@pytest.fixture
def statements(clocked: tuple[Harness, Clock]) -> Iterator[list[str]]:
    """Every SQL statement the service runs from here on."""
    engine = clocked[0].service.engine
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def fast_path(h: Harness) -> PlanInForceFastPath:
    return PlanInForceFastPath(h.service, lambda *_: None)


def scope(path: str, headers: dict[str, str], query: bytes = b"") -> dict[str, Any]:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": raw,
    }


def test_cached_answers_are_the_stores_byte_for_byte_without_touching_it(
    clocked: tuple[Harness, Clock], statements: list[str]
) -> None:
    h, clock = clocked
    header = store(h, clock.now, 8)
    utility = h.headers("utility")
    variants: list[tuple[dict[str, str], str]] = [
        ({}, ""),
        ({"Accept": "text/csv"}, ""),
        ({}, "?format=csv"),
        ({"Accept": "text/csv"}, "?format=json"),
    ]
    for extra, query in variants:
        cold = h.client.get(URL + query, headers=utility | extra)  # the route, from the store
        assert cold.status_code == 200
        statements.clear()
        warm = h.client.get(URL + query, headers=utility | extra)  # the fast path
        assert statements == []
        assert warm.content == cold.content
        assert dict(warm.headers) | {"date": ""} == dict(cold.headers) | {"date": ""}
        etag = warm.headers["etag"]
        assert etag.startswith(f'"p{header.id}-')
        same = h.client.get(URL + query, headers=utility | extra | {"If-None-Match": etag})
        assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
        assert "content-length" not in same.headers
        assert statements == []
    document = PlanDocument.model_validate(h.client.get(URL, headers=utility).json())
    assert document.id == header.id  # and the documented schema is what is sent
    assert h.client.get(URL, headers=utility | {"Accept": "text/csv"}).text.startswith(
        "interval_start,"
    )
    found = fast_path(h).answer(scope(URL, utility))
    assert found is not None and found[0] == 200
    metrics = h.client.get("/metrics", headers=h.headers("admin")).text
    route = "/api/v1/sites/{site_id}/plans/current"
    counted = f'microgrid_http_requests_total{{method="GET",route="{route}",status="304"}} 4.0'
    assert counted in metrics  # answers from memory are counted like the route's


def test_a_new_plan_version_made_by_the_service_replaces_the_cached_one_at_once(
    clocked: tuple[Harness, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    h, clock = clocked
    first = store(h, clock.now, 8)
    utility = h.headers("utility")
    old = h.client.get(URL, headers=utility)
    assert old.json()["id"] == first.id
    old_etag = old.headers["etag"]
    assert h.client.get(URL, headers=utility | {"If-None-Match": old_etag}).status_code == 304

    def replan(
        _self: Pipeline, site: Site, kind: PlanKind, now: datetime, run_id: int, target: Any = None
    ) -> PlanHeader:
        begin = quarter_hour(now, ZONE)
        plan = real_plan(site.id, begin, 8, PlanKind.INTRADAY)
        return store_plan(h.service.engine, plan, begin.date(), None, run_id)

    monkeypatch.setattr(Pipeline, "run", replan)
    run = h.service.runner.run(PARK, Job.INTRADAY, Trigger.OPERATOR)
    assert run.status is RunStatus.SUCCEEDED and run.plan_id != first.id
    new = h.client.get(URL, headers=utility | {"If-None-Match": old_etag})
    assert new.status_code == 200 and new.json()["id"] == run.plan_id
    assert new.json()["version"] == 2 and new.headers["etag"] != old_etag


def test_a_plan_stored_by_another_process_is_served_once_the_watcher_polls(
    clocked: tuple[Harness, Clock],
) -> None:
    h, clock = clocked
    watch = watcher(h)
    first = store(h, clock.now, 8)
    h.service.plans_changed()
    utility = h.headers("utility")
    assert h.client.get(URL, headers=utility).json()["id"] == first.id
    second = store(h, clock.now, 8)  # as another process would: this service is not told
    watch.poll()
    assert h.client.get(URL, headers=utility).json()["id"] == second.id


def test_the_answer_changes_when_a_plan_ends_or_a_plan_stored_ahead_starts(
    clocked: tuple[Harness, Clock],
) -> None:
    h, clock = clocked
    t0 = quarter_hour(clock.now, ZONE).to_pydatetime()
    early = store(h, t0, 7)  # t0 .. t0 + 7 steps
    later = store(h, t0 + 4 * STEP, 9)  # newer, from t0 + 4 steps to t0 + 13 steps
    h.service.plans_changed()
    utility = h.headers("utility")
    clock.now = t0 + STEP
    assert h.client.get(URL, headers=utility).json()["id"] == early.id
    assert h.client.get(URL, headers=utility).json()["id"] == early.id  # from memory
    clock.now = t0 + 4 * STEP
    assert h.client.get(URL, headers=utility).json()["id"] == later.id
    clock.now = t0 + 13 * STEP - timedelta(microseconds=1)
    assert h.client.get(URL, headers=utility).json()["id"] == later.id
    clock.now = t0 + 13 * STEP
    assert h.client.get(URL, headers=utility).status_code == 404


def test_keys_parks_and_queries_are_checked_as_by_the_route_on_a_warm_cache(
    clocked: tuple[Harness, Clock],
) -> None:
    h, clock = clocked
    store(h, clock.now, 8)
    utility = h.headers("utility")
    assert h.client.get(URL, headers=utility).status_code == 200  # every cache warm
    token = h.keys["utility"]
    cases: list[tuple[dict[str, str], str, int]] = [
        ({}, "", 401),
        ({"Authorization": "Bearer mg_00000000_not-a-real-key"}, "", 401),
        ({"Authorization": f"Basic {token}"}, "", 401),
        ({"X-API-Key": token}, "", 200),
        (h.headers("utility_other"), "", 403),
        (h.headers("admin"), "", 200),
        (utility, "?format=xml", 422),
        (utility, "?format=csv&x=1", 200),
    ]
    path = fast_path(h)
    for headers, query, want in cases:
        response = h.client.get(URL + query, headers=headers)
        assert response.status_code == want, (headers, query, response.text)
        answered = path.answer(scope(URL, headers, query.lstrip("?").encode()))
        if want != 200:
            assert answered is None, (headers, query)
    # a park the key is not granted, existing or not, answers alike (403)
    assert h.client.get("/api/v1/sites/nowhere/plans/current", headers=utility).status_code == 403
    admin = h.headers("admin")  # granted every park: an unknown one is 404
    assert h.client.get("/api/v1/sites/nowhere/plans/current", headers=admin).status_code == 404


def test_a_revoked_key_is_refused_at_once_however_long_keys_are_trusted(
    clocked: tuple[Harness, Clock],
) -> None:
    h, clock = clocked
    store(h, clock.now, 8)
    utility = h.headers("utility")
    assert h.client.get(URL, headers=utility).status_code == 200
    key_id = h.keys["utility"].split("_")[1]
    revoked = h.client.delete(f"/api/v1/keys/{key_id}", headers=h.headers("admin"))
    assert revoked.status_code == 204
    assert h.client.get(URL, headers=utility).status_code == 401
    assert fast_path(h).answer(scope(URL, utility)) is None


def test_a_key_revoked_by_another_process_is_refused_once_the_watcher_polls(
    clocked: tuple[Harness, Clock],
) -> None:
    h, clock = clocked
    store(h, clock.now, 8)
    watch = watcher(h)
    utility = h.headers("utility")
    assert h.client.get(URL, headers=utility).status_code == 200
    with db.write(h.service.engine) as connection:  # what `microgrid keys revoke` does
        assert key_store.revoke(connection, h.keys["utility"].split("_")[1])
    watch.poll()
    assert h.client.get(URL, headers=utility).status_code == 401


def test_many_concurrent_misses_share_one_lookup() -> None:
    calls: list[int] = []

    def lookup() -> int:
        calls.append(1)
        return len(calls)

    async def many() -> list[int]:
        flight: SingleFlight[str, int] = SingleFlight()
        return await asyncio.gather(*(flight.run(PARK, lookup) for _ in range(20)))

    assert asyncio.run(many()) == [1] * 20 and calls == [1]
