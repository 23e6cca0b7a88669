"""Document processing in worker processes, in two lanes by cost, fed by a bounded queue.

The crawl hands each fetched document to ``Lanes.submit``, which never waits: the document joins
the fast lane's queue or, when that queue is full, stays ``fetched`` in the database, where
``resume`` takes it up once the queue has room. The fast lane's worker process reads the text
layer and matches; a document needing OCR on more than ``processing.fast_lane_ocr_pages`` pages
moves to the OCR lane, whose worker runs OCR with one tesseract per core. A born-digital
bulletin thus waits for the born-digital bulletins ahead of it, never for a scan.

Every attempt is counted on the document before it starts (``process_attempts``): a document
whose processing was cut short ``processing.max_attempts`` times (its process was killed or ran
out of memory) is marked failed with the error instead of being tried forever. Worker processes
die with the process that started them, so a killed daemon leaves
no processing behind that would race its successor (``isolation.exit_with``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

from sqlalchemy import select

from attrap import logs
from attrap.config import Settings
from attrap.documents.extract import OcrNeeded
from attrap.documents.isolation import child_context, exit_with
from attrap.matching.matcher import Matcher
from attrap.pipeline.document import NewHitsHook, process_document
from attrap.store.db import Database, open_database
from attrap.store.models import Document, DocumentStatus

log = logging.getLogger(__name__)

# Downloaded but not matched yet: waiting, being processed, or left behind by a killed process.
UNPROCESSED = (DocumentStatus.FETCHED, DocumentStatus.EXTRACTED)

# Builds, inside a worker process, the hook that queues the notifications of new hits; a
# module-level function, so that it can be handed to the process by reference.
HookFactory = Callable[[Settings, bool], NewHitsHook]


class Outcome(StrEnum):
    DONE = "done"  # processed: matched, or failed with its error
    NEEDS_OCR = "needs-ocr"  # for the OCR lane
    SKIPPED = "skipped"  # already processed, or failed now after too many attempts
    CRASHED = "crashed"  # the worker process died; the document is tried again later


# -- inside a worker process ---------------------------------------------------------------------


@dataclass
class _Worker:
    database: Database
    settings: Settings
    matcher: Matcher
    on_new_hits: NewHitsHook | None


_worker: _Worker | None = None


def _start_worker(
    settings: Settings,
    database_url: str,
    hook_factory: HookFactory | None,
    notify: bool,
    parent: int,
    log_setup: logs.LogSetup | None,
) -> None:
    global _worker
    exit_with(parent)
    logs.apply(log_setup)
    # SIGINT (a Ctrl-C in the terminal) is the parent's to handle: it stops the lanes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = _Worker(
        database=open_database(database_url, migrate=False),
        settings=settings,
        matcher=Matcher.from_settings(settings),
        on_new_hits=hook_factory(settings, notify) if hook_factory else None,
    )


def _process_in_worker(document_id: int, max_ocr_pages: int | None) -> Outcome:
    worker = _worker
    if worker is None:
        raise RuntimeError("the worker process was not started by Lanes")
    if not begin_attempt(worker.database, document_id, worker.settings.processing.max_attempts):
        return Outcome.SKIPPED
    try:
        process_document(
            worker.database,
            worker.settings,
            document_id,
            matcher=worker.matcher,
            on_new_hits=worker.on_new_hits,
            max_ocr_pages=max_ocr_pages,
        )
    except OcrNeeded as needed:
        log.info("document %s: %d pages need OCR, to the OCR lane", document_id, needed.pages)
        undo_attempt(worker.database, document_id)
        return Outcome.NEEDS_OCR
    return Outcome.DONE


def begin_attempt(database: Database, document_id: int, max_attempts: int) -> bool:
    """Count a processing attempt; False when there is nothing to do: the document is processed
    already, or its attempts are used up (it is marked failed now, with why)."""
    with database.session() as session:
        document = session.get(Document, document_id, with_for_update=True)
        if document is None or document.status not in (*UNPROCESSED, "failed"):
            return False
        if document.status == "failed" and not (
            document.sha256 and document.process_attempts < max_attempts
        ):
            return False  # a download that failed, or a file that failed its last attempt
        if document.process_attempts >= max_attempts:
            cause = document.error or "the process was stopped or killed"
            document.status = DocumentStatus.FAILED
            document.error = (
                f"processing did not finish in {document.process_attempts} attempts "
                f"(processing.max_attempts); last: {cause}"
            )
            log.warning("document %s failed: %s", document_id, document.error)
            return False
        document.process_attempts += 1
        return True


def undo_attempt(database: Database, document_id: int) -> None:
    with database.session() as session:
        document = session.get_one(Document, document_id)
        document.process_attempts = max(0, document.process_attempts - 1)


def record_crash(database: Database, document_id: int, error: str) -> None:
    """Note why an attempt ended without an outcome; the next attempt (or the last) says it."""
    with database.session() as session:
        document = session.get(Document, document_id)
        if document is not None and document.status in UNPROCESSED:
            document.error = error


# -- in the process that crawls ------------------------------------------------------------------


class _Lane:
    """One worker process and what waits for it."""

    def __init__(self, name: str, lanes: Lanes, max_ocr_pages: int | None, queue_size: int):
        self.name = name
        self.lanes = lanes
        self.max_ocr_pages = max_ocr_pages
        self.queue: asyncio.Queue[int] = asyncio.Queue(maxsize=queue_size)
        self.executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        lanes = self.lanes
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=child_context(),
            initializer=_start_worker,
            initargs=(
                lanes.settings,
                # The database the lanes were given (the one of settings, but for tests).
                lanes.database.engine.url.render_as_string(hide_password=False),
                lanes.hook_factory,
                lanes.notify,
                os.getpid(),
                logs.current(),
            ),
        )

    async def run(self, document_id: int) -> Outcome:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self.executor, _process_in_worker, document_id, self.max_ocr_pages
            )
        except BrokenProcessPool:
            error = f"the {self.name} processing worker died (killed or out of memory)"
            log.error("document %s: %s", document_id, error)
            await asyncio.to_thread(record_crash, self.lanes.database, document_id, error)
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new_executor()
            return Outcome.CRASHED

    def close(self) -> None:
        # Running work is abandoned: its attempt is counted and ``resume`` takes it up again.
        processes = list(getattr(self.executor, "_processes", {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()


class Lanes:
    """``async with Lanes(settings, database) as lanes:`` — the processing side of a pass."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        hook_factory: HookFactory | None = None,
        notify: bool = True,
    ) -> None:
        self.settings = settings
        self.database = database
        self.hook_factory = hook_factory
        self.notify = notify
        size = settings.processing.queue_size
        self.fast = _Lane("fast", self, settings.processing.fast_lane_ocr_pages, size)
        self.ocr = _Lane("OCR", self, None, size)
        self._queued: set[int] = set()  # in a queue or being processed here
        self._overflowed = False
        self._consumers: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Lanes:
        self._consumers = [
            asyncio.create_task(self._consume(self.fast, then=self.ocr)),
            asyncio.create_task(self._consume(self.ocr, then=None)),
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for consumer in self._consumers:
            consumer.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        self.fast.close()
        self.ocr.close()

    async def submit(self, document_id: int) -> None:
        """Queue a fetched document for processing, without waiting (a ``DocumentProcessor``)."""
        self._offer(document_id)

    def _offer(self, document_id: int) -> bool:
        """True when the document was queued now."""
        if document_id in self._queued:
            return False
        try:
            self.fast.queue.put_nowait(document_id)
        except asyncio.QueueFull:
            # It waits in the database (status fetched) until the queue has room.
            self._overflowed = True
            return False
        self._queued.add(document_id)
        return True

    async def process(self, document_id: int) -> Outcome:
        """Process one document now, through the lanes its cost needs (a worker's job)."""
        outcome = await self.fast.run(document_id)
        if outcome is Outcome.NEEDS_OCR:
            outcome = await self.ocr.run(document_id)
        return outcome

    async def resume(self, codes: Sequence[str] | None = None) -> int:
        """Queue the documents downloaded but not processed (by a killed process, or beyond the
        queue), and those whose processing failed fewer than ``processing.max_attempts`` times
        (a parser may fail on a file once, and pass with its next version); how many were
        queued."""
        retry = (
            (Document.status == "failed")
            & Document.sha256.is_not(None)
            & (Document.process_attempts < self.settings.processing.max_attempts)
        )
        statement = select(Document.id).where(Document.status.in_(UNPROCESSED) | retry)
        if codes is not None:
            statement = statement.where(Document.administration_code.in_(list(codes)))

        def waiting() -> list[int]:
            with self.database.session() as session:
                return list(session.scalars(statement.order_by(Document.id)))

        return sum(self._offer(document_id) for document_id in await asyncio.to_thread(waiting))

    async def join(self) -> None:
        """Wait until everything submitted, and everything left waiting in the database, is
        processed."""
        while True:
            await self.fast.queue.join()
            await self.ocr.queue.join()
            if self._overflowed:
                self._overflowed = False
                await self.resume()
                continue
            if self.fast.queue.empty() and self.ocr.queue.empty():
                return

    async def _consume(self, lane: _Lane, *, then: _Lane | None) -> None:
        while True:
            document_id = await lane.queue.get()
            try:
                outcome = await lane.run(document_id)
                if outcome is Outcome.NEEDS_OCR and then is not None:
                    await then.queue.put(document_id)
                    continue
                if outcome is Outcome.CRASHED:
                    # Tried again (counted) until processing.max_attempts.
                    self._queued.discard(document_id)
                    self._offer(document_id)
                    continue
                self._queued.discard(document_id)
            except Exception:
                log.exception("processing document %s failed", document_id)
                self._queued.discard(document_id)
            finally:
                if lane is self.fast and lane.queue.empty() and self._overflowed:
                    # Refilled before this item counts as done, so that ``join`` cannot see an
                    # empty queue while documents still wait in the database.
                    self._overflowed = False
                    await self.resume()
                lane.queue.task_done()
