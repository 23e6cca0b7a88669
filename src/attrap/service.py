"""What a pass does, shared by ``attrap run`` and ``attrap daemon``: the crawl hands each new
document to processing, whose new hits enter the notification outbox in the same transaction
that stores them — a crash can lose neither a hit nor its notification."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from attrap.config import Settings
from attrap.matching.matcher import Matcher
from attrap.notify.outbox import enqueue
from attrap.pipeline import DocumentProcessor, NewHitsHook, process_document
from attrap.store.db import Database
from attrap.store.models import Document

# Downloaded but not matched yet: left behind by a run that was killed while processing.
UNPROCESSED = ("fetched", "extracted")


def outbox_hook(settings: Settings, *, notify: bool) -> NewHitsHook:
    def queue(session: Session, hit_ids: list[int]) -> None:
        enqueue(session, settings, hit_ids, muted=not notify)

    return queue


def document_processor(
    database: Database, settings: Settings, *, notify: bool = True
) -> DocumentProcessor:
    """Processes one document at a time, off the event loop: extraction already uses every core
    (its OCR pool), so documents from concurrent crawls wait their turn instead of multiplying
    tesseract processes."""
    matcher = Matcher.from_settings(settings)
    on_new_hits = outbox_hook(settings, notify=notify)
    turn = asyncio.Lock()

    async def process(document_id: int) -> None:
        async with turn:
            await asyncio.to_thread(
                process_document,
                database,
                settings,
                document_id,
                matcher=matcher,
                on_new_hits=on_new_hits,
            )

    return process


async def process_unprocessed(
    database: Database, process: DocumentProcessor, codes: Sequence[str]
) -> int:
    """Process the documents a previous run downloaded but did not finish; how many there were."""
    with database.session() as session:
        document_ids = list(
            session.scalars(
                select(Document.id)
                .where(Document.status.in_(UNPROCESSED))
                .where(Document.administration_code.in_(list(codes)))
                .order_by(Document.id)
            )
        )
    for document_id in document_ids:
        await process(document_id)
    return len(document_ids)
