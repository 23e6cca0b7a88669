"""Extract → segment → match → store for one document, and re-matching of stored text.

Document processing (``process_document``, ``reprocess``): extract → store pages → segment →
store acts → match → store hits. Each step records its outcome on the document (status
extracted → matched, or failed with the error), so a run killed anywhere resumes, and a rules
change re-matches stored text without the network. Hits keep their id and ``first_seen_at`` across
re-matching, so a hit is never notified twice.

An act keeps its identity across re-segmentation (``pair_acts``): by its number when it has one,
wherever its pages now start; otherwise by overlapping pages and a similar title.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from rapidfuzz import fuzz, utils
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from attrap.config import Settings
from attrap.documents.extract import ExtractionError, OcrNeeded, extract_document
from attrap.documents.pages import PageSource, PageText
from attrap.documents.segment import ActSegment, segment
from attrap.matching.matcher import Matcher
from attrap.pipeline.errors import describe_error
from attrap.pipeline.facts import FactsReader
from attrap.store.db import Database
from attrap.store.models import Act, Document, DocumentStatus, Hit, Page, utcnow
from attrap.store.pdfs import PdfStore

log = logging.getLogger(__name__)

# Called with the session that stores new hits, and their ids.
NewHitsHook = Callable[[Session, list[int]], None]

# ---------------------------------------------------------------------------------------------
# Document processing: extract → segment → match → store
# ---------------------------------------------------------------------------------------------

# Statuses whose stored pages are the document's text (no need to read the PDF again).
_HAS_TEXT = {DocumentStatus.EXTRACTED, DocumentStatus.MATCHED, DocumentStatus.FAILED}


@dataclass
class _Changes:
    """What storing one document's acts and hits changed."""

    acts: int = 0
    kept_hits: int = 0
    removed_hits: int = 0
    new_hit_ids: list[int] = field(default_factory=list)


@dataclass
class ReprocessSummary:
    """The outcome of ``reprocess``: counts, and the new hits to notify."""

    documents: int = 0
    failed: int = 0
    acts: int = 0
    kept_hits: int = 0
    removed_hits: int = 0
    new_hit_ids: list[int] = field(default_factory=list)


def process_document(
    database: Database,
    settings: Settings,
    document_id: int,
    *,
    matcher: Matcher | None = None,
    on_new_hits: NewHitsHook | None = None,
    max_ocr_pages: int | None = None,
) -> list[int]:
    """Extract, segment and match one downloaded document; the ids of the hits it created.

    Never raises, but for ``OcrNeeded`` when its extraction would OCR more than
    ``max_ocr_pages`` pages (nothing is recorded then): any other failure sets the document's
    status to ``failed`` with the error. Running it
    again re-uses the stored pages and creates no new rows. ``matcher`` saves re-loading the rules
    when many documents are processed. ``on_new_hits`` runs in the transaction that stores the
    hits (the notification outbox), so hits and what follows from them are committed together.
    """
    try:
        matcher = matcher or Matcher.from_settings(settings)
        pages = _stored_pages(database, document_id)
        if pages is None:
            pages = _extract_and_store(database, settings, document_id, max_ocr_pages)
        with database.session() as session:
            document = session.get_one(Document, document_id)
            facts = FactsReader.from_settings(settings)
            changes = _store_acts(session, document, segment(pages), matcher, facts)
            document.status = DocumentStatus.MATCHED
            if on_new_hits and changes.new_hit_ids:
                on_new_hits(session, changes.new_hit_ids)
        return changes.new_hit_ids
    except OcrNeeded:
        raise
    except Exception as exc:
        log.warning("document %s failed: %s", document_id, exc, exc_info=True)
        _record_failure(database, document_id, describe_error(exc))
        return []


