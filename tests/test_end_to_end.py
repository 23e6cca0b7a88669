"""The whole chain through ``attrap run``: a prefecture page on 127.0.0.1 links a real bulletin
built from the labelled corpus; the run downloads it, reads it, finds its acts and hits, and a
webhook receives each drone and VSA hit exactly once — also when the run is repeated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrap.cli import app
from local_server import LocalServer, html, pdf, write_run_config
from notify_peers import WebhookReceiver

runner = CliRunner()
BULLETIN = "/contenu/telechargement/9001/9002/file/RAA%20n%C2%B013-2024-178.pdf"
LISTING = f"""<html><body><main>
<h1>Recueil des actes administratifs 2024</h1>
<div class="fr-downloads-group"><ul><li>
<a class="fr-link fr-link--download" href="{BULLETIN}">RAA spécial n°13-2024-178
<span class="fr-link__detail">PDF - 1,2 Mb - 11/07/2024</span></a>
</li></ul></div>
</main></body></html>"""


@pytest.fixture
def site(bulletin: bytes) -> Iterator[LocalServer]:
    with LocalServer().running() as server:
        server.route("/Publications/RAA-et-Archives", html(LISTING))
        server.route(BULLETIN, pdf(bulletin))
        yield server


def write_config(tmp_path: Path, database_url: str, site: LocalServer, hook: str) -> Path:
    config = write_run_config(
        tmp_path,
        database_url,
        f"""[ocr]
enabled = false
[adapters.overrides."13"]
start_urls = ["{site.url("/Publications/RAA-et-Archives")}"]
[notify.webhook]
url = "{hook}"
categories = ["drone", "vsa"]
""",
    )
    return config


def test_run_finds_the_orders_and_notifies_each_once(
    site: LocalServer, webhook: WebhookReceiver, tmp_path: Path, database_url: str
):
    config = write_config(tmp_path, database_url, site, webhook.url)

    first = runner.invoke(app, ["run", "13", "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert "Nouvelles détections: " in first.output

    result = runner.invoke(app, ["hits", "--department", "13", "-f", "json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    by_category: dict[str, set[str]] = {}
    for hit in hits:
        by_category.setdefault(hit["category"], set()).add(hit["act"]["number"])
        assert hit["link"] == f"{site.url(BULLETIN)}#page={hit['page']}"
        assert hit["act"]["page_start"] <= hit["page"] <= hit["act"]["page_end"]
    # The labelled corpus: three drone authorisations (one also VSA), two VSA ones; the
    # sommaire, water abstraction, air show and civilian-drone ban give no drone hit.
    assert len(by_category["drone"]) == 3
    assert len(by_category["vsa"]) == 2
    assert "13-2024-07-10-00003" in by_category["drone"]

    delivered = [r.json() for r in webhook.posts()]
    assert sorted((d["category"], d["act"]["number"]) for d in delivered) == sorted(
        (h["category"], h["act"]["number"]) for h in hits if h["category"] in ("drone", "vsa")
    )

    pdf_downloads = len(site.requests_to(BULLETIN))
    second = runner.invoke(app, ["run", "13", "-c", str(config)])
    assert second.exit_code == 0, second.output
    assert "Nouvelles détections: 0" in second.output
    assert len(site.requests_to(BULLETIN)) == pdf_downloads == 1
    assert len(webhook.posts()) == len(delivered)
