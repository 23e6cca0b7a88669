"""Publication → notification latency of the real daemon over a simulated day.

``--admins`` DSFR prefectures are served on 127.0.0.1 (one IP address for all: the worst case,
most prefecture sites share a server). Each has half a year of history in the database (its
bulletins' first sightings, from which the daemon learns when it publishes) and, during the
replayed day, new bulletins appear on its listing page at times drawn from a realistic
distribution: office hours on weekdays, and on Fridays the evening before weekend events.
Every bulletin is a real born-digital PDF with drone hits; a webhook receiver on 127.0.0.1
records when each hit is notified.

The daemon is ``attrap.scheduling.daemon.Daemon`` with the default configuration (SQLite,
politeness delay, schedule, processing lanes, delivery cycle), on a clock running ``--speed``
times faster than real time: its waits, the politeness budget and the delivery cycle are
simulated seconds, while HTTP, processing and the database run for real (their real seconds
count ``--speed`` times in the results, which is pessimistic).

Prints the latency between a bulletin's appearance and the first notification of its hits
(median, p95, max) and the request rate per host and per IP address (requests per simulated
hour, and the shortest gap between two requests to one address).

    .venv/bin/python bench/latency.py [--admins 100] [--publications 40] [--speed 60]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))
sys.path.insert(0, str(REPOSITORY))

from attrap.adapters.engines import get_engine  # noqa: E402
from attrap.adapters.registry import (  # noqa: E402
    AdapterSpec,
    load_adapters,
    sync_administrations,
)
from attrap.config import load_settings  # noqa: E402
from attrap.scheduling.daemon import Daemon  # noqa: E402
from attrap.store.db import open_database  # noqa: E402
from attrap.store.models import Document  # noqa: E402
from bench.bulletins import build_bulletin, load_corpus  # noqa: E402
from local_server import LocalServer, Reply, Request  # noqa: E402
from notify_peers import WebhookReceiver  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2024, 7, 12)  # a Friday
LISTING_PATH = "/Publications/RAA"
HISTORY_WEEKS = 26  # three bulletins a week: some 80 a year-half, as a mid-sized prefecture


class ScaledClock:
    """The daemon's clock, ``speed`` times faster than real time, from ``start``."""

    def __init__(self, start: dt.datetime, speed: float) -> None:
        self.start = start
        self.speed = speed
        self.origin = time.monotonic()

    def simulated(self, monotonic: float) -> float:
        """Simulated seconds since the start at a real ``time.monotonic()`` reading."""
        return (monotonic - self.origin) * self.speed

    def now(self) -> float:
        return self.simulated(time.monotonic())

    def wall(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.now())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def publication_time(day: dt.date, rng: random.Random) -> dt.datetime:
    """When a prefecture posts a bulletin (local time): office hours mostly; on Fridays, often
    in the evening, for the weekend's events."""
    friday = day.weekday() == 4
    roll = rng.random()
    if friday and roll < 0.25:
        hour = rng.uniform(17.5, 21.5)
    elif roll < 0.95:
        hour = rng.triangular(8.5, 18.0, 11.0)
    else:
        hour = rng.uniform(6.0, 23.0)
    return dt.datetime.combine(day, dt.time(0), tzinfo=PARIS) + dt.timedelta(hours=hour)


def dsfr_codes(count: int) -> list[str]:
    codes = []
    for path in sorted((REPOSITORY / "prefectures").glob("*.toml")):
        adapter = tomllib.loads(path.read_text(encoding="utf-8"))
        if adapter.get("engine") == "dsfr" and "dsfr" not in adapter:
            codes.append(adapter["code"])
    return codes[:count]


def listing_page(links: list[tuple[str, str, str]]) -> bytes:
    items = "".join(
        f'<li><a class="fr-link fr-link--download" href="{href}">{title}'
        f'<span class="fr-link__detail">PDF - 1,2 Mb - {date}</span></a></li>'
        for href, title, date in links
    )
    return (
        "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
        f'<div class="fr-downloads-group"><ul>{items}</ul></div></main></body></html>'
    ).encode()


class Sites:
    """Every administration's listing: its last old bulletins, plus each new one once the
    simulated clock has passed its publication time. ETags make unchanged pages cheap (304)."""

    def __init__(self, server: LocalServer, clock: Callable[[], dt.datetime]) -> None:
        self.server = server
        self.clock = clock
        self.old: dict[str, list[tuple[str, str, str]]] = {}
        self.new: dict[str, list[tuple[dt.datetime, str, str, str]]] = {}

    def add_site(self, code: str, old: list[tuple[str, str, str]]) -> None:
        self.old[code] = old
        self.new[code] = []
        self.server.route(f"/{code}{LISTING_PATH}", lambda request: self.listing(code, request))

    def publish(self, code: str, when: dt.datetime, path: str, content: bytes) -> None:
        date = when.astimezone(PARIS).strftime("%d/%m/%Y")
        self.new[code].append((when, path, f"RAA spécial {path.rsplit('/', 1)[-1]}", date))
        self.server.route(path, Reply(body=content, headers={"Content-Type": "application/pdf"}))

    def listing(self, code: str, request: Request) -> Reply:
        now = self.clock()
        shown = [(p, t, d) for when, p, t, d in self.new[code] if when <= now]
        etag = f'"{code}-{len(shown)}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        body = listing_page(list(reversed(shown)) + self.old[code])
        return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8", "ETag": etag})


