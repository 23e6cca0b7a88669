"""The crawl stage against a real local site, on SQLite and PostgreSQL: discovery, incremental
downloads and discovery, duplicates, recorded failures and crawl_runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from attrap.adapters.engines import get_engine
from attrap.adapters.fixtures import load_manifest
from attrap.adapters.registry import AdapterSpec, load_file
from attrap.config import Settings
from attrap.pipeline import CrawlOutcome, CrawlProgress, DocumentProcessor, run_crawl
from attrap.store.db import Database
from attrap.store.models import CrawlRun, Document
from attrap.store.pdfs import PdfStore
from local_server import (
    ListingEngine,
    LocalServer,
    Reply,
    VirtualClock,
    crawl_settings,
    html,
    listing,
    lookup,
    make_pdf,
    pdf,
    revalidated_page,
    serve_site,
    spec,
)

REPO = Path(__file__).resolve().parents[1]


def crawl(
    settings: Settings,
    database: Database,
    specs: list[AdapterSpec],
    engine: ListingEngine,
    *,
    process: DocumentProcessor | None = None,
    not_before: dt.date | None = None,
) -> list[CrawlOutcome]:
    return asyncio.run(
        run_crawl(
            settings,
            database,
            specs,
            get_engine=lookup(engine),
            not_before=not_before,
            process=process,
            clock=VirtualClock(),
        )
    )


def documents(database: Database) -> dict[str, Document]:
    with database.session() as session:
        return {d.url.rsplit("/", 1)[-1]: d for d in session.scalars(select(Document))}


def crawl_runs(database: Database) -> list[CrawlRun]:
    with database.session() as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def pdf_dir_content(settings: Settings) -> list[str]:
    directory = PdfStore.of(settings).directory
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_failures_are_recorded_once_and_the_run_goes_on(
    server: LocalServer, tmp_path: Path, database: Database
):
    good, other = make_pdf("RAA 13-2024-001"), make_pdf("RAA 13-2024-002")
    routes = {
        "/f/ok.pdf": pdf(good),
        "/f/ok-copy.pdf": pdf(good),
        "/f/busy.pdf": iter([Reply(status=429, headers={"Retry-After": "30"}), pdf(other)]),
        "/f/down.pdf": Reply(status=503),
        "/f/slow.pdf": Reply(body=good, delay_s=1.0),
        "/f/loop.pdf": Reply(status=302, headers={"Location": "/f/loop2.pdf"}),
        "/f/loop2.pdf": Reply(status=302, headers={"Location": "/f/loop.pdf"}),
        "/f/truncated.pdf": Reply(body=other, content_length=len(other) + 100),
        "/f/error.pdf": html("<!DOCTYPE html><h1>Erreur 500</h1>"),
        "/f/huge.pdf": pdf(make_pdf("x" * 20_000)),
        "/f/old.pdf": pdf(make_pdf("old")),
    }
    for path, reply in routes.items():
        if isinstance(reply, Reply):
            server.route(path, reply)
        else:
            server.route(path, lambda _request, replies=reply: next(replies))
    links = [(p, p.split("/")[-1], "2024-07-16") for p in routes if p != "/f/loop2.pdf"]
    links[-1] = ("/f/old.pdf", "RAA de 2019", "2019-03-01")
    server.route("/raa", html(listing(*links)))
    settings = crawl_settings(tmp_path, timeout_s=0.3, max_attempts=2, max_pdf_mb=0.01)
    handed_on: list[str] = []

    async def process(document_id: int) -> None:
        with database.session() as session:
            document = session.get_one(Document, document_id)
            assert document.status == "fetched"
            stored = PdfStore.of(settings).path(document.sha256)
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == document.sha256
            handed_on.append(document.url.rsplit("/", 1)[-1])

    (outcome,) = crawl(
        settings, database, [spec("T1", server.url("/raa"))], ListingEngine(), process=process
    )

    assert outcome.error is None
    assert (outcome.found, outcome.new, outcome.downloaded, outcome.duplicates, outcome.failed) == (
        9,
        9,
        2,
        1,
        6,
    )
    (run,) = crawl_runs(database)
    assert (run.found, run.new, run.failed, run.error) == (9, 9, 6, None)
    assert run.finished_at is not None
    docs = documents(database)
    assert "old.pdf" not in docs
    assert sorted(handed_on) == ["busy.pdf", "ok.pdf"]
    assert docs["ok-copy.pdf"].status == "duplicate"
    assert docs["ok-copy.pdf"].duplicate_of_id == docs["ok.pdf"].id
    expected_errors = {
        "down.pdf": "HTTP 503",
        "slow.pdf": "ReadTimeout",
        "loop.pdf": "boucle de redirections",
        "truncated.pdf": "peer closed connection",
        "error.pdf": "pas un PDF",
        "huge.pdf": "plus grand que la limite de 0.01 Mo",
    }
    for name, error in expected_errors.items():
        assert docs[name].status == "failed", name
        assert error in (docs[name].error or ""), (name, docs[name].error)
        assert docs[name].fetch_attempts == 1
        assert docs[name].sha256 is None
    # Nothing half-stored: the two distinct PDFs, no temporary file.
    digests = {hashlib.sha256(content).hexdigest() for content in (good, other)}
    store = PdfStore.of(settings)
    assert pdf_dir_content(settings) == sorted(store.path(d).name for d in digests)


def test_second_crawl_downloads_nothing(server: LocalServer, tmp_path: Path, database: Database):
    server.route(
        "/raa",
        revalidated_page(
            listing(("/f/a.pdf", "RAA 1", "2024-07-01"), ("/f/b.pdf", "RAA 2", None)),
            etag='"listing-1"',
            last_modified="Mon, 01 Jul 2024 08:00:00 GMT",
        ),
    )
    server.route("/f/a.pdf", pdf(make_pdf("a")))
    server.route("/f/b.pdf", pdf(make_pdf("b")))
    settings = crawl_settings(tmp_path)
    specs = [spec("T1", server.url("/raa"))]

    first = crawl(settings, database, specs, ListingEngine())
    requests_after_first = len(server.log)
    second = crawl(settings, database, specs, ListingEngine())

    assert (first[0].found, first[0].new, first[0].downloaded) == (2, 2, 2)
    assert (second[0].found, second[0].new, second[0].downloaded) == (2, 0, 0)
    again = server.log[requests_after_first:]
    assert [(r.path, r.headers.get("if-none-match")) for r in again] == [("/raa", '"listing-1"')]
    assert [(r.found, r.new, r.failed) for r in crawl_runs(database)] == [(2, 2, 0), (2, 0, 0)]


def test_failed_download_is_retried_on_later_runs_within_the_bound(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route(
        "/raa",
        html(listing(("/f/down.pdf", "RAA 1", "2024-07-01"), ("/f/flaky.pdf", "RAA 2", None))),
    )
    server.route("/f/down.pdf", Reply(status=404))
    server.route("/f/flaky.pdf", html("<p>maintenance</p>"))
    settings = crawl_settings(tmp_path, max_download_runs=2)
    specs = [spec("T1", server.url("/raa"))]

    crawl(settings, database, specs, ListingEngine())
    assert documents(database)["flaky.pdf"].status == "failed"
    server.route("/f/flaky.pdf", pdf(make_pdf("flaky")))
    crawl(settings, database, specs, ListingEngine())
    crawl(settings, database, specs, ListingEngine())

    docs = documents(database)
    assert docs["flaky.pdf"].status == "fetched"
    assert docs["flaky.pdf"].error is None
    assert docs["down.pdf"].status == "failed"
    assert docs["down.pdf"].fetch_attempts == 2
    assert len(server.requests_to("/f/down.pdf")) == 2  # not a third time
    assert len(server.requests_to("/f/flaky.pdf")) == 2
    assert [r.failed for r in crawl_runs(database)] == [2, 1, 0]


def test_a_failing_site_is_recorded_and_the_others_still_run(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route("/ok", html(listing(("/f/a.pdf", "RAA 1", "2024-07-01"))))
    server.route("/f/a.pdf", pdf(make_pdf("a")))
    server.route("/changed", html("<p>Nouveau site</p>"))
    specs = [
        spec("T1", server.url("/gone")),
        spec("T2", server.url("/changed"), engine="changed"),
        spec("T3", server.url("/ok"), engine="unknown"),
        spec("T4", server.url("/ok")),
    ]
    outcomes = crawl(crawl_settings(tmp_path), database, specs, ListingEngine())

    errors = {o.code: o.error for o in outcomes}
    assert "HTTP 404" in (errors["T1"] or "")
    assert errors["T2"] == "ValueError: no RAA section found on the start page"
    assert errors["T3"] == "KeyError: 'unknown'"
    assert errors["T4"] is None
    assert outcomes[3].downloaded == 1
    runs = {r.administration_code: r for r in crawl_runs(database)}
    assert runs["T2"].error == errors["T2"]
    assert all(r.finished_at is not None for r in runs.values())


def test_not_before_reaches_the_engine_and_progress_is_reported(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route(
        "/raa",
        html(
            listing(("/f/new.pdf", "RAA récent", "2024-09-02"), ("/f/old.pdf", "RAA", "2024-03-01"))
        ),
    )
    server.route("/f/new.pdf", pdf(make_pdf("new")))
    engine = ListingEngine()
    reports: list[CrawlProgress] = []
    asyncio.run(
        run_crawl(
            crawl_settings(tmp_path),
            database,
            [spec("T1", server.url("/raa"))],
            get_engine=lookup(engine),
            not_before=dt.date(2024, 9, 1),
            progress=reports.append,
            clock=VirtualClock(),
        )
    )
    assert engine.not_before_seen == [dt.date(2024, 9, 1)]
    assert list(documents(database)) == ["new.pdf"]
    assert reports[-1] == CrawlProgress(
        "T1", found=1, to_download=1, downloaded=1, failed=0, finished=True
    )


def test_second_crawl_does_not_request_known_detail_pages_and_full_does(
    server: LocalServer, tmp_path: Path, database: Database
):
    # Loire-Atlantique (family d): a list newest first, one detail page per bulletin.
    site = REPO / "fixtures" / "sites" / "d"
    serve_site(server, site)
    section = urlsplit(load_manifest(site)[0].url).path
    loire = load_file(REPO / "prefectures" / "44.toml")
    loire = loire.model_copy(update={"start_urls": [server.url(section)]})
    settings = crawl_settings(tmp_path)

    def crawl_44(*, full: bool = False) -> tuple[CrawlOutcome, list[str]]:
        before = len(server.log)
        (outcome,) = asyncio.run(
            run_crawl(
                settings,
                database,
                [loire],
                get_engine=get_engine,
                not_before=dt.date(2024, 6, 1),
                full=full,
                clock=VirtualClock(),
            )
        )
        return outcome, [r.path for r in server.log[before:]]

    first, first_requests = crawl_44()
    second, second_requests = crawl_44()
    full, full_requests = crawl_44(full=True)

    pages = [p for p in first_requests if not p.endswith(".pdf")]
    assert len(pages) == 7  # 2 list pages, 5 detail pages
    assert (first.found, first.new, first.downloaded) == (6, 6, 6)
    docs = documents(database)
    assert docs["RAA-n-185.pdf"].source_url == server.url(f"{section}/RAA-n-185")
    assert docs["RAA-n-185-annexe.pdf"].source_url == server.url(f"{section}/RAA-n-185")
    assert docs["Recueil-special-n-31.pdf"].source_url == server.url(
        f"{section}/Recueil-special-n-31"
    )
    # Every bulletin on page 1 is known: its detail pages and page 2 are not asked for.
    assert second_requests == [section]
    assert (second.found, second.new, second.downloaded, second.error) == (0, 0, 0, None)
    # --full walks every page again; the PDFs are known and not downloaded again.
    assert sorted(full_requests) == sorted(pages)
    assert (full.found, full.new, full.downloaded) == (6, 0, 0)
    runs = crawl_runs(database)
    assert [r.not_before for r in runs] == [dt.date(2024, 6, 1)] * 3
    assert [(r.found, r.new) for r in runs] == [(6, 6), (0, 0), (6, 0)]
