"""``attrap daemon``: every administration checked on its own rhythm by one long-lived process.

The administrations are grouped by the IP address of their first start page; one ``Poller`` per
address starts their checks (one pass each: crawl, download, hand over to the processing lanes,
health check) in turn, the most overdue first, at most ``schedule.crawls_per_address`` at once —
``schedule.busy_every_minutes`` apart in the hours an administration publishes,
``schedule.every_minutes`` otherwise (``rhythm``). One administration is never crawled twice at
once, and a check that overran is not repeated to catch up. Most checks are quick: the list
pages of past months and years are left to a deep crawl once a day (``CrawlDepth``), so that one
address's politeness budget covers its sites every few minutes. All checks share one HTTP client,
hence one politeness budget per host and per address. A cycle every minute
(``schedule.cycle_s``) takes up documents left unprocessed (by a killed process, or beyond the
queue) and delivers what is due in the outboxes; the first cycle runs at start.

The clock is injectable, so that ``bench/latency.py`` replays a simulated day through this very
code.

SIGTERM or SIGINT stops the pollers, cancels the crawls in progress (their ``crawl_runs`` rows
say "interrupted") and the processing (taken up again at the next start), and returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from attrap.adapters.registry import AdapterSpec
from attrap.config import ScheduleSettings, Settings
from attrap.http import HttpClient, SystemClock
from attrap.pipeline import EngineLookup
from attrap.pipeline.lanes import Lanes
from attrap.scheduling.polling import Poller
from attrap.scheduling.rhythm import Rhythm, administration_rhythm
from attrap.service import Pass, lanes
from attrap.store.db import Database

log = logging.getLogger(__name__)


class DaemonClock(Protocol):
    """Monotonic seconds and sleeping (the HTTP client's clock) and the wall clock."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def wall(self) -> dt.datetime: ...


class SystemDaemonClock(SystemClock):
    def wall(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class CrawlDepth:
    """Which checks walk a site whole: an administration's first, then one every
    ``schedule.deep_every_hours``; the others are quick (``pipeline.crawl``), leaving out the
    list pages of periods that ended ``schedule.quick_check_days`` before today. A deep crawl
    that failed is tried again at the next check."""

    def __init__(self, schedule: ScheduleSettings) -> None:
        self.every_s = schedule.deep_every_hours * 3600
        self.quick_days = schedule.quick_check_days
        self.last_deep: dict[str, float] = {}  # when each one's last deep crawl started

    def settled_before(self, code: str, now: float, today: dt.date) -> dt.date | None:
        """None for a deep crawl, else the day before which a quick check leaves pages out."""
        last = self.last_deep.get(code)
        if last is None or now - last >= self.every_s:
            return None
        return today - dt.timedelta(days=self.quick_days)

    def walked(self, code: str, started: float) -> None:
        self.last_deep[code] = started


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
                asyncio.create_task(poller.run()) for poller in await self._pollers(stages, client)
            ]
            loops.append(asyncio.create_task(self._cycle(stages, processing)))
            log.info(
                "daemon started: %d administrations behind %d addresses",
                len(self.specs),
                len(loops) - 1,
            )
            try:
                await stop.wait()
            finally:
                for loop in loops:
                    loop.cancel()
                # Let cancelled crawls record their interruption before the client closes.
                await asyncio.gather(*loops, return_exceptions=True)
                log.info("daemon stopped")

    async def _pollers(self, stages: Pass, client: HttpClient) -> list[Poller]:
        """One poller per IP address, over the administrations whose first start page it
        serves."""
        behind: dict[str, list[AdapterSpec]] = defaultdict(list)
        for spec in self.specs:
            behind[await client.address_of(spec.start_urls[0])].append(spec)
        schedule = self.settings.schedule
        depth = CrawlDepth(schedule)

        async def check(spec: AdapterSpec) -> None:
            started = self.clock.now()
            settled_before = depth.settled_before(spec.code, started, self.clock.wall().date())
            outcome = await stages.crawl(spec, client, settled_before=settled_before)
            if settled_before is None and outcome.error is None:
                depth.walked(spec.code, started)

        async def learn(spec: AdapterSpec) -> Rhythm:
            return await asyncio.to_thread(
                administration_rhythm, self.database, spec.code, schedule
            )

        return [
            Poller(
                specs,
                schedule=schedule,
                wall=self.clock.wall,
                sleep=self.clock.sleep,
                check=check,
                learn=learn,
            )
            for specs in behind.values()
        ]

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
