"""The daemon's poller for one server address, on a discrete-event clock: checks go through a
model of the HTTP client's gate (one request start per 5 s to the address), so the spacing,
the order and the lateness of the checks are exact simulated seconds."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
from collections import defaultdict
from zoneinfo import ZoneInfo

from attrap.adapters.registry import AdapterSpec
from attrap.config import ScheduleSettings
from attrap.scheduling.polling import Poller
from attrap.scheduling.rhythm import HOURS_PER_WEEK, Rhythm, office_hours
from local_server import spec

PARIS = ZoneInfo("Europe/Paris")
MONDAY_6 = dt.datetime(2024, 7, 8, 6, 0, tzinfo=PARIS)
ALWAYS = Rhythm(PARIS, frozenset(range(HOURS_PER_WEEK)))
NEVER = Rhythm(PARIS, frozenset())
GATE_S = 5.0  # crawl.min_delay_s
TRANSFER_S = 1.0  # a conditional request answered 304


class EventClock:
    """Time advances only when every task waits: then to the earliest sleeper's wake-up."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.time = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def wall(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.time)

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.time + max(0.0, seconds), next(self._order), wake))
        await wake

    async def run_until(self, end_s: float) -> None:
        while True:
            for _ in range(20):  # let every ready task run to its next sleep
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleeps
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > end_s:
                self.time = end_s
                return
            self.time, _, wake = heapq.heappop(self._sleepers)
            wake.set_result(None)


class Address:
    """The HTTP client's per-address gate, and a log of what the poller asked of it."""

    def __init__(self, clock: EventClock) -> None:
        self.clock = clock
        self.gate = asyncio.Lock()
        self.last_start = -GATE_S
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.gate_waits: list[float] = []
        self.in_flight = self.most_in_flight = 0

    async def check(self, site: AdapterSpec) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        asked = self.clock.time
        try:
            async with self.gate:
                await self.clock.sleep(self.last_start + GATE_S - self.clock.time)
                self.last_start = self.clock.time
            self.gate_waits.append(self.clock.time - asked)
            self.starts[site.code].append(self.clock.time)
            await self.clock.sleep(TRANSFER_S)
        finally:
            self.in_flight -= 1


def replay(
    rhythms: dict[str, Rhythm], hours: float, start: dt.datetime = MONDAY_6, **schedule: object
) -> Address:
    clock = EventClock(start)
    address = Address(clock)
    settings = ScheduleSettings.model_validate(schedule)

    async def learn(site: AdapterSpec) -> Rhythm:
        return rhythms[site.code]

    async def scenario() -> None:
        poller = Poller(
            [spec(code, f"https://{code}.example/raa") for code in rhythms],
            schedule=settings,
            wall=clock.wall,
            sleep=clock.sleep,
            check=address.check,
            learn=learn,
        )
        polling = asyncio.create_task(poller.run())
        await clock.run_until(hours * 3600)
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)

    asyncio.run(scenario())
    return address


def gaps(starts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(starts)]


def test_checks_of_one_address_are_spread_evenly_and_never_queue():
    # 99 administrations in their busy hours behind one address: 594 checks an hour of a budget
    # of 720 requests.
    codes = [f"{n:02d}" for n in range(1, 100)]
    address = replay(dict.fromkeys(codes, ALWAYS), hours=3)

    assert address.most_in_flight == 2  # crawls_per_address
    # A check never waits at the gate longer than the two in flight take.
    assert max(address.gate_waits) <= 2 * GATE_S
    # The first round goes at the gate's pace, one start every 5 s…
    firsts = sorted(starts[0] for starts in address.starts.values())
    assert gaps(firsts) == [GATE_S] * 98
    # …and each administration then keeps its place: checked every 10 minutes, not later than
    # the gate makes it, never bunched with the others.
    for code in codes:
        assert all(600 <= gap <= 600 + 2 * GATE_S for gap in gaps(address.starts[code])), code
        assert len([t for t in address.starts[code] if t < 3 * 3600]) == 18
    every = sorted(t for starts in address.starts.values() for t in starts)
    assert min(gaps(every)) == GATE_S
    per_ten_minutes = defaultdict(int)
    for start in (t for t in every if t < 3 * 3600):
        per_ten_minutes[int(start // 600)] += 1
    assert set(per_ten_minutes.values()) == {99}


def test_busy_administrations_get_the_checks_when_the_budget_is_short():
    # 150 busy and 50 quiet behind one address: 150 checks every 10 minutes alone need 750 s of
    # the gate, more than the 600 s there are.
    rhythms = {f"B{n}": ALWAYS for n in range(150)} | {f"Q{n}": NEVER for n in range(50)}
    address = replay(rhythms, hours=4)

    # The gate is never idle and never has a queue: 2 in flight, one start every 5 s.
    every = sorted(t for starts in address.starts.values() for t in starts)
    assert set(gaps(every)) == {GATE_S}
    assert max(address.gate_waits) <= 2 * GATE_S
    # Round robin among the busy ones once past due: each waits its turn, none starves.
    busy_gaps = [g for n in range(150) for g in gaps(address.starts[f"B{n}"])]
    assert 600 < max(busy_gaps) <= 150 * GATE_S + 60 * GATE_S
    quiet = [address.starts[f"Q{n}"] for n in range(50)]
    busy = [address.starts[f"B{n}"] for n in range(150)]
    # Quiet ones are checked hourly (give or take a turn of the busy round), never more often.
    for starts in quiet:
        assert len(starts) in (4, 5)
        assert all(3600 <= gap <= 3600 + 150 * GATE_S for gap in gaps(starts))
    # Busy ones get about six times the checks: 10- vs 60-minute intervals.
    assert min(len(s) for s in busy) >= 4 * max(len(s) for s in quiet) / 2
    assert sum(map(len, busy)) / 150 > 3 * sum(map(len, quiet)) / 50


def test_a_quiet_administration_is_checked_when_its_busy_hours_begin():
    schedule = ScheduleSettings()
    office = Rhythm(PARIS, frozenset(office_hours(schedule)))
    # Monday 06:00: quiet until 08:00 (office hours), then busy until 19:00.
    address = replay({"01": office}, hours=3.5)

    minutes = [round(t / 60, 2) for t in address.starts["01"]]
    # 06:00 first, 07:00 (hourly), 08:00 (busy hours begin), then every 10 minutes.
    assert minutes == [0.0, 60.0, 120.0, *(120.0 + 10 * k for k in range(1, 10))]
