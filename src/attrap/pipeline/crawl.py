"""Discover → fetch for one administration, then hand each new document on to processing.

Every outcome is recorded as it happens (a ``crawl_runs`` row per administration and run, a
``documents`` row per bulletin), so a run killed at any point resumes where it stopped: documents
discovered but not downloaded yet, or whose download failed fewer than
``crawl.max_download_runs`` times, are downloaded by the next run.

Engines are told what earlier runs found (the documents' URLs and the pages they were found on,
and how far back finished runs looked), so that a repeated crawl only asks the site for what is
new; ``full=True`` hides that knowledge for one run. A quick check (``settled_before``) also
leaves out the list pages of past years and months, which the deep crawls between quick checks
walk: on a year → month site it is a few requests instead of one per month since
``crawl.not_before``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from attrap.adapters.base import CrawlContext, DocumentRef, Engine
from attrap.adapters.registry import AdapterSpec, sync_administrations
from attrap.config import Settings
from attrap.fetching import FetchError, HtmlPage
from attrap.http import Clock, Download, HttpClient
from attrap.pipeline.errors import describe_error
from attrap.store.db import Database
from attrap.store.models import CrawlRun, Document, DocumentStatus, utcnow

log = logging.getLogger(__name__)

EngineLookup = Callable[[str], Engine[Any]]
# Extraction, segmentation and matching of one fetched document, by its id.
DocumentProcessor = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class CrawlProgress:
    """Where one administration's crawl stands, reported after each step."""

    code: str
    found: int
    to_download: int
    downloaded: int
    failed: int
    finished: bool = False


ProgressCallback = Callable[[CrawlProgress], None]


@dataclass(frozen=True)
class CrawlOutcome:
    """What one administration's crawl did; ``error`` is set when the engine itself failed."""

    code: str
    found: int
    new: int
    downloaded: int
    duplicates: int
    failed: int
    error: str | None


def same_page(a: str, b: str) -> bool:
    """Two URLs of one page, give or take the scheme, ``www.``, case and a trailing slash."""

    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.")
        return host, parts.path.rstrip("/").lower(), parts.query

    return key(a) == key(b)


class _StartPageWatch:
    """The engine's fetcher, noting what the first start page answers: a site that now sends
    it elsewhere, or no longer has it, needs its adapter looked at (health)."""

    def __init__(self, client: HttpClient, start_url: str) -> None:
        self.client = client
        self.start_url = start_url
        self.status: int | None = None
        self.redirect: str | None = None
        self._seen = False

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        watched = url == self.start_url and not self._seen
        try:
            page = await self.client.fetch_html(url, method=method, data=data)
        except FetchError as exc:
            if watched:
                self._seen = True
                self.status = exc.status
            raise
        if watched:
            self._seen = True
            self.status = 200
            if not same_page(page.url, url):
                self.redirect = page.url
        return page


