"""``attrap worker``: the pipeline spread over many machines that share one PostgreSQL database.

The work is a procrastinate job queue stored in that database:

- ``attrap.crawl(code)`` — one administration's crawl (queue ``crawl``). Its lock and queueing
  lock are ``crawl-<code>``: never two crawls of one administration at once, never two waiting.
  It is the pass of ``attrap run`` and the daemon (``service.Pass``: crawl, then health check),
  except that it hands each new document over by deferring one ``attrap.process`` job, then
  re-defers the administration's documents still unprocessed (what a crashed worker left
  behind).
- ``attrap.process(document_id)`` — extract → segment → match → store one document (queue
  ``documents``) in the worker's processing lanes (``pipeline.lanes``: worker processes, OCR in
  its own lane, ``processing.max_attempts``): its new hits enter the notification outbox in the
  transaction that stores them, as with ``attrap run``. Lock and queueing lock
  ``document-<id>``: jobs for one document run one after the other, and one that finds the
  document already processed does nothing — no document is processed twice.
- Periodic jobs, deferred once per tick by whichever worker gets there first: the crawls of all
  enabled administrations (``attrap.schedule_crawls``, queue ``crawl``), delivery of
  notifications and maintainer alerts every minute (``attrap.dispatch``, queue ``default``, when
  a channel is configured) and the
  re-queueing of jobs left running by a worker that died (``attrap.recover``, ``default``).

The stage functions are those of ``attrap run`` and ``attrap daemon``. PDFs are read from
``storage.data_dir``: machines that process documents must share it with those that crawl.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Sequence

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from sqlalchemy import make_url, select

from attrap.adapters.registry import load_adapters
from attrap.config import Settings
from attrap.http import HttpClient
from attrap.notify.outbox import channel_settings
from attrap.pipeline import EngineLookup
from attrap.pipeline.lanes import UNPROCESSED, Lanes, Outcome
from attrap.service import Pass, lanes
from attrap.store.db import Database
from attrap.store.models import Document

log = logging.getLogger(__name__)

CRAWL_QUEUE = "crawl"
DOCUMENT_QUEUE = "documents"
DEFAULT_QUEUE = "default"
QUEUES = (CRAWL_QUEUE, DOCUMENT_QUEUE, DEFAULT_QUEUE)

# Intervals that cron steps repeat evenly: its minute and hour steps restart every hour and day,
# so "*/45" would fire at :00 and :45 (45 then 15 minutes apart).
EVEN_INTERVALS_MIN = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
# On SIGTERM, running jobs get this long to finish; then they are cancelled (a crawl records
# "interrupted", an unfinished document is re-deferred by its administration's next crawl).
SHUTDOWN_GRACE_S = 30.0
# A random number identifying attrap's schema lock among PostgreSQL advisory locks.
_SCHEMA_LOCK = 0x61747472


class WorkerConfigError(Exception):
    """A configuration the worker cannot run with; the message is meant for the user."""


def postgres_conninfo(database_url: str) -> str:
    """The libpq URI of ``[database] url``; the job queue lives in PostgreSQL only."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise WorkerConfigError(
            f"attrap worker a besoin de PostgreSQL ([database] url est "
            f"{url.get_backend_name()}) ; sur une seule machine, utilisez 'attrap daemon'."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def parse_queues(value: str | None) -> list[str] | None:
    """``--queues crawl,documents`` → the names, checked; None (every queue) when not given."""
    if not value:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in QUEUES]
    if unknown or not names:
        raise WorkerConfigError(
            f"file(s) inconnue(s) {', '.join(unknown) or repr(value)} ; "
            f"connues : {', '.join(QUEUES)}"
        )
    return names


def even_interval(every_minutes: int) -> int:
    """The interval, among those cron repeats evenly, nearest ``every_minutes`` (the longer one
    on a tie: politeness first); a day at most."""
    return min(EVEN_INTERVALS_MIN, key=lambda m: (abs(m - every_minutes), -m))


