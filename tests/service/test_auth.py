"""Every role against every route, driven by the app's own route list.

A route the table below has no rule for fails the test, so a new route cannot ship without
deciding who may call it. Requests that would change something are sent with an invalid
parameter or body: a caller who passes authorisation gets 404/422 and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from conftest import Harness
from service_helpers import PARK
from starlette.routing import BaseRoute, Mount, Route

from controller.service.auth import Role


@dataclass(frozen=True)
class Rule:
    role: Role | None
    """Lowest role allowed; None = public."""
    site_scoped: bool = False
    """The path names a park and the key must be granted it."""


PUBLIC = Rule(None)
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/metrics"): Rule(Role.OPERATOR),
    ("GET", "/api/v1/sites"): Rule(Role.UTILITY),
    ("GET", "/api/v1/sites/{site_id}"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/plans/current"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/plans/{kind}/{plan_date}"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/plans/{kind}/{plan_date}/versions"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/plans/{plan_id}"): Rule(Role.UTILITY),
    ("GET", "/api/v1/sites/{site_id}/kpis"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/policy"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/forecasts/latest"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/sites/{site_id}/measurements"): Rule(Role.OPERATOR, True),
    ("POST", "/api/v1/sites/{site_id}/measurements"): Rule(Role.OPERATOR, True),
    ("DELETE", "/api/v1/sites/{site_id}/measurements"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/sites/{site_id}/measurements/deletions"): Rule(Role.OPERATOR, True),
    ("POST", "/api/v1/sites/{site_id}/replan"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/job-runs"): Rule(Role.OPERATOR),
    ("GET", "/api/v1/sites/{site_id}/field"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/sites/{site_id}/field/readings"): Rule(Role.OPERATOR, True),
    ("PUT", "/api/v1/sites/{site_id}/field/mode"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/sites/{site_id}/grid-events"): Rule(Role.UTILITY, True),
    ("POST", "/api/v1/sites/{site_id}/grid-events"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/grid-events/{event_id}"): Rule(Role.UTILITY, True),
    ("GET", "/api/v1/sites/{site_id}/prices"): Rule(Role.OPERATOR, True),
    ("POST", "/api/v1/sites/{site_id}/prices"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/sites/{site_id}/prices/{posting_id}"): Rule(Role.OPERATOR, True),
    ("GET", "/api/v1/keys"): Rule(Role.ADMIN),
    ("POST", "/api/v1/keys"): Rule(Role.ADMIN),
    ("DELETE", "/api/v1/keys/{key_id}"): Rule(Role.ADMIN),
}
PATH_VALUES = {
    "{site_id}": PARK,
    "{kind}": "intraday",
    "{plan_date}": "2026-03-02",
    "{plan_id}": "999999",
    "{key_id}": "nosuchkey",
    "{event_id}": "999999",
    "{posting_id}": "999999",
}
# Harmless requests: invalid input, so that an authorised caller changes nothing.
QUERIES = {("POST", "/api/v1/sites/{site_id}/replan"): {"job": "not-a-job"}}
BODIES = {
    ("POST", "/api/v1/sites/{site_id}/measurements"): {"points": []},
    ("POST", "/api/v1/keys"): {"role": "not-a-role"},
    ("PUT", "/api/v1/sites/{site_id}/field/mode"): {"manual": "not-a-mode"},
    ("POST", "/api/v1/sites/{site_id}/grid-events"): {"kind": "not-a-kind"},
    ("POST", "/api/v1/sites/{site_id}/prices"): {"prices": []},
}
CALLERS = ["none", "bad", "utility", "utility_other", "operator", "admin"]
RANK = {"utility": Role.UTILITY, "utility_other": Role.UTILITY}
RANK |= {"operator": Role.OPERATOR, "admin": Role.ADMIN}


def flatten(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Routes of routers included into others too (newer FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from flatten(inner.routes)
        else:
            yield route


def app_routes(harness: Harness) -> list[tuple[str, str]]:
    found = []
    for route in flatten(harness.app.routes):
        if isinstance(route, Mount):
            found.append(("GET", route.path))
        elif isinstance(route, Route):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


def expected(rule: Rule, caller: str) -> int | None:
    """401 or 403 when refused; None when the caller must get past authorisation."""
    if rule.role is None:
        return None
    if caller in ("none", "bad"):
        return 401
    if RANK[caller].rank < rule.role.rank:
        return 403
    if rule.site_scoped and caller == "utility_other":
        return 403
    return None


@pytest.fixture
def auth_harness(harness_factory: Callable[..., Harness], sqlite_url: str) -> Harness:
    return harness_factory(sqlite_url)


def test_every_route_has_a_rule_and_every_rule_a_route(auth_harness: Harness) -> None:
    routes = set(app_routes(auth_harness))
    documented = auth_harness.client.get("/openapi.json").json()["paths"]
    for path, operations in documented.items():
        assert {(m.upper(), path) for m in operations} <= routes, "route list misses routes"
    assert routes - set(RULES) == set(), "routes without an auth rule"
    assert set(RULES) - routes == set(), "rules of routes that no longer exist"


def test_every_role_against_every_route(auth_harness: Harness) -> None:
    client = auth_harness.client
    failures = []
    for method, path in app_routes(auth_harness):
        url = path + "/dashboard.js" if path == "/static" else path
        for placeholder, value in PATH_VALUES.items():
            url = url.replace(placeholder, value)
        for caller in CALLERS:
            headers = {}
            if caller == "bad":
                headers = {"Authorization": "Bearer mg_00000000_not-a-real-key"}
            elif caller != "none":
                headers = auth_harness.headers(caller)
            response = client.request(
                method,
                url,
                headers=headers,
                params=QUERIES.get((method, path)),
                json=BODIES.get((method, path)),
            )
            want = expected(RULES[(method, path)], caller)
            got = response.status_code
            if (want is None and got in (401, 403)) or (want is not None and got != want):
                failures.append(f"{method} {path} as {caller}: got {got}, want {want or 'allowed'}")
    assert failures == []