class _Crawl:
    """One administration's crawl: counters, their ``crawl_runs`` row, and progress reports."""

    def __init__(
        self,
        spec: AdapterSpec,
        *,
        settings: Settings,
        database: Database,
        client: HttpClient,
        not_before: dt.date,
        full: bool,
        settled_before: dt.date | None,
        process: DocumentProcessor | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.spec = spec
        self.database = database
        self.client = client
        self.not_before = not_before
        self.full = full
        self.settled_before = settled_before
        # List pages a quick check left out: the listing's count of bulletins is then unknown.
        self.settled_pages = 0
        self.max_download_runs = settings.crawl.max_download_runs
        self.process = process
        self.progress = progress
        self.found: set[str] = set()
        # Known bulletins the engine met on the site (and left out): with ``found``, what the
        # listing showed.
        self.known_seen: set[str] = set()
        self.start = _StartPageWatch(client, spec.start_urls[0])
        self.new = self.downloaded = self.duplicates = self.failed = self.to_download = 0
        self.error: str | None = None

    def report(self, *, finished: bool = False) -> None:
        if self.progress is not None:
            self.progress(
                CrawlProgress(
                    code=self.spec.code,
                    found=len(self.found),
                    to_download=self.to_download,
                    downloaded=self.downloaded + self.duplicates,
                    failed=self.failed,
                    finished=finished,
                )
            )

    def outcome(self) -> CrawlOutcome:
        return CrawlOutcome(
            code=self.spec.code,
            found=len(self.found),
            new=self.new,
            downloaded=self.downloaded,
            duplicates=self.duplicates,
            failed=self.failed,
            error=self.error,
        )

    async def run(self, get_engine: EngineLookup) -> CrawlOutcome:
        with self.database.session() as session:
            sync_administrations(session, [self.spec])
            run = CrawlRun(
                administration_code=self.spec.code,
                started_at=utcnow(),
                not_before=self.not_before,
            )
            session.add(run)
            session.flush()
            run_id = run.id
        self.report()
        try:
            await self.discover(get_engine)
            await self.download_pending()
        except asyncio.CancelledError:
            self.error = self.error or "interrupted"
            raise
        except Exception as exc:
            # Not the engine's doing (that is caught in discover): still one administration only.
            log.exception("crawl of %s failed", self.spec.code)
            self.error = describe_error(exc)
        finally:
            with self.database.session() as session:
                run = session.get_one(CrawlRun, run_id)
                run.finished_at = utcnow()
                run.found = len(self.found)
                run.new = self.new
                run.failed = self.failed
                run.error = self.error
                run.listed = None if self.settled_pages else len(self.found | self.known_seen)
                run.start_status = self.start.status
                run.start_redirect = self.start.redirect
            self.report(finished=True)
        return self.outcome()

    async def discover(self, get_engine: EngineLookup) -> None:
        """Record every bulletin the engine finds; an engine failure is the run's error, and what
        was found before it is still downloaded."""
        try:
            engine = get_engine(self.spec.engine)
            context = self.context()
            async for ref in engine.discover(context):
                if ref.published_on is not None and ref.published_on < self.not_before:
                    continue
                if ref.url not in self.found:
                    self.found.add(ref.url)
                    self.new += self.record(ref)
                    self.report()
        except Exception as exc:
            log.debug("discovery for %s failed", self.spec.code, exc_info=True)
            self.error = describe_error(exc)

    def context(self) -> CrawlContext:
        """The engine's view of this crawl, with what earlier runs found unless ``full``."""
        context = CrawlContext(spec=self.spec, fetcher=self.start, not_before=self.not_before)
        if self.full:
            return context
        code = self.spec.code
        with self.database.session() as session:
            rows = session.execute(
                select(Document.url, Document.source_url).where(
                    Document.administration_code == code
                )
            )
            known = frozenset(url for row in rows for url in row if url)
            known_since = session.scalar(
                select(func.min(CrawlRun.not_before)).where(
                    CrawlRun.administration_code == code,
                    CrawlRun.finished_at.is_not(None),
                    CrawlRun.error.is_(None),
                )
            )

        def is_known(url: str) -> bool:
            if url in known:
                self.known_seen.add(url)
                return True
            return False

        def is_settled(url: str, end: dt.date) -> bool:
            if self.settled_before is None or end >= self.settled_before:
                return False
            self.settled_pages += 1
            return True

        return replace(context, known=is_known, known_since=known_since, settled=is_settled)

    def record(self, ref: DocumentRef) -> bool:
        """Store a found bulletin; True when its URL was not known yet."""
        try:
            with self.database.session() as session:
                known = session.scalar(select(Document).where(Document.url == ref.url))
                if known is None:
                    session.add(
                        Document(
                            administration_code=self.spec.code,
                            url=ref.url,
                            source_url=ref.found_on,
                            title=ref.title,
                            published_on=ref.published_on,
                            status=DocumentStatus.DISCOVERED,
                        )
                    )
                    return True
                known.title = known.title or ref.title
                known.source_url = known.source_url or ref.found_on
                known.published_on = known.published_on or ref.published_on
                return False
        except IntegrityError:
            # Another process recorded the same URL between our read and our write.
            return False

    def pending(self) -> list[tuple[int, str]]:
        """Documents to download: never fetched, or whose download failed in fewer runs than
        allowed; newest first, so that urgent orders are not stuck behind old bulletins."""
        with self.database.session() as session:
            rows = session.execute(
                select(Document.id, Document.url)
                .where(
                    Document.administration_code == self.spec.code,
                    or_(
                        Document.status == DocumentStatus.DISCOVERED,
                        and_(
                            Document.status == DocumentStatus.FAILED,
                            Document.sha256.is_(None),
                            Document.fetch_attempts < self.max_download_runs,
                        ),
                    ),
                    or_(Document.published_on.is_(None), Document.published_on >= self.not_before),
                )
                .order_by(Document.published_on.desc().nulls_last(), Document.id)
            )
            return [(row.id, row.url) for row in rows]

    async def download_pending(self) -> None:
        pending = self.pending()
        self.to_download = len(pending)
        self.report()
        for document_id, url in pending:
            try:
                download = await self.client.download_pdf(url)
            except FetchError as exc:
                self.failed += 1
                log.warning("download of document %s failed: %s (%s)", document_id, exc.reason, url)
                with self.database.session() as session:
                    document = session.get_one(Document, document_id)
                    document.fetch_attempts += 1
                    document.status = DocumentStatus.FAILED
                    document.error = exc.reason
            else:
                if self.store(document_id, download):
                    self.downloaded += 1
                    if self.process is not None:
                        # The hand-over to extraction and matching: the one place fetched
                        # documents leave the crawl stage.
                        await self.process(document_id)
                else:
                    self.duplicates += 1
            self.report()

    def store(self, document_id: int, download: Download) -> bool:
        """Record a downloaded PDF; False when the same bytes are already stored under another
        URL — the document then points to that one and is not processed again."""
        with self.database.session() as session:
            document = session.get_one(Document, document_id)
            document.fetch_attempts += 1
            original = session.scalar(
                select(Document.id)
                .where(
                    Document.sha256 == download.sha256,
                    Document.id != document_id,
                    Document.status != DocumentStatus.DUPLICATE,
                )
                .order_by(Document.id)
                .limit(1)
            )
            document.sha256 = download.sha256
            document.size = download.size
            document.fetched_at = utcnow()
            document.error = None
            document.status = (
                DocumentStatus.FETCHED if original is None else DocumentStatus.DUPLICATE
            )
            document.duplicate_of_id = original
            return original is None


async def crawl_administration(
    spec: AdapterSpec,
    *,
    settings: Settings,
    database: Database,
    client: HttpClient,
    get_engine: EngineLookup,
    not_before: dt.date | None = None,
    full: bool = False,
    settled_before: dt.date | None = None,
    process: DocumentProcessor | None = None,
    progress: ProgressCallback | None = None,
) -> CrawlOutcome:
    """Discover and download one administration's bulletins, recording a ``crawl_runs`` row.
    Never raises for a failing site: the failure is in the outcome and the row. ``full`` walks
    the site as if nothing had been found before (a maintainer repairing an adapter);
    ``settled_before`` makes it a quick check, which leaves out the list pages of years and
    months that ended before that day (ignored with ``full``)."""
    crawl = _Crawl(
        spec,
        settings=settings,
        database=database,
        client=client,
        not_before=not_before or settings.crawl.not_before,
        full=full,
        settled_before=settled_before,
        process=process,
        progress=progress,
    )
    return await crawl.run(get_engine)


async def run_crawl(
    settings: Settings,
    database: Database,
    specs: Sequence[AdapterSpec],
    *,
    get_engine: EngineLookup,
    not_before: dt.date | None = None,
    full: bool = False,
    settled_before: dt.date | None = None,
    process: DocumentProcessor | None = None,
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
) -> list[CrawlOutcome]:
    """Crawl administrations concurrently; one HTTP client keeps them within the politeness
    budget together. Outcomes come back in the order of ``specs``."""
    async with HttpClient(settings, clock=clock) as client:
        return list(
            await asyncio.gather(
                *(
                    crawl_administration(
                        spec,
                        settings=settings,
                        database=database,
                        client=client,
                        get_engine=get_engine,
                        not_before=not_before,
                        full=full,
                        settled_before=settled_before,
                        process=process,
                        progress=progress,
                    )
                    for spec in specs
                )
            )
        )
