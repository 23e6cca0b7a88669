"""`attrap adapters check` (from fixtures, recording a site served on 127.0.0.1, the structure it
prints) and `attrap adapters new`, through the CLI."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import tomllib
from pathlib import Path

import pytest
from record_sites import PORT, RECORDED, record
from site_server import FixtureSite
from typer.testing import CliRunner

from attrap.adapters.fixtures import RecordedBulletin, newest_first, read_manifest
from attrap.adapters.maintain import replay
from attrap.adapters.registry import load_file
from attrap.cli import app

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "attrap.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        '[crawl]\nnot_before = "2024-06-01"\nmin_delay_s = 0\nmax_attempts = 1\n'
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
    assert "aucune page enregistrée pour GET https://www.indre-et-loire.gouv.fr/" in result.stderr


def test_check_unknown_code(config: Path):
    result = runner.invoke(app, ["adapters", "check", "999", "-c", str(config)])
    assert result.exit_code == 2
    assert "code(s) d'administration inconnu(s) : 999" in result.stderr


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
    assert line.startswith(f"erreur : {adapters / '05.toml'} : clé 'dsfr.pagination' : ")


# --- Recording ---------------------------------------------------------------------------------


def tree(folder: Path, port: int | None = None) -> dict[str, bytes]:
    """A folder's files; ``port``: the local server's port written as the committed one."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    if port is not None:
        here, committed = f"127.0.0.1:{port}".encode(), f"127.0.0.1:{PORT}".encode()
        files = {name: body.replace(here, committed) for name, body in files.items()}
    return files


@pytest.mark.parametrize("code", sorted(RECORDED))
def test_recording_again_gives_the_committed_recording(code: str, tmp_path: Path):
    sites = tmp_path / "sites"
    result = record(code, sites, tmp_path, port=0)
    assert result.exit_code == 0, result.output
    assert "Enregistré : " in result.stdout
    port = int(re.findall(r"127\.0\.0\.1:(\d+)", (sites / code / "manifest.toml").read_text())[0])
    assert tree(sites / code, port) == tree(SITES / code)


def test_recording_again_replaces_the_folder_whole(tmp_path: Path):
    sites = tmp_path / "sites"
    assert record("37", sites, tmp_path, port=0).exit_code == 0
    (sites / "37" / "stale.html").write_text("<p>a page the site no longer has</p>")
    first = tree(sites / "37")
    again = record("37", sites, tmp_path, port=0)
    assert again.exit_code == 0, again.output
    after = tree(sites / "37")
    assert "stale.html" not in after
    assert sorted(after) == sorted(name for name in first if name != "stale.html")
    assert sorted(p.name for p in sites.iterdir()) == ["37"]  # no staging folder left


def test_record_never_overwrites_hand_made_fixtures(tmp_path: Path):
    sites = tmp_path / "sites"
    shutil.copytree(SITES / "a", sites / "37")
    result = record("37", sites, tmp_path, port=0)
    assert result.exit_code == 2
    assert "erreur : enregistrement impossible : " in result.stderr
    assert "pas un enregistrement" in result.stderr
    assert tree(sites / "37") == tree(SITES / "a")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def offline_config(tmp_path: Path, code: str | None = None) -> tuple[Path, str]:
    """A config whose site (adapter ``code``'s, else none) is a port nobody listens on."""
    url = f"http://127.0.0.1:{closed_port()}/Publications/RAA"
    config = tmp_path / "offline.toml"
    override = f'[adapters.overrides."{code}"]\nstart_urls = ["{url}"]\n' if code else ""
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f"[crawl]\nmin_delay_s = 0\nmax_attempts = 1\ntimeout_s = 2\n"
        f'[adapters]\npaths = ["{tmp_path / "prefectures"}"]\n{override}',
        encoding="utf-8",
    )
    return config, url