def cron_every(minutes: int) -> str:
    """The cron line of an interval from ``EVEN_INTERVALS_MIN``."""
    if minutes < 60:
        return f"*/{minutes} * * * *"
    if minutes < 1440:
        return f"0 */{minutes // 60} * * *"
    return "0 0 * * *"


async def ensure_schema(conninfo: str) -> bool:
    """Create procrastinate's tables when the database has none; True when it did.

    Done by every worker at start rather than by a separate command: the queue is an internal
    detail of ``attrap worker``, as the migrations are of every other command. The advisory lock
    lets workers start together. procrastinate's own upgrades (new minor versions) are not
    applied here; see its migrations (``procrastinate schema --migrations-path``).
    """
    connection = await psycopg.AsyncConnection.connect(conninfo)
    async with connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
        cursor = await connection.execute("SELECT to_regclass('procrastinate_jobs')")
        row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            return False
        await connection.execute(SchemaManager.get_schema())
    log.info("procrastinate schema created")
    return True


class TaskQueue:
    """attrap's procrastinate app and its tasks, for one configuration.

    Every process that defers or runs jobs builds one; ``run`` makes it a worker. Each running
    worker has its own HTTP client, hence its own politeness budget.
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        get_engine: EngineLookup,
        periodic: bool = True,
    ) -> None:
        self.settings = settings
        self.database = database
        self.get_engine = get_engine
        self.conninfo = postgres_conninfo(settings.database.url)
        self.specs = {spec.code: spec for spec in load_adapters(settings)}
        interval = even_interval(settings.schedule.every_minutes)
        self.app = App(
            connector=PsycopgConnector(conninfo=self.conninfo),
            # A worker starting mid-interval defers that interval's crawls if no worker did
            # (procrastinate records each deferred tick): the first crawls do not wait up to a
            # whole interval, and restarts do not crawl again.
            periodic_defaults={"max_delay": interval * 60},
        )
        self._client: HttpClient | None = None
        self._lanes: Lanes | None = None
        self._stages = Pass(settings, database, get_engine=get_engine, hand_over=self._hand_over)

        self.crawl = self.app.task(name="attrap.crawl", queue=CRAWL_QUEUE)(self._crawl)
        self.process = self.app.task(name="attrap.process", queue=DOCUMENT_QUEUE)(
            self._process_document
        )
        self.schedule_crawls = self.app.task(name="attrap.schedule_crawls", queue=CRAWL_QUEUE)(
            self._schedule_crawls
        )
        self.dispatch = self.app.task(
            name="attrap.dispatch", queue=DEFAULT_QUEUE, lock="dispatch", queueing_lock="dispatch"
        )(self._dispatch)
        self.recover = self.app.task(
            name="attrap.recover", queue=DEFAULT_QUEUE, queueing_lock="recover"
        )(self._recover)
        if periodic:
            if interval != settings.schedule.every_minutes:
                log.warning(
                    "crawls every %d minutes instead of %d: cron repeats few intervals evenly",
                    interval,
                    settings.schedule.every_minutes,
                )
            self.app.periodic(cron=cron_every(interval), periodic_id="crawls")(self.schedule_crawls)
            self.app.periodic(cron="* * * * *", periodic_id="recover")(self.recover)
            if channel_settings(settings):
                self.app.periodic(cron="* * * * *", periodic_id="dispatch")(self.dispatch)

    async def defer_crawl(self, code: str, *, delay_s: float = 0.0) -> int | None:
        """Queue a crawl of ``code``; its job id, or None when one is already waiting."""
        lock = f"crawl-{code}"
        try:
            return await self.crawl.configure(
                lock=lock,
                queueing_lock=lock,
                # procrastinate hands it to timedelta, which takes fractions of a second too.
                schedule_in={"seconds": delay_s},  # type: ignore[arg-type]
            ).defer_async(code=code)
        except AlreadyEnqueued:
            log.info("a crawl of %s is already waiting", code)
            return None

    async def defer_process(self, document_id: int) -> int | None:
        """Queue the processing of a document; its job id, or None when one is already waiting."""
        lock = f"document-{document_id}"
        try:
            return await self.process.configure(lock=lock, queueing_lock=lock).defer_async(
                document_id=document_id
            )
        except AlreadyEnqueued:
            return None

    async def run(
        self,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int = 1,
        wait: bool = True,
        install_signal_handlers: bool = True,
        delete_jobs: str = "successful",
    ) -> None:
        """Work the queues until stopped (SIGTERM/SIGINT, or cancellation), or, with
        ``wait=False``, until they are empty."""
        await ensure_schema(self.conninfo)
        async with (
            self.app.open_async(),
            HttpClient(self.settings) as client,
            lanes(self.settings, self.database) as processing,
        ):
            self._client = client
            self._lanes = processing
            try:
                await self.app.run_worker_async(
                    # None is procrastinate's "every queue", though its annotation omits it.
                    queues=queues,  # type: ignore[arg-type]
                    concurrency=concurrency,
                    wait=wait,
                    name=f"{socket.gethostname()}-{os.getpid()}",
                    install_signal_handlers=install_signal_handlers,
                    shutdown_graceful_timeout=SHUTDOWN_GRACE_S,
                    delete_jobs=delete_jobs,
                )
            finally:
                self._client = None
                self._lanes = None

    # -- tasks ---------------------------------------------------------------------------------

    async def _crawl(self, code: str) -> None:
        spec = self.specs.get(code)
        if spec is None:
            log.error("crawl of unknown administration %s skipped", code)
            return
        if self._client is None:
            raise RuntimeError("crawl tasks run inside TaskQueue.run, which opens the client")
        await self._stages.crawl(spec, self._client)
        for document_id in await asyncio.to_thread(self._unprocessed_of, code):
            await self._hand_over(document_id)

    async def _hand_over(self, document_id: int) -> None:
        """The crawl's ``DocumentProcessor``: defer instead of processing here."""
        await self.defer_process(document_id)

    async def _process_document(self, document_id: int) -> None:
        if self._lanes is None:
            raise RuntimeError("process tasks run inside TaskQueue.run, which opens the lanes")
        # The job's lock makes the lanes' check (still unprocessed?) and the processing one step
        # for this document.
        outcome = await self._lanes.process(document_id)
        if outcome is Outcome.SKIPPED:
            log.info("document %s already processed, skipped", document_id)
        elif outcome is Outcome.DONE:
            log.info("document %s processed", document_id)
        else:
            log.warning("document %s: the processing worker died; it is tried again", document_id)

    def _unprocessed_of(self, code: str) -> list[int]:
        with self.database.session() as session:
            return list(
                session.scalars(
                    select(Document.id)
                    .where(Document.administration_code == code, Document.status.in_(UNPROCESSED))
                    .order_by(Document.id)
                )
            )

    async def _schedule_crawls(self, timestamp: int) -> None:
        jitter_s = self.settings.schedule.jitter_s
        for spec in self.specs.values():
            if spec.enabled:
                # Spread over the jitter so the crawls do not all start at the same second.
                await self.defer_crawl(spec.code, delay_s=random.uniform(0, jitter_s))

    async def _dispatch(self, timestamp: int | None = None) -> None:
        await asyncio.to_thread(self._stages.deliver)

    async def _recover(self, timestamp: int | None = None) -> None:
        """Re-queue the jobs of workers that stopped sending heartbeats: otherwise their locks
        would block the administration's crawls or the document forever."""
        jobs = self.app.job_manager
        for job in await jobs.get_stalled_jobs():
            log.warning("re-queueing job %s (%s) of a dead worker", job.id, job.call_string)
            try:
                await jobs.retry_job(job)
            except UniqueViolation:
                # The same work is already queued again (same queueing lock): only free the lock.
                await jobs.finish_job(job, Status.FAILED, delete_job=False)


async def run_worker(
    settings: Settings,
    database: Database,
    *,
    get_engine: EngineLookup,
    queues: Sequence[str] | None = None,
    concurrency: int = 1,
) -> None:
    """``attrap worker``: work the queues until SIGTERM or SIGINT."""
    tasks = TaskQueue(settings, database, get_engine=get_engine)
    await tasks.run(queues=queues, concurrency=concurrency)
