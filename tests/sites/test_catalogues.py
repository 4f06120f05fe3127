"""The stored library catalogues are the installed libraries' own, so checking a site file
against them needs neither pandapower nor windpowerlib imported."""

from __future__ import annotations

import json
from importlib.resources import files

from sites.catalogues import (
    SNAPSHOT_FILE,
    live_catalogues,
    pandapower_std_types,
    stored_catalogue,
    windpowerlib_turbines,
)

REBUILD = "rewrite it with `python -m sites.build_catalogues`"


def test_the_stored_catalogues_match_the_installed_libraries() -> None:
    """Where the copy is of the installed version it equals the library's own catalogue;
    under another version it is not used, and the site checks read the library itself."""
    live = live_catalogues()
    for library, catalogue in live.items():
        stored = stored_catalogue(library)
        if stored is None:  # another version installed: the copy must not be used
            snapshot = json.loads(
                (files("sites") / "data" / "catalogues" / SNAPSHOT_FILE).read_text("utf-8")
            )
            assert snapshot[library]["version"] != catalogue["version"], REBUILD
            continue
        # through JSON, as the file is: a turbine's nominal power must round-trip exactly
        assert json.loads(json.dumps(catalogue)) == dict(stored), (
            f"{SNAPSHOT_FILE} differs from {library} {catalogue['version']}; {REBUILD}"
        )
    turbines = live["windpowerlib"]["turbines"]
    assert windpowerlib_turbines() == frozenset(turbines)
    assert pandapower_std_types("line") == frozenset(live["pandapower"]["line"])
