"""``attrap run`` end to end: the real dsfr engine crawls a saved prefecture site served on
127.0.0.1, on SQLite and PostgreSQL; a broken administration is reported and the run goes on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from attrap.adapters.fixtures import load_manifest
from attrap.cli import app
from attrap.store.db import open_database
from attrap.store.models import CrawlRun, Document
from local_server import LocalServer, html, make_pdf, pdf

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "a"
DOWNLOAD_LINK = re.compile(r'href="(/contenu/telechargement/[^"]+)"')

runner = CliRunner()


@pytest.fixture
def site() -> Iterator[LocalServer]:
    """Indre-et-Loire's saved RAA pages (family a), with a real PDF behind every download link."""
    with LocalServer().running() as server:
        for page in load_manifest(SITE):
            body = (SITE / page.file).read_text(encoding="utf-8")
            server.route(urlsplit(page.url).path, html(body))
            for href in DOWNLOAD_LINK.findall(body):
                server.route(href, pdf(make_pdf(href)))
        yield server


def write_config(tmp_path: Path, database_url: str, site: LocalServer) -> Path:
    root = site.url(urlsplit(load_manifest(SITE)[0].url).path)
    config = tmp_path / "attrap.toml"
    config.write_text(
        f"""
[storage]
data_dir = "{tmp_path / "data"}"
[database]
url = "{database_url}"
[crawl]
min_delay_s = 0
max_attempts = 1
[adapters.overrides."37"]
start_urls = ["{root}"]
[adapters.overrides."13"]
start_urls = ["{site.url("/Publications/RAA-et-Archives")}"]
""",
        encoding="utf-8",
    )
    return config


def test_run_crawls_reports_and_a_second_run_downloads_nothing(
    site: LocalServer, tmp_path: Path, database_url: str
):
    config = write_config(tmp_path, database_url, site)

    first = runner.invoke(app, ["run", "37", "13", "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert "Résumé du passage" in first.output
    assert "HTTP 404" in first.output  # 13's listing is not on this site
    pdf_requests = [r for r in site.log if r.path.endswith(".pdf")]
    assert len(pdf_requests) == 8

    requests_before = len(site.log)
    second = runner.invoke(app, ["run", "37", "-c", str(config)])
    assert second.exit_code == 0, second.output
    assert not any(r.path.endswith(".pdf") for r in site.log[requests_before:])

    database = open_database(database_url)
    with database.session() as session:
        documents = list(session.scalars(select(Document)))
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    database.engine.dispose()
    assert len(documents) == 8
    assert {d.status for d in documents} == {"matched"}
    assert [(r.administration_code, r.found, r.new, r.failed) for r in runs] == [
        ("37", 8, 8, 0),
        ("13", 0, 0, 0),
        ("37", 8, 0, 0),
    ]
    assert runs[1].error is not None and "HTTP 404" in runs[1].error


def test_run_with_an_unknown_code_is_a_usage_error(config_file: Path):
    result = runner.invoke(app, ["run", "999", "-c", str(config_file)])
    assert result.exit_code == 2
    assert "unknown administration code" in result.output
