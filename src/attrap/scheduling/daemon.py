"""``attrap daemon``: every administration crawled on a schedule by one long-lived process.

One APScheduler job per administration, every ``schedule.every_minutes`` with up to
``schedule.jitter_s`` of jitter; a late job runs once (coalesce), never twice at a time. All jobs
share one HTTP client, hence one politeness budget. SIGTERM or SIGINT stops scheduling, cancels
the crawls in progress (their ``crawl_runs`` rows say "interrupted") and returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Sequence

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from attrap.adapters.registry import AdapterSpec
from attrap.config import Settings
from attrap.http import HttpClient
from attrap.pipeline import CrawlOutcome, DocumentProcessor, EngineLookup, crawl_administration
from attrap.store.db import Database

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_S = 60


def log_outcome(logger: logging.Logger, outcome: CrawlOutcome) -> None:
    """One log line per finished crawl (the daemon and workers have no summary table)."""
    logger.info(
        "%s: %d found, %d new, %d downloaded, %d failed%s",
        outcome.code,
        outcome.found,
        outcome.new,
        outcome.downloaded,
        outcome.failed,
        f" — {outcome.error}" if outcome.error else "",
    )


class Daemon:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        specs: Sequence[AdapterSpec],
        *,
        get_engine: EngineLookup,
        process: DocumentProcessor | None = None,
        deliver: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.specs = list(specs)
        self.get_engine = get_engine
        self.process = process
        self.deliver = deliver
        self._running: set[asyncio.Task[object]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Crawl on schedule until ``stop`` is set."""
        schedule = self.settings.schedule
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        async with HttpClient(self.settings) as client:
            now = dt.datetime.now(dt.UTC)
            for spec in self.specs:
                scheduler.add_job(
                    self._crawl,
                    IntervalTrigger(minutes=schedule.every_minutes, jitter=schedule.jitter_s),
                    args=[spec, client],
                    id=spec.code,
                    name=f"crawl {spec.code}",
                    coalesce=True,
                    max_instances=1,
                    # First pass soon after start, spread so the administrations do not all
                    # queue at the HTTP client's gates at once.
                    next_run_time=now + dt.timedelta(seconds=random.uniform(0, schedule.jitter_s)),
                    misfire_grace_time=None,
                )
            if self.deliver is not None:
                # The outbox is polled rather than fed: what a crash left pending goes out too.
                scheduler.add_job(
                    self.deliver,
                    IntervalTrigger(seconds=DELIVERY_INTERVAL_S),
                    id="notify",
                    name="deliver notifications",
                    coalesce=True,
                    max_instances=1,
                    next_run_time=now,
                )
            scheduler.start()
            log.info("daemon started: %d administrations", len(self.specs))
            try:
                await stop.wait()
            finally:
                scheduler.shutdown(wait=False)
                for task in list(self._running):
                    task.cancel()
                # Let cancelled crawls record their interruption before the client closes.
                await asyncio.gather(*self._running, return_exceptions=True)
                log.info("daemon stopped")

    async def _crawl(self, spec: AdapterSpec, client: HttpClient) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            outcome = await crawl_administration(
                spec,
                settings=self.settings,
                database=self.database,
                client=client,
                get_engine=self.get_engine,
                process=self.process,
            )
        finally:
            self._running.discard(task)
        log_outcome(log, outcome)


async def run_daemon(
    settings: Settings,
    database: Database,
    specs: Sequence[AdapterSpec],
    *,
    get_engine: EngineLookup,
    process: DocumentProcessor | None = None,
    deliver: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Run the daemon until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        daemon = Daemon(
            settings, database, specs, get_engine=get_engine, process=process, deliver=deliver
        )
        await daemon.run(stop)
    finally:
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
