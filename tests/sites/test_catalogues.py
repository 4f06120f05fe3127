"""The stored library catalogues are the installed libraries' own, so checking a site file
against them needs neither pandapower nor windpowerlib imported."""

from __future__ import annotations

import json

from sites.catalogues import SNAPSHOT_FILE, live_catalogues, stored_catalogue

REBUILD = "rewrite it with `python -m sites.build_catalogues`"


def test_the_stored_catalogues_match_the_installed_libraries() -> None:
    live = live_catalogues()
    for library, catalogue in live.items():
        stored = stored_catalogue(library)
        assert stored is not None, (
            f"{SNAPSHOT_FILE} holds no {library} {catalogue['version']} catalogue; {REBUILD}"
        )
        # through JSON, as the file is: a turbine's nominal power must round-trip exactly
        assert json.loads(json.dumps(catalogue)) == dict(stored), (
            f"{SNAPSHOT_FILE} differs from {library} {catalogue['version']}; {REBUILD}"
        )
