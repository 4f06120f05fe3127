"""The `microgrid` command line.

It starts at once because its modules import, at module level, only the standard library,
typer, rich and the light parts of the other packages (`sites.errors`, `sites.schema`,
`sites.loader`, `controller.kinds`): what every command's options and help need. Everything
that brings in numpy, pandas or heavier (pandapower, cvxpy, the forecasters, the simulator,
the service) is imported inside the command that uses it, and under ``TYPE_CHECKING`` where
only an annotation names it. `tests/cli/test_cli_startup.py` holds the rule.
"""
