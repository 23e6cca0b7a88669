"""When the daemon checks each administration: one poller per IP address, sharing its budget.

Most prefecture sites sit behind one server address, whose politeness budget (one request per
``crawl.min_delay_s``) is all the administrations behind it have. Independent per-administration
timers bunch up (every office-hours timer fires at 08:00) and then queue at the HTTP client's
gate, so a check waits behind dozens of others. A poller instead keeps at most
``schedule.crawls_per_address`` checks in flight for its address (two, so that one slow page or
long download does not hold the others) and starts the one most overdue:

- an administration is due ``busy_every_minutes`` after its last check started when it is in its
  busy hours, ``every_minutes`` otherwise, never later than the start of its next busy hour
  (``Rhythm.next_crawl``);
- among the due ones, the earliest due goes first: when the budget cannot cover every interval,
  checks go round the administrations in turn, and those in their busy hours, due six times as
  often, get six times the checks;
- intervals run from the start of a check, so checks keep the spacing they got in the first
  round (one after the other at the gate's pace) instead of drifting together.

A check is one incremental crawl (``Pass.crawl``): on a site whose listing did not change it is one
conditional request answered ``304``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from attrap.adapters.registry import AdapterSpec
from attrap.config import ScheduleSettings
from attrap.scheduling.rhythm import Rhythm

log = logging.getLogger(__name__)

# An administration's rhythm is learned again this often: its history grows slowly.
RELEARN = dt.timedelta(days=1)


@dataclass
class _Site:
    spec: AdapterSpec
    rhythm: Rhythm | None = None
    learned_at: dt.datetime | None = None
    last_check: dt.datetime | None = None
    running: bool = False

    def due(self, schedule: ScheduleSettings) -> dt.datetime | None:
        """When it should be checked next; None when never checked (due at once)."""
        if self.last_check is None or self.rhythm is None:
            return None
        return self.rhythm.next_crawl(self.last_check, schedule)


class Poller:
    """The checks of the administrations behind one address, timed by ``wall`` and ``sleep``
    (the daemon's clock)."""

    def __init__(
        self,
        specs: Sequence[AdapterSpec],
        *,
        schedule: ScheduleSettings,
        wall: Callable[[], dt.datetime],
        sleep: Callable[[float], Awaitable[None]],
        check: Callable[[AdapterSpec], Awaitable[object]],
        learn: Callable[[AdapterSpec], Awaitable[Rhythm]],
    ) -> None:
        self.sites = [_Site(spec) for spec in specs]
        self.schedule = schedule
        self.wall = wall
        self.sleep = sleep
        self.check = check
        self.learn = learn
        self._finished = asyncio.Event()
        self._checks: set[asyncio.Task[None]] = set()

    def next_site(self, now: dt.datetime) -> _Site | None:
        """The idle administration most overdue at ``now``, if any is due."""
        due: list[tuple[dt.datetime, int, _Site]] = []
        for order, site in enumerate(self.sites):
            if site.running:
                continue
            when = site.due(self.schedule)
            if when is None:
                return site  # never checked: first, in the given order
            if when <= now:
                due.append((when, order, site))
        return min(due, key=lambda item: item[:2])[2] if due else None

    def wait_s(self, now: dt.datetime) -> float | None:
        """Seconds until an idle administration falls due; None when all are running."""
        dues = [site.due(self.schedule) for site in self.sites if not site.running]
        if not dues:
            return None
        return max(0.0, min((d - now).total_seconds() if d else 0.0 for d in dues))

    async def run(self) -> None:
        """Check on schedule until cancelled; cancelling cancels the checks in progress."""
        try:
            while True:
                now = self.wall()
                while len(self._checks) < self.schedule.crawls_per_address:
                    site = self.next_site(now)
                    if site is None:
                        break
                    await self._start(site, now)
                    now = self.wall()
                full = len(self._checks) >= self.schedule.crawls_per_address
                # With every slot taken only a finished check can start another.
                await self._until_due_or_finished(None if full else self.wait_s(now))
        finally:
            for task in self._checks:
                task.cancel()
            await asyncio.gather(*self._checks, return_exceptions=True)

    async def _start(self, site: _Site, now: dt.datetime) -> None:
        if site.rhythm is None or site.learned_at is None or now - site.learned_at > RELEARN:
            site.rhythm = await self.learn(site.spec)
            site.learned_at = now
        site.running = True
        site.last_check = now
        task = asyncio.create_task(self._check(site))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check(self, site: _Site) -> None:
        try:
            await self.check(site.spec)
        except Exception:
            # A crawl records its own failures; this is a bug, and polling must go on.
            log.exception("check of %s failed", site.spec.code)
        finally:
            site.running = False
            self._finished.set()

    async def _until_due_or_finished(self, wait_s: float | None) -> None:
        finished: asyncio.Future[object] = asyncio.ensure_future(self._finished.wait())
        waits = {finished}
        if wait_s is not None:
            waits.add(asyncio.ensure_future(self.sleep(wait_s)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
        self._finished.clear()