def reprocess(
    database: Database,
    settings: Settings,
    codes: Sequence[str] | None = None,
    *,
    on_new_hits: NewHitsHook | None = None,
) -> ReprocessSummary:
    """Re-segment and re-match the stored pages of every document (of these administrations).

    No network and no PDF reading. Hits still found keep their id and ``first_seen_at``; those no
    longer found are removed; new ones are created and returned. A document that fails is recorded
    as failed and the others go on.
    """
    matcher = Matcher.from_settings(settings)
    facts = FactsReader.from_settings(settings)
    statement = select(Document.id).where(exists().where(Page.document_id == Document.id))
    if codes is not None:
        statement = statement.where(Document.administration_code.in_(list(codes)))
    with database.session() as session:
        document_ids = list(session.scalars(statement.order_by(Document.id)))
    summary = ReprocessSummary()
    for document_id in document_ids:
        summary.documents += 1
        try:
            with database.session() as session:
                document = session.get_one(Document, document_id)
                pages = [_page_text(page) for page in document.pages]
                changes = _store_acts(session, document, segment(pages), matcher, facts)
                if document.status == DocumentStatus.FAILED:
                    document.error = None
                document.status = DocumentStatus.MATCHED
                if on_new_hits and changes.new_hit_ids:
                    on_new_hits(session, changes.new_hit_ids)
        except Exception as exc:
            log.warning("reprocessing document %s failed: %s", document_id, exc, exc_info=True)
            _record_failure(database, document_id, describe_error(exc))
            summary.failed += 1
            continue
        summary.acts += changes.acts
        summary.kept_hits += changes.kept_hits
        summary.removed_hits += changes.removed_hits
        summary.new_hit_ids.extend(changes.new_hit_ids)
    return summary


def _stored_pages(database: Database, document_id: int) -> list[PageText] | None:
    """The document's pages when they were already extracted, else None."""
    with database.session() as session:
        document = session.get_one(Document, document_id)
        if document.status not in _HAS_TEXT or not document.pages:
            return None
        return [_page_text(page) for page in document.pages]


def _page_text(page: Page) -> PageText:
    return PageText(page.number, page.text, cast(PageSource, page.source))


def _extract_and_store(
    database: Database, settings: Settings, document_id: int, max_ocr_pages: int | None
) -> list[PageText]:
    with database.session() as session:
        sha256 = session.get_one(Document, document_id).sha256
    if not sha256:
        raise ExtractionError("le document n'a pas été téléchargé")
    # Outside any transaction: OCR can take minutes.
    extraction = extract_document(
        PdfStore.of(settings).path(sha256), settings, max_ocr_pages=max_ocr_pages
    )
    with database.session() as session:
        document = session.get_one(Document, document_id)
        document.pages.clear()
        session.flush()  # old pages go before new ones take their numbers
        document.pages.extend(
            Page(number=p.number, text=p.text, source=p.source) for p in extraction.pages
        )
        document.page_count = len(extraction.pages)
        document.status = DocumentStatus.EXTRACTED
        # Pages that could not be read are recorded (source "failed") and named here.
        document.error = "; ".join(extraction.warnings) or None
    return extraction.pages


def _record_failure(database: Database, document_id: int, error: str) -> None:
    try:
        with database.session() as session:
            document = session.get(Document, document_id)
            if document is not None:
                document.status = DocumentStatus.FAILED
                document.error = error
    except Exception:
        log.exception("could not record the failure of document %s", document_id)


# Titles of one act read by two segmentations (a continuation line more or less, OCR) compare at
# least this well (rapidfuzz token_set_ratio, 0–100); titles of different acts rarely do.
SAME_TITLE = 80


@dataclass(frozen=True)
class ActPlace:
    """What identifies an act of a document across segmentations."""

    number: str | None
    page_start: int
    page_end: int
    title: str


def pair_acts(stored: Sequence[ActPlace], found: Sequence[ActPlace]) -> dict[int, int]:
    """Which stored act (index) each newly found act (index) is: ``{found: stored}``.

    Acts with a number are the same act when their numbers are equal, wherever their pages are
    (among stored acts sharing a number, the one overlapping most). When either has no number,
    their pages must overlap and their titles be similar; the closest pairs are taken first.
    """
    pairs: dict[int, int] = {}
    by_number: dict[str, list[int]] = {}
    for index, act in enumerate(stored):
        if act.number is not None:
            by_number.setdefault(act.number, []).append(index)
    for index, act in enumerate(found):
        candidates = by_number.get(act.number, []) if act.number is not None else []
        if candidates:
            best = max(candidates, key=lambda s: (_overlap(stored[s], act), -s))
            candidates.remove(best)
            pairs[index] = best
    used = set(pairs.values())
    closeness = []
    for index, act in enumerate(found):
        if index in pairs:
            continue
        for s, old in enumerate(stored):
            if s in used or (act.number is not None and old.number is not None):
                continue
            overlap = _overlap(old, act)
            similarity = _title_similarity(old.title, act.title)
            if overlap > 0 and similarity >= SAME_TITLE:
                closeness.append((-similarity, -overlap, index, s))
    for _, _, index, s in sorted(closeness):
        if index not in pairs and s not in used:
            pairs[index] = s
            used.add(s)
    return pairs


