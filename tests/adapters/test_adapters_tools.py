"""`attrap adapters check` and `attrap adapters new`, through the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrap.cli import app

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "attrap.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        '[crawl]\nnot_before = "2024-06-01"\n'
        f'[adapters]\npaths = ["{tmp_path / "prefectures"}"]\n',
        encoding="utf-8",
    )
    return path


def test_check_prints_the_bulletins_newest_first(config: Path):
    result = runner.invoke(
        app, ["adapters", "check", "37", "--fixtures", str(SITES / "a"), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "Bulletins trouvés pour 37" in result.stdout
    assert "6 bulletin(s) trouvé(s) (3 pages lues)." in result.stdout
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", result.stdout)
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == "2025-03-12" and dates[-1] == "2024-06-03"


def test_check_fails_when_nothing_is_found(config: Path):
    result = runner.invoke(
        app, ["adapters", "check", "37", "--fixtures", str(SITES / "b"), "-c", str(config)]
    )
    assert result.exit_code == 1
    assert "0 bulletin(s) trouvé(s)" in result.stdout
    assert "no fixture for GET https://www.indre-et-loire.gouv.fr/" in result.stderr


def test_check_unknown_code(config: Path):
    result = runner.invoke(app, ["adapters", "check", "999", "-c", str(config)])
    assert result.exit_code == 2
    assert "unknown administration code(s): 999" in result.stderr


def test_check_prints_the_structure_it_detected(config: Path):
    result = runner.invoke(
        app, ["adapters", "check", "05", "--fixtures", str(SITES / "c"), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Structure détectée :" in out
    assert "moteur (famille de sites) : dsfr" in out
    assert "pagination : du plus ancien au plus récent (3 pages de liste)" in out
    assert "pages de détail : suivies (4 pages)" in out
    assert "menus déroulants : aucun" in out
    assert "niveaux jusqu'aux bulletins : année (4 pages)" in out
    assert 'pagination = "oldest-first"' in out and 'levels = ["year"]' in out

    menus = runner.invoke(
        app, ["adapters", "check", "35", "--fixtures", str(SITES / "e"), "-c", str(config)]
    )
    assert "menus déroulants : Archives-des-RAA-liste-docs (POST, 1 page)" in menus.stdout
    dims = runner.invoke(
        app, ["adapters", "check", "57", "--fixtures", str(SITES / "dims"), "-c", str(config)]
    )
    assert "moteur (famille de sites) : dims, parcours fixe" in dims.stdout


def test_check_names_an_invalid_pin_and_its_file(config: Path, tmp_path: Path):
    adapters = tmp_path / "prefectures"
    adapters.mkdir()
    text = (REPO / "prefectures" / "05.toml").read_text("utf-8")
    (adapters / "05.toml").write_text(text + "[dsfr]\npagination = 'newest'\n", "utf-8")
    result = runner.invoke(
        app, ["adapters", "check", "05", "--fixtures", str(SITES / "c"), "-c", str(config)]
    )
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"erreur : {adapters / '05.toml'}: key 'dsfr.pagination': ")


def test_new_writes_an_adapter_and_a_failing_test_then_refuses_to_overwrite(
    config: Path, tmp_path: Path
):
    url = "https://www.saint-pierre-et-miquelon.gouv.fr/Publications/Recueil-des-actes"
    tests = tmp_path / "tests" / "adapters"
    args = ["adapters", "new", "975", url, "--tests", str(tests), "-c", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    adapter = tomllib.loads((tmp_path / "prefectures" / "975.toml").read_text("utf-8"))
    assert adapter["engine"] == "dsfr" and adapter["kind"] == "departement"
    assert adapter["start_urls"] == [url]
    assert adapter["timezone"] == "America/Miquelon"
    assert adapter["name"] == "Préfecture (Saint-Pierre-et-Miquelon)"

    listed = runner.invoke(app, ["adapters", "list", "--format", "json", "-c", str(config)])
    assert '"code": "975"' in listed.stdout

    skeleton = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert skeleton.returncode == 1
    assert "fill in EXPECTED and fixtures/sites/975/" in skeleton.stdout

    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already exists; not overwriting it" in again.stderr


def test_filled_in_skeleton_passes(config: Path, tmp_path: Path):
    url = "https://www.indre-et-loire.gouv.fr/Publications/Recueil-actes-administratifs"
    tests = tmp_path / "tests" / "adapters"
    result = runner.invoke(
        app, ["adapters", "new", "37", url, "--tests", str(tests), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    shutil.copytree(SITES / "a", tmp_path / "fixtures" / "sites" / "37")
    files = "https://www.indre-et-loire.gouv.fr/contenu/telechargement"
    march_2025 = "RAA%20n%C2%B037-2025-101%20du%2012%20mars%202025.pdf"
    expected = [
        (f"{files}/50101/400101/file/{march_2025}", (2025, 3, 12)),
        (f"{files}/50102/400102/file/RAA+special+n%C2%B012.pdf", (2025, 2, 3)),
        (f"{files}/48810/391002/file/RAA%20n%C2%B037-2024-250.pdf", (2024, 12, 20)),
        (f"{files}/48790/390950/file/recueil-septembre.pdf", (2024, 9, 2)),
        (f"{files}/48701/390801/file/RAA_2024-07-16.pdf", (2024, 7, 16)),
        (f"{files}/48650/390700/file/RAA_37-2024-120.pdf", (2024, 6, 3)),
        (f"{files}/48649/390699/file/RAA_37-2024-118.pdf", (2024, 5, 28)),
        (f"{files}/48001/389001/file/RAA_37-2024-001.pdf", (2024, 1, 5)),
    ]  # fmt: skip
    test = tests / "test_37.py"
    filled = ", ".join(f'("{u}", dt.date{d})' for u, d in expected)
    test.write_text(
        test.read_text("utf-8").replace(
            "EXPECTED: list[tuple[str, dt.date | None]] = []",
            f"EXPECTED: list[tuple[str, dt.date | None]] = [{filled}]",
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout


def test_new_rejects_bad_codes_and_urls(config: Path):
    bad_code = runner.invoke(
        app, ["adapters", "new", "13b", "https://x.gouv.fr/", "-c", str(config)]
    )
    assert bad_code.exit_code == 2
    assert "is not an administration code" in bad_code.stderr
    bad_url = runner.invoke(app, ["adapters", "new", "976", "ftp://x.gouv.fr/", "-c", str(config)])
    assert bad_url.exit_code == 2
    assert "is not an http(s) URL" in bad_url.stderr
