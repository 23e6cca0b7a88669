"""``attrap run`` end to end: the real dsfr engine crawls a saved prefecture site served on
127.0.0.1, on SQLite and PostgreSQL; a broken administration is reported and the run goes on."""

from __future__ import annotations

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
from local_server import LocalServer, serve_site, write_run_config

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "a"

runner = CliRunner()


@pytest.fixture
def site() -> Iterator[LocalServer]:
    """Indre-et-Loire's saved RAA pages (family a), with a real PDF behind every download link."""
    with LocalServer().running() as server:
        serve_site(server, SITE)
        yield server


def write_config(tmp_path: Path, database_url: str, start_urls: dict[str, str]) -> Path:
    overrides = "".join(
        f'[adapters.overrides."{code}"]\nstart_urls = ["{url}"]\n'
        for code, url in start_urls.items()
    )
    return write_run_config(tmp_path, database_url, overrides)


def start_url(site: LocalServer, folder: Path) -> str:
    return site.url(urlsplit(load_manifest(folder)[0].url).path)


def test_run_crawls_reports_and_a_second_run_downloads_nothing(
    site: LocalServer, tmp_path: Path, database_url: str
):
    start_urls = {"37": start_url(site, SITE), "13": site.url("/Publications/RAA-et-Archives")}
    config = write_config(tmp_path, database_url, start_urls)

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
    assert "code(s) d'administration inconnu(s)" in result.output


def test_run_full_walks_the_pages_an_incremental_run_skips(tmp_path: Path, database_url: str):
    detail_family = SITE.parent / "d"
    with LocalServer().running() as site:
        serve_site(site, detail_family)
        config = write_config(tmp_path, database_url, {"44": start_url(site, detail_family)})
        command = ["run", "44", "--since", "2024-06-01", "-c", str(config)]

        def pages_requested(arguments: list[str]) -> list[str]:
            before = len(site.log)
            result = runner.invoke(app, arguments)
            assert result.exit_code == 0, result.output
            return [r.path for r in site.log[before:] if not r.path.endswith(".pdf")]

        first = pages_requested(command)
        incremental = pages_requested(command)
        full = pages_requested([*command, "--full"])

    assert len(first) == 7
    assert incremental == first[:1]
    assert sorted(full) == sorted(first)