def test_record_says_when_the_site_does_not_answer(tmp_path: Path):
    config, _ = offline_config(tmp_path, "37")
    sites = tmp_path / "sites"
    args = ["adapters", "check", "37", "--record", "--sites", str(sites), "-c", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("erreur : le site ne répond pas : ")
    assert "rien n'est enregistré" in result.stderr
    assert not sites.exists()


def test_record_writes_nothing_when_the_crawl_finds_nothing(tmp_path: Path):
    with FixtureSite(SITES / "a", "https://www.indre-et-loire.gouv.fr") as site:
        url = f"{site.base}/Publications/Recueil-actes-administratifs"
        config = tmp_path / "attrap.toml"
        config.write_text(
            f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
            "[crawl]\nmin_delay_s = 0\nnot_before = 2030-01-01\n"
            f'[adapters.overrides."37"]\nstart_urls = ["{url}"]\n',
            encoding="utf-8",
        )
        sites = tmp_path / "sites"
        args = ["adapters", "check", "37", "--record", "--sites", str(sites), "-c", str(config)]
        result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "0 bulletin(s) trouvé(s) (1 pages lues)." in result.stdout
    assert "erreur : enregistrement non écrit : aucun bulletin trouvé" in result.stderr
    assert not sites.exists()


def test_record_says_when_the_start_page_is_refused(tmp_path: Path):
    with FixtureSite(SITES / "a", "https://www.indre-et-loire.gouv.fr") as site:
        config = tmp_path / "attrap.toml"
        config.write_text(
            f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[crawl]\nmin_delay_s = 0\n'
            f'[adapters.overrides."37"]\nstart_urls = ["{site.base}/Publications/RAA"]\n',
            encoding="utf-8",
        )
        sites = tmp_path / "sites"
        args = ["adapters", "check", "37", "--record", "--sites", str(sites), "-c", str(config)]
        result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("erreur : le site refuse la page de départ : HTTP 404")
    assert not sites.exists()


def test_record_and_fixtures_do_not_go_together(config: Path):
    fixtures = str(SITES / "a")
    args = ["adapters", "check", "37", "--record", "--fixtures", fixtures, "-c", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "erreur : --record enregistre le site réel" in result.stderr


def test_check_replays_a_recording_from_where_it_was_recorded(config: Path):
    result = runner.invoke(
        app, ["adapters", "check", "05", "--fixtures", str(SITES / "05"), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "5 bulletin(s) trouvé(s) (8 pages lues)." in result.stdout


# --- attrap adapters new -------------------------------------------------------------------


def test_new_records_the_site_at_once(config: Path, tmp_path: Path):
    sites = tmp_path / "sites"
    with FixtureSite(SITES / "c", "https://www.hautes-alpes.gouv.fr") as site:
        url = site.local(
            "https://www.hautes-alpes.gouv.fr/Publications/Recueil-des-actes-administratifs"
        )
        args = ["adapters", "new", "975", url, "--sites", str(sites), "-c", str(config)]
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    path = tmp_path / "prefectures" / "975.toml"
    assert f"Écrit : {path}" in result.stdout
    assert "Enregistré : " in result.stdout
    text = path.read_text("utf-8")
    adapter = tomllib.loads(text)
    assert adapter["engine"] == "dsfr" and adapter["start_urls"] == [url]
    assert adapter["timezone"] == "America/Miquelon"
    assert "dsfr" not in adapter  # the detected structure is a comment, to pin by hand
    assert '# pagination = "oldest-first"' in text and "# [dsfr]" in text

    # The recording is what the recorded-sites test replays: the new adapter passes it.
    manifest = read_manifest(sites / "975")
    assert manifest.recording is not None and manifest.recording.code == "975"
    assert len(manifest.bulletin) == 5
    report = asyncio.run(replay(load_file(path), sites / "975"))
    assert report.error is None
    assert newest_first(RecordedBulletin.of(r) for r in report.refs) == manifest.bulletin

    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "existe déjà ; il n'est pas remplacé" in again.stderr


def test_new_says_when_the_site_does_not_answer_and_writes_nothing(tmp_path: Path):
    config, url = offline_config(tmp_path)
    sites = tmp_path / "sites"
    result = runner.invoke(
        app, ["adapters", "new", "975", url, "--sites", str(sites), "-c", str(config)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("erreur : le site ne répond pas : ")
    assert "rien n'est écrit" in result.stderr
    assert not (tmp_path / "prefectures" / "975.toml").exists()
    assert not sites.exists()


def test_new_keeps_the_adapter_but_no_recording_when_nothing_is_found(tmp_path: Path):
    config = tmp_path / "attrap.toml"
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        "[crawl]\nmin_delay_s = 0\nnot_before = 2030-01-01\n"
        f'[adapters]\npaths = ["{tmp_path / "prefectures"}"]\n',
        encoding="utf-8",
    )
    sites = tmp_path / "sites"
    with FixtureSite(SITES / "a", "https://www.indre-et-loire.gouv.fr") as site:
        url = f"{site.base}/Publications/Recueil-actes-administratifs"
        result = runner.invoke(
            app, ["adapters", "new", "975", url, "--sites", str(sites), "-c", str(config)]
        )
    assert result.exit_code == 1
    assert (tmp_path / "prefectures" / "975.toml").exists()
    assert "erreur : enregistrement non écrit : aucun bulletin trouvé" in result.stderr
    assert "attrap adapters check 975 --record" in result.stdout
    assert not sites.exists()


def test_new_without_recording_writes_the_adapter_only(config: Path, tmp_path: Path):
    url = "https://www.saint-pierre-et-miquelon.gouv.fr/Publications/Recueil-des-actes"
    sites = tmp_path / "sites"
    args = ["adapters", "new", "975", url, "--no-record", "--sites", str(sites), "-c", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    adapter = tomllib.loads((tmp_path / "prefectures" / "975.toml").read_text("utf-8"))
    assert adapter["start_urls"] == [url]
    assert adapter["name"] == "Préfecture (Saint-Pierre-et-Miquelon)"
    assert "attrap adapters check 975 --record" in result.stdout
    assert not sites.exists()
    listed = runner.invoke(app, ["adapters", "list", "--format", "json", "-c", str(config)])
    assert '"code": "975"' in listed.stdout


def test_new_rejects_bad_codes_and_urls(config: Path):
    bad_code = runner.invoke(
        app, ["adapters", "new", "13b", "https://x.gouv.fr/", "-c", str(config)]
    )
    assert bad_code.exit_code == 2
    assert "n'est pas un code d'administration" in bad_code.stderr
    bad_url = runner.invoke(app, ["adapters", "new", "976", "ftp://x.gouv.fr/", "-c", str(config)])
    assert bad_url.exit_code == 2
    assert "n'est pas une URL http(s)" in bad_url.stderr
