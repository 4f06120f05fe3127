"""``microgrid keys`` and ``microgrid serve`` from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from controller.cli.main import app


def test_keys_create_list_revoke(sqlite_url: str) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "utility",
            "--site",
            "gaotang-textile",
            "--database-url",
            sqlite_url,
        ],
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("mg_")
    key_id = token.split("_")[1]
    listed = runner.invoke(app, ["keys", "list", "--database-url", sqlite_url])
    assert key_id in listed.stdout and token not in listed.stdout
    assert (
        runner.invoke(app, ["keys", "revoke", key_id, "--database-url", sqlite_url]).exit_code == 0
    )
    again = runner.invoke(app, ["keys", "revoke", key_id, "--database-url", sqlite_url])
    assert again.exit_code == 2 and "no active key" in again.stderr


def test_utility_key_needs_a_park_and_a_known_one(sqlite_url: str) -> None:
    runner = CliRunner()
    none = runner.invoke(app, ["keys", "create", "--role", "utility", "--database-url", sqlite_url])
    assert none.exit_code == 2 and "at least one --site" in none.stderr
    bad = runner.invoke(
        app,
        ["keys", "create", "--role", "utility", "--site", "nowhere", "--database-url", sqlite_url],
    )
    assert bad.exit_code == 2 and "nowhere" in bad.stderr


def test_serve_has_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--demo" in result.stdout
