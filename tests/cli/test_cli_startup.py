"""The command line starts without its heavy libraries: they are imported inside the commands
that need them (the rule is in `controller/cli/__init__.py`; its CPU time is in
`bench/bench_cli.py`)."""

from __future__ import annotations

import subprocess
import sys

from sites.catalogues import stored_catalogue

HEAVY = (
    "numpy",
    "pandas",
    "scipy",
    "pandapower",
    "windpowerlib",
    "cvxpy",
    "highspy",
    "sklearn",
    "matplotlib",
    "fastapi",
    "sqlalchemy",
    "sim",
    "forecasting",
    "network_models",
)
"""Top-level packages that `microgrid --help` and `microgrid sites list` must not import."""

_LOADED = "import sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"


def loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{_LOADED}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(result.stdout.split())


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert loaded_after("import controller.cli.main") & set(HEAVY) == set()


def test_help_and_sites_list_load_no_heavy_library() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from controller.cli.main import app\n"
        "for args in (['--help'], ['sites', 'list']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)"
    )
    # checking a site reads pandapower's and windpowerlib's catalogues from the stored copy
    # of the installed versions; under other versions it reads them live (correct, slower:
    # `python -m sites.build_catalogues` rewrites the copy, bench/bench_cli.py shows the time)
    live = {lib for lib in ("pandapower", "windpowerlib") if stored_catalogue(lib) is None}
    assert loaded_after(code) & (set(HEAVY) - live) == set()
