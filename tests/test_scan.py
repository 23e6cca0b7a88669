"""``attrap scan`` on built bulletins: a file, a URL served on a real socket, a scanned bulletin."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrap.cli import app
from bench.bulletins import Bulletin, CorpusAct, build_bulletin, load_corpus
from bench.templates import TEMPLATES, build

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus() -> dict[str, CorpusAct]:
    return {act.name[:2]: act for act in load_corpus()}


@pytest.fixture(scope="module")
def bulletin(corpus: dict[str, CorpusAct], tmp_path_factory: pytest.TempPathFactory) -> Bulletin:
    out = tmp_path_factory.mktemp("scan") / "raa.pdf"
    return build_bulletin([corpus["04"], corpus["08"], corpus["11"]], out)


@pytest.fixture(scope="module")
def server(bulletin: Bulletin) -> Iterator[str]:
    """The bulletin's folder over HTTP on 127.0.0.1."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(bulletin.path.parent))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def scan_json(*arguments: str) -> dict[str, object]:
    result = runner.invoke(app, ["scan", *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scan_a_file_prints_acts_and_hits(bulletin: Bulletin, config_file: Path):
    output = scan_json(str(bulletin.path), "-c", str(config_file))

    assert (output["pages"], output["ocr_pages"]) == (bulletin.page_count, 0)
    assert [(a["number"], a["page_start"], a["page_end"]) for a in output["acts"]] == [
        (a.number, a.page_start, a.page_end) for a in bulletin.acts
    ]
    vsa_and_drone = bulletin.acts[0]
    hits = {(h["category"], h["act"]["number"]) for h in output["hits"]}
    assert hits == {
        ("drone", vsa_and_drone.number),
        ("vsa", vsa_and_drone.number),
        ("drone-interdiction", bulletin.acts[1].number),
    }
    drone = next(h for h in output["hits"] if h["category"] == "drone")
    assert set(drone) == {"category", "score", "act", "page", "link", "terms", "snippet"}
    assert drone["act"]["signed_on"] == "2025-05-09"
    assert drone["link"] == f"{bulletin.path.resolve().as_uri()}#page={drone['page']}"
    assert 0 < drone["score"] <= 1 and drone["terms"] and drone["snippet"]


def test_scan_a_url(bulletin: Bulletin, server: str, config_file: Path):
    url = f"{server}/{bulletin.path.name}"
    output = scan_json(url, "-c", str(config_file))
    assert len(output["acts"]) == len(bulletin.acts)
    assert all(h["link"].startswith(f"{url}#page=") for h in output["hits"])


def test_scan_table_is_in_french(bulletin: Bulletin, config_file: Path):
    result = runner.invoke(app, ["scan", str(bulletin.path), "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "Détections" in result.stdout
    assert f"{bulletin.page_count} pages (dont 0 lues par OCR), 3 actes, 3 détections" in (
        " ".join(result.stdout.split())
    )


def test_scan_errors_are_one_line(tmp_path: Path, server: str, config_file: Path):
    not_pdf = tmp_path / "page.pdf"
    not_pdf.write_text("<html></html>", encoding="utf-8")
    for source, message in [
        (str(tmp_path / "absent.pdf"), "fichier introuvable"),
        (str(not_pdf), "pas un fichier PDF"),
        (f"{server}/absent.pdf", "HTTP 404"),
    ]:
        result = runner.invoke(app, ["scan", source, "-c", str(config_file)])
        assert result.exit_code == 1
        assert message in result.stderr


def test_scan_a_url_over_the_size_cap(bulletin: Bulletin, server: str, tmp_path: Path):
    config = tmp_path / "small.toml"
    config.write_text("[crawl]\nmax_pdf_mb = 0.001\n", encoding="utf-8")
    result = runner.invoke(app, ["scan", f"{server}/{bulletin.path.name}", "-c", str(config)])
    assert result.exit_code == 1
    assert "plus de 0.001 Mo" in result.stderr


def test_scan_a_scanned_bulletin(corpus: dict[str, CorpusAct], tmp_path: Path, config_file: Path):
    scanned = build_bulletin([corpus["01"]], tmp_path / "scan.pdf", scanned=True, scan_dpi=150)
    output = scan_json(str(scanned.path), "-c", str(config_file))
    assert output["ocr_pages"] == scanned.page_count
    assert [(a["page_start"], a["page_end"]) for a in output["acts"]] == [
        (a.page_start, a.page_end) for a in scanned.acts
    ]
    assert [h["category"] for h in output["hits"]] == ["drone"]


def test_scan_explain_says_why(tmp_path: Path, config_file: Path):
    """A State-template bulletin: why cover and sommaire are set aside, how each act was found,
    the signals with their weights and the contexts that kept a ban out of « drone »."""
    built = build(TEMPLATES["etat"](), tmp_path / "etat.pdf")
    result = runner.invoke(
        app, ["scan", str(built.path), "--explain", "-c", str(config_file)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "p. 1 : couverture (« recueil », aucun texte d'acte)" in text
    assert "p. 2 : sommaire (titre « Sommaire »)" in text
    assert "p. 5–7 · 13-2025-09-11-00004 · 20250922 AP drone SGO" in text
    assert "trouvé par : page séparatrice (n° 13-2025-09-11-00004), numéro propre de l'acte" in text
    assert "Drones (drone) : score 1.00, seuil 0.60 → détection" in text
    assert "+0.60  CSI L. 242-1 à L. 242-8 : « L. 242-1 » (p. 6, dans un « Vu »)" in text
    assert "-0.60  interdiction de survol ou d'usage (contexte: drones de loisir)" in text

    output = scan_json(str(built.path), "--explain", "-c", str(config_file))
    assert [s["page"] for s in output["set_aside"]] == [1, 2]
    drone = output["acts"][1]["explain"][0]
    assert drone["category"] == "drone" and drone["hit"]
    assert {"signal": "drone", "term": "drone", "weight": 0.35, "cited": False, "page": 5} in (
        drone["signals"]
    )


def test_scan_explain_names_the_exclusion(tmp_path: Path, config_file: Path):
    built = build(TEMPLATES["bas-rhin"](), tmp_path / "bas-rhin.pdf")
    output = scan_json(str(built.path), "--explain", "-c", str(config_file))
    delegation = output["acts"][1]["explain"]
    drone = next(c for c in delegation if c["category"] == "drone")
    assert not drone["hit"] and drone["score"] >= drone["min_score"]
    assert drone["excluded_by"] == [
        "délégation de signature : elle donne le pouvoir de signer les autorisations qu'elle "
        "énumère"
    ]
