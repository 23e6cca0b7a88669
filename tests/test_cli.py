from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrap.cli import app

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in [
        "run",
        "scan",
        "hits",
        "reprocess",
        "adapters",
        "notify",
        "serve",
        "daemon",
        "worker",
        "status",
        "db",
    ]:
        assert command in result.output


# Run in a fresh interpreter where psycopg and procrastinate cannot be imported, as after
# ``pip install attrap`` without the ``postgres`` extra.
WITHOUT_POSTGRES = """
import sys, importlib.abc
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in ("psycopg", "procrastinate"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
from attrap.cli import app
app(sys.argv[1:])
"""


def without_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_POSTGRES, *args], capture_output=True, text=True
    )


def test_sqlite_default_runs_without_the_postgres_extra(config_file: Path):
    upgraded = without_postgres("db", "upgrade", "-c", str(config_file))
    assert upgraded.returncode == 0, upgraded.stderr
    assert without_postgres("status", "-c", str(config_file)).returncode == 0
    worker = without_postgres("worker", "-c", str(config_file))
    assert worker.returncode == 2
    assert "pip install 'attrap[postgres]'" in worker.stderr
    assert worker.stderr.startswith("erreur :")


def test_adapters_list_json_covers_every_administration(config_file: Path):
    result = runner.invoke(app, ["adapters", "list", "--format", "json", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    adapters = json.loads(result.stdout)
    codes = {a["code"] for a in adapters}
    assert len(adapters) >= 105
    assert {"01", "2A", "2B", "976", "PP", "R11", "57"} <= codes
    engines = {a["code"]: a["engine"] for a in adapters}
    assert engines["13"] == "dsfr"
    assert engines["R93"] == "regions"
    assert engines["57"] == "dims"


def test_hits_on_an_empty_database(config_file: Path):
    for fmt, expected in [("json", "[]"), ("table", "Aucun résultat."), ("csv", "id,department")]:
        result = runner.invoke(app, ["hits", "--format", fmt, "-c", str(config_file)])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(expected)


def test_db_upgrade_and_status(config_file: Path, tmp_path: Path):
    result = runner.invoke(app, ["db", "upgrade", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "attrap.db").is_file()
    result = runner.invoke(app, ["status", "-c", str(config_file)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["hits", "--bogus"], "erreur : option inconnue : --bogus"),
        (["adapters", "check"], "erreur : argument manquant : code"),
        (["hits", "--limit", "x"], "erreur : valeur invalide pour '--limit' : "),
        (["nosuch"], "erreur : commande inconnue : nosuch"),
        (["hits", "--department"], "erreur : l'option --department demande une valeur"),
    ],
)
def test_usage_errors_are_worded_like_the_tools_own(args: list[str], error: str):
    # The installed command, as a user runs it (CliRunner would bypass its entry point).
    attrap = Path(sys.executable).with_name("attrap")
    result = subprocess.run([attrap, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(error), result.stderr
    assert not any(line.startswith(("Error", "Usage", "Try ")) for line in lines)