def seed_history(
    database_url: str, settings_specs: Sequence[AdapterSpec], rng: random.Random, base: str
) -> dict[str, list[tuple[str, str, str]]]:
    """Half a year of bulletins per administration, first seen when they were published."""
    database = open_database(database_url)
    old_links: dict[str, list[tuple[str, str, str]]] = {}
    with database.session() as session:
        sync_administrations(session, settings_specs)
        for spec in settings_specs:
            links = []
            for week in range(HISTORY_WEEKS, 0, -1):
                for weekday in rng.sample(range(5), 3):
                    day = DAY - dt.timedelta(weeks=week) + dt.timedelta(days=weekday - 4)
                    seen = publication_time(day, rng).astimezone(dt.UTC)
                    path = f"/{spec.code}/old/{day.isoformat()}-{weekday}.pdf"
                    session.add(
                        Document(
                            administration_code=spec.code,
                            url=f"{base}{path}",
                            source_url=f"{base}/{spec.code}{LISTING_PATH}",
                            title="RAA",
                            published_on=day,
                            first_seen_at=seen,
                            fetched_at=seen,
                            status="matched",
                        )
                    )
                    links.append((path, "RAA", day.strftime("%d/%m/%Y")))
            old_links[spec.code] = list(reversed(links))[:3]
    database.engine.dispose()
    return old_links


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admins", type=int, default=100)
    parser.add_argument("--publications", type=int, default=40)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    rng = random.Random(args.seed)
    # The replay starts at 06:00, before the first publication can appear.
    start = dt.datetime.combine(DAY, dt.time(6), tzinfo=PARIS).astimezone(dt.UTC)

    corpus = load_corpus()
    drone = [act for act in corpus if "drone" in act.categories]
    with tempfile.TemporaryDirectory() as scratch, LocalServer().running() as server:
        work = Path(scratch)
        webhook = WebhookReceiver()
        codes = dsfr_codes(args.admins)
        overrides = "".join(
            f'[adapters.overrides."{code}"]\n'
            f'start_urls = ["{server.url(f"/{code}{LISTING_PATH}")}"]\n'
            for code in codes
        )
        config = work / "attrap.toml"
        config.write_text(
            f'[storage]\ndata_dir = "{work / "data"}"\n'
            f'[database]\nurl = "sqlite:///{work / "attrap.db"}"\n'
            f"[adapters]\nenabled = {json.dumps(codes)}\n{overrides}"
            f'[notify.webhook]\nurl = "{webhook.url}/hook"\n',
            encoding="utf-8",
        )
        settings = load_settings(config)
        specs = [spec for spec in load_adapters(settings) if spec.code in codes]
        old = seed_history(settings.database.url, specs, rng, server.base)

        clock = ScaledClock(start, args.speed)
        sites = Sites(server, clock.wall)
        for code in codes:
            sites.add_site(code, old[code])
        published: dict[str, dt.datetime] = {}  # document URL → when it appeared
        for number in range(args.publications):
            code = rng.choice(codes)
            when = publication_time(DAY, rng).astimezone(dt.UTC)
            path = f"/{code}/raa-{number}.pdf"
            pdf = work / f"raa-{number}.pdf"
            build_bulletin(
                [drone[number % len(drone)], corpus[number % len(corpus)]],
                pdf,
                number=f"{code}-2024-{number:03d}",
                published_on=DAY,
            )
            sites.publish(code, when, path, pdf.read_bytes())
            published[server.url(path)] = when
        end = max(published.values()) + dt.timedelta(hours=2)
        clock.origin = time.monotonic()  # the day starts now

        async def replay() -> None:
            stop = asyncio.Event()
            daemon = asyncio.create_task(
                Daemon(
                    settings,
                    open_database(settings.database.url),
                    specs,
                    get_engine=get_engine,
                    clock=clock,
                ).run(stop)
            )
            notified: set[str] = set()
            while clock.wall() < end and len(notified) < len(published):
                await asyncio.sleep(1)
                notified = {url for url, _ in first_notifications(webhook, clock)}
            stop.set()
            await daemon

        real_started = time.monotonic()
        asyncio.run(replay())
        real_s = time.monotonic() - real_started
        webhook.close()

    first = dict(first_notifications(webhook, clock))
    latencies = [
        (first[url] - when).total_seconds() / 60 for url, when in published.items() if url in first
    ]
    print(
        f"simulated day: {DAY.isoformat()} (Friday) from 06:00 at ×{args.speed:g}, "
        f"{real_s:.0f} s real"
    )
    print(f"administrations: {len(codes)} (one IP address), publications: {len(published)}")
    print(f"notified: {len(latencies)} of {len(published)}")
    if latencies:
        print(
            f"latency (minutes): median {statistics.median(latencies):.1f}, "
            f"p95 {percentile(latencies, 0.95):.1f}, max {max(latencies):.1f}"
        )
    arrivals = sorted(clock.simulated(r.arrived) for r in server.log)
    per_hour = Counter(int(t // 3600) for t in arrivals)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    print(
        f"requests: {len(arrivals)}; per host and per IP (all one here) per hour: "
        f"max {max(per_hour.values())}, mean {len(arrivals) / max(1, len(per_hour)):.0f}; "
        f"shortest gap between two requests to the IP: {min(gaps):.2f} s (simulated)"
    )
    statuses = Counter(r.path.endswith(LISTING_PATH) for r in server.log)
    print(f"listing requests: {statuses[True]}, PDF downloads: {statuses[False]}")


def first_notifications(
    webhook: WebhookReceiver, clock: ScaledClock
) -> list[tuple[str, dt.datetime]]:
    """(document URL, when its first hit was notified), from the webhook's deliveries."""
    first: dict[str, dt.datetime] = {}
    with webhook.lock:
        requests = list(webhook.requests)
    for request in requests:
        body = request.json()
        hits = body.get("hits", [body])
        at = clock.start + dt.timedelta(seconds=clock.simulated(request.at))
        for hit in hits:
            url = hit["document"]["url"]
            first[url] = min(first.get(url, at), at)
    return list(first.items())


if __name__ == "__main__":
    main()