def _absorbed_hits(
    stored: Sequence[Act], segments: Sequence[ActSegment], pairs: dict[int, int]
) -> dict[int, dict[str, tuple[Act, Hit]]]:
    """Hits of stored acts that a found act swallowed, by found act and category.

    When a segmentation merges acts (a separator page and the act's own pages, once two acts),
    the found act is paired with one of them; the others lie inside its pages and are paired with
    nothing. Their hits are the found act's: moved, they keep their id and are not notified
    again. An unpaired act on pages no paired act spans is another act (its hits are new)."""
    kept = set(pairs.values())
    orphans = [act for s, act in enumerate(stored) if s not in kept]
    absorbed: dict[int, dict[str, tuple[Act, Hit]]] = {}
    for index, found in enumerate(segments):
        if index not in pairs:
            continue
        for old in orphans:
            if found.page_start <= old.page_start and old.page_end <= found.page_end:
                for hit in old.hits:
                    absorbed.setdefault(index, {}).setdefault(hit.category, (old, hit))
    return absorbed


def _title_similarity(a: str, b: str) -> float:
    """0–100; two acts without a title are told apart by their pages alone."""
    if not a.strip() and not b.strip():
        return 100.0
    return fuzz.token_set_ratio(a, b, processor=utils.default_process)


def _overlap(a: ActPlace, b: ActPlace) -> int:
    """How many pages two acts share."""
    return max(0, min(a.page_end, b.page_end) - max(a.page_start, b.page_start) + 1)


def _store_acts(
    session: Session,
    document: Document,
    segments: Sequence[ActSegment],
    matcher: Matcher,
    facts: FactsReader,
) -> _Changes:
    """Make the document's stored acts, hits and facts those of ``segments``, changing only what
    changed: an act found again keeps its row, a hit found again keeps its id and first_seen_at."""
    stored = list(
        session.scalars(
            select(Act)
            .where(Act.document_id == document.id)
            .order_by(Act.page_start, Act.id)
            .options(selectinload(Act.hits), selectinload(Act.facts), selectinload(Act.periods))
        )
    )
    pairs = pair_acts(
        [ActPlace(a.number, a.page_start, a.page_end, a.title) for a in stored],
        [ActPlace(s.number, s.page_start, s.page_end, s.title) for s in segments],
    )
    changes = _Changes(acts=len(segments))
    new_hits: list[Hit] = []
    now = utcnow()
    absorbed = _absorbed_hits(stored, segments, pairs)
    for index, found in enumerate(segments):
        if index in pairs:
            act = stored[pairs[index]]
        else:
            act = Act(document_id=document.id)
            session.add(act)
        act.number = found.number
        act.page_start = found.page_start
        act.page_end = found.page_end
        act.title = found.title
        act.signed_on = found.signed_on
        previous = {hit.category: hit for hit in act.hits}
        for candidate in matcher.match(found):
            hit = previous.pop(candidate.category, None)
            if hit is None and (moved := absorbed.get(index, {}).pop(candidate.category, None)):
                owner, hit = moved
                owner.hits.remove(hit)
                act.hits.append(hit)
            if hit is None:
                hit = Hit(category=candidate.category, document_id=document.id, first_seen_at=now)
                act.hits.append(hit)
                new_hits.append(hit)
            else:
                changes.kept_hits += 1
            hit.score = candidate.score
            hit.terms = list(candidate.terms)
            hit.snippet = candidate.snippet
            hit.page = candidate.page
            hit.rules_version = matcher.version
        for gone in previous.values():
            act.hits.remove(gone)
            changes.removed_hits += 1
        facts.record(act, found, document)
    kept = set(pairs.values())
    for gone_act in (act for index, act in enumerate(stored) if index not in kept):
        changes.removed_hits += len(gone_act.hits)
        session.delete(gone_act)
    session.flush()
    changes.new_hit_ids = [hit.id for hit in new_hits]
    return changes
