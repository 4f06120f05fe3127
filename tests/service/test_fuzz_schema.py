"""schemathesis against the service's own OpenAPI document: every operation, as every role,
valid and invalid requests, with 0 failures of the checks below (SQLite and PostgreSQL).

The suite runs a few examples per operation (``MICROGRID_FUZZ_EXAMPLES``, default 3, about
a minute for both databases); ``make fuzz`` runs many more. Re-plans are left out here (each
one runs the planner for seconds); ``make fuzz`` includes them.

Checks: no server error (no 500), every status documented, every body matching its declared
schema, every content type documented.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from conftest import service_settings
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from controller.service.app import create_app
from controller.service.auth import Role, create_key

EXAMPLES = int(os.environ.get("MICROGRID_FUZZ_EXAMPLES", "3"))
WITH_REPLANS = os.environ.get("MICROGRID_FUZZ_REPLANS") == "1"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def test_the_api_keeps_its_documented_promises(database_url: str) -> None:
    app = create_app(service_settings(database_url, key_cache_ttl_s=60.0))
    service = app.state.service
    ids = service.parks.ids
    tokens = {
        "utility": create_key(service.engine, Role.UTILITY, [ids[0]], ids).token,
        "operator": create_key(service.engine, Role.OPERATOR, [], ids).token,
        "admin": create_key(service.engine, Role.ADMIN, [], ids).token,
        "none": "",
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/replan") and not WITH_REPLANS:
            continue
        for mode in MODES:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=not os.environ.get("MICROGRID_FUZZ_RANDOM"),
            )
            def run(case: Any) -> None:
                for token in tokens.values():  # as every role, and without a key
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    case.call_and_validate(headers=headers, checks=CHECKS)

            tried += 1
            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # every operation tried; all listed
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert tried >= 20
    assert not failures, "\n\n".join(failures)
