"""``attrap daemon``: every administration crawled on its own rhythm by one long-lived process.

Each administration has its loop: crawl (one pass: download, hand over to the processing lanes,
health check), then wait until its next crawl — ``schedule.busy_every_minutes`` in the hours it
publishes, ``schedule.every_minutes`` otherwise (``rhythm``), plus up to ``schedule.jitter_s``.
One administration is never crawled twice at once, and a crawl that overran is not repeated to
catch up. All crawls share one HTTP client, hence one politeness budget. A cycle every minute
(``schedule.cycle_s``) takes up documents left unprocessed (by a killed process, or beyond the
queue) and delivers what is due in the outboxes; the first cycle runs at start.

The per-administration loops replace an interval scheduler: the next crawl depends on each
administration's learned rhythm, and the clock is injectable, so that ``bench/latency.py``
replays a simulated day through this very code.

SIGTERM or SIGINT stops the loops, cancels the crawls in progress (their ``crawl_runs`` rows say
"interrupted") and the processing (taken up again at the next start), and returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import signal
from collections.abc import Sequence
from typing import Protocol

from attrap.adapters.registry import AdapterSpec
from attrap.config import Settings
from attrap.http import HttpClient, SystemClock
from attrap.pipeline import EngineLookup
from attrap.pipeline.lanes import Lanes
from attrap.scheduling.rhythm import Rhythm, administration_rhythm
from attrap.service import Pass, lanes
from attrap.store.db import Database

log = logging.getLogger(__name__)

# An administration's rhythm is learned again this often: its history grows slowly.
RELEARN = dt.timedelta(days=1)


class DaemonClock(Protocol):
    """Monotonic seconds and sleeping (the HTTP client's clock) and the wall clock."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def wall(self) -> dt.datetime: ...


class SystemDaemonClock(SystemClock):
    def wall(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class Daemon:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        specs: Sequence[AdapterSpec],
        *,
        get_engine: EngineLookup,
        clock: DaemonClock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.specs = list(specs)
        self.get_engine = get_engine
        self.clock: DaemonClock = clock or SystemDaemonClock()

    async def run(self, stop: asyncio.Event) -> None:
        """Crawl on schedule until ``stop`` is set."""
        async with (
            lanes(self.settings, self.database) as processing,
            HttpClient(self.settings, clock=self.clock) as client,
        ):
            stages = Pass(
                self.settings,
                self.database,
                get_engine=self.get_engine,
                hand_over=processing.submit,
                now=self.clock.wall,
            )
            loops = [
                asyncio.create_task(self._administration(spec, stages, client))
                for spec in self.specs
            ]
            loops.append(asyncio.create_task(self._cycle(stages, processing)))
            log.info("daemon started: %d administrations", len(self.specs))
            try:
                await stop.wait()
            finally:
                for loop in loops:
                    loop.cancel()
                # Let cancelled crawls record their interruption before the client closes.
                await asyncio.gather(*loops, return_exceptions=True)
                log.info("daemon stopped")

    async def _administration(self, spec: AdapterSpec, stages: Pass, client: HttpClient) -> None:
        schedule = self.settings.schedule
        # The first crawls are spread so that they do not all queue at the client's gates.
        await self.clock.sleep(random.uniform(0, schedule.jitter_s))
        rhythm: Rhythm | None = None
        learned_at = self.clock.wall()
        while True:
            try:
                await stages.crawl(spec, client)
            except Exception:
                # A crawl records its own failures; this is a bug, and the loop must go on.
                log.exception("crawl of %s failed", spec.code)
            now = self.clock.wall()
            if rhythm is None or now - learned_at > RELEARN:
                rhythm = await asyncio.to_thread(
                    administration_rhythm, self.database, spec.code, schedule
                )
                learned_at = now
            due = rhythm.next_crawl(now, schedule)
            wait = (due - now).total_seconds() + random.uniform(0, schedule.jitter_s)
            await self.clock.sleep(wait)

    async def _cycle(self, stages: Pass, processing: Lanes) -> None:
        while True:
            try:
                resumed = await processing.resume()
                if resumed:
                    log.info("%d unprocessed documents taken up", resumed)
                if stages.delivers:
                    await asyncio.to_thread(stages.deliver)
            except Exception:
                log.exception("cycle failed")
            await self.clock.sleep(self.settings.schedule.cycle_s)


async def run_daemon(
    settings: Settings,
    database: Database,
    specs: Sequence[AdapterSpec],
    *,
    get_engine: EngineLookup,
    clock: DaemonClock | None = None,
) -> None:
    """Run the daemon until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        daemon = Daemon(settings, database, specs, get_engine=get_engine, clock=clock)
        await daemon.run(stop)
    finally:
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
