"""One pass, the same for ``attrap run``, ``attrap daemon`` and ``attrap worker``: crawl →
download → process → store → notify. They only decide when and where it runs.

- The crawl of an administration downloads its new bulletins and hands each one over without
  waiting (``Lanes.submit``, or a queued job on workers); processing runs in worker processes.
- New hits enter the notification outbox in the transaction that stores them: a crash can lose
  neither a hit nor its notification.
- After each crawl its health is checked (``health.check``): incidents open and resolve, and
  their maintainer alerts are queued.
- Documents a killed process left ``fetched`` or ``extracted`` are taken up again at start and on
  every cycle (``Lanes.resume``), within ``processing.max_attempts``.
- Delivery sends what is due in the outbox: hits, then maintainer alerts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from attrap import health
from attrap.adapters.registry import AdapterSpec
from attrap.config import Settings
from attrap.http import Clock, HttpClient
from attrap.notify.alerts import dispatch_alerts
from attrap.notify.outbox import DispatchReport, channel_settings, dispatch, enqueue
from attrap.pipeline import (
    CrawlOutcome,
    DocumentProcessor,
    EngineLookup,
    NewHitsHook,
    ProgressCallback,
    crawl_administration,
)
from attrap.pipeline.lanes import Lanes
from attrap.store.db import Database
from attrap.store.models import utcnow

log = logging.getLogger(__name__)


def outbox_hook(settings: Settings, notify: bool = True) -> NewHitsHook:
    """Queues the notifications of new hits in the transaction that stores them."""

    def queue(session: Session, hit_ids: list[int]) -> None:
        enqueue(session, settings, hit_ids, muted=not notify)

    return queue


def lanes(settings: Settings, database: Database, *, notify: bool = True) -> Lanes:
    """The processing side of a pass: worker processes whose new hits enter the outbox."""
    return Lanes(settings, database, hook_factory=outbox_hook, notify=notify)


def log_outcome(outcome: CrawlOutcome) -> None:
    """One log line per finished crawl (the daemon and workers have no summary table)."""
    log.info(
        "%s: %d found, %d new, %d downloaded, %d failed%s",
        outcome.code,
        outcome.found,
        outcome.new,
        outcome.downloaded,
        outcome.failed,
        f" — {outcome.error}" if outcome.error else "",
    )


class Pass:
    """The stages of a pass for one configuration; ``hand_over`` receives each fetched
    document (the lanes, or a worker's job queue)."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        get_engine: EngineLookup,
        hand_over: DocumentProcessor,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.database = database
        self.get_engine = get_engine
        self.hand_over = hand_over
        # The wall clock health is judged by (the daemon's, simulated in bench/latency.py).
        self.now = now

    async def crawl(
        self,
        spec: AdapterSpec,
        client: HttpClient,
        *,
        not_before: dt.date | None = None,
        full: bool = False,
        settled_before: dt.date | None = None,
        progress: ProgressCallback | None = None,
    ) -> CrawlOutcome:
        """Crawl one administration, hand its new documents over, check its health.
        ``settled_before``: a quick check (``pipeline.crawl.crawl_administration``)."""
        outcome = await crawl_administration(
            spec,
            settings=self.settings,
            database=self.database,
            client=client,
            get_engine=self.get_engine,
            not_before=not_before,
            full=full,
            settled_before=settled_before,
            process=self.hand_over,
            progress=progress,
        )
        log_outcome(outcome)
        if outcome.error != "interrupted":
            await asyncio.to_thread(
                health.check,
                self.database,
                self.settings,
                spec.code,
                start_url=spec.start_urls[0],
                now=self.now(),
            )
        return outcome

    def deliver(self) -> DispatchReport:
        """Send what is due: notifications of hits, then maintainer alerts (blocking)."""
        report = dispatch(self.database, self.settings)
        dispatch_alerts(self.database, self.settings)
        return report

    @property
    def delivers(self) -> bool:
        return bool(channel_settings(self.settings))


async def run_pass(
    settings: Settings,
    database: Database,
    specs: Sequence[AdapterSpec],
    *,
    get_engine: EngineLookup,
    not_before: dt.date | None = None,
    full: bool = False,
    notify: bool = True,
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
) -> tuple[list[CrawlOutcome], DispatchReport | None]:
    """``attrap run``: one pass over these administrations, concurrently within one politeness
    budget, until every document is processed; then delivery (unless ``notify`` is off)."""
    codes = [spec.code for spec in specs]
    async with lanes(settings, database, notify=notify) as processing:
        stages = Pass(settings, database, get_engine=get_engine, hand_over=processing.submit)
        await processing.resume(codes)
        async with HttpClient(settings, clock=clock) as client:
            outcomes = await asyncio.gather(
                *(
                    stages.crawl(spec, client, not_before=not_before, full=full, progress=progress)
                    for spec in specs
                )
            )
        await processing.join()
    report = await asyncio.to_thread(stages.deliver) if notify and stages.delivers else None
    return list(outcomes), report
