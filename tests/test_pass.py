"""The one pass (``service.run_pass``, what ``attrap run`` runs): documents a killed process left
behind are taken up, within a bounded number of attempts; a full queue leaves documents waiting
in the database, not lost; the start page's fate is recorded for health."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from attrap.adapters.registry import sync_administrations
from attrap.config import Settings
from attrap.service import run_pass
from attrap.store.db import Database
from attrap.store.models import CrawlRun, Document
from attrap.store.pdfs import PdfStore
from local_server import (
    ListingEngine,
    LocalServer,
    Reply,
    crawl_settings,
    html,
    listing,
    lookup,
    make_pdf,
    spec,
)


def stored_pdf(settings: Settings, text: str) -> str:
    return PdfStore.of(settings).put(make_pdf(text))


def test_stranded_documents_are_taken_up_within_their_attempts(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route("/raa", html(listing()))
    settings = crawl_settings(tmp_path)
    settings.processing.queue_size = 1  # three documents: two wait in the database meanwhile
    admin = spec("T1", server.url("/raa"))
    with database.session() as session:
        sync_administrations(session, [admin])
        for number, attempts in enumerate([0, 1, 0, 3]):
            session.add(
                Document(
                    administration_code="T1",
                    url=f"https://example.test/raa-{number}.pdf",
                    sha256=stored_pdf(settings, f"RAA {number}"),
                    status="fetched" if number % 2 == 0 else "extracted",
                    process_attempts=attempts,
                )
            )

    asyncio.run(run_pass(settings, database, [admin], get_engine=lookup(ListingEngine())))

    with database.session() as session:
        documents = list(session.scalars(select(Document).order_by(Document.id)))
    assert [d.status for d in documents] == ["matched", "matched", "matched", "failed"]
    assert [d.process_attempts for d in documents] == [1, 2, 1, 3]
    assert documents[3].error is not None
    assert documents[3].error.startswith("processing did not finish in 3 attempts")


def test_a_start_page_that_moved_or_vanished_is_recorded(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route("/raa", Reply(status=301, headers={"Location": "/accueil"}))
    server.route("/accueil", html(listing()))
    server.route("/gone", Reply(status=404, body=b"Not Found"))
    settings = crawl_settings(tmp_path, max_attempts=1)
    specs = [spec("T1", server.url("/raa")), spec("T2", server.url("/gone"))]

    asyncio.run(run_pass(settings, database, specs, get_engine=lookup(ListingEngine())))

    with database.session() as session:
        runs = {r.administration_code: r for r in session.scalars(select(CrawlRun))}
    assert (runs["T1"].start_status, runs["T1"].start_redirect) == (200, server.url("/accueil"))
    assert (runs["T1"].listed, runs["T1"].error) == (0, None)
    assert (runs["T2"].start_status, runs["T2"].start_redirect) == (404, None)
    assert runs["T2"].error is not None
