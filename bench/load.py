"""Load test of ``attrap serve`` on PostgreSQL with a million hits.

    .venv/bin/python bench/load.py --database-url postgresql+psycopg://…/load [--hits 1000000]
        [--clients 50] [--duration 60] [--think 1.0] [--refill]

Fills the database (migrated first) with ``--hits`` generated hits (``attrap.store.samples``:
weighted départements and categories, ten years of dates, facts and periods for the facts
categories; 20 hits per bulletin) through PostgreSQL ``COPY``, unless it already holds that many;
then starts the real ``attrap serve`` (uvicorn) in its own process and runs ``--clients``
concurrent HTTP clients for ``--duration`` seconds (each waits ``--think`` seconds on average
between two requests, like a reader; 0 sends flat out), each request drawn in turn from the home
page, a département page, the JSON API with filters and an Atom feed. Prints p50 / p95 / max
latency and errors per endpoint, and the machine's load average before and after: client and
server share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, text

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.config import Settings
from attrap.store.db import Database, open_database
from attrap.store.models import Hit
from attrap.store.samples import (
    SampleHit,
    filed_administrations,
    sample_facts,
    sample_hits,
    sample_period,
)

HITS_PER_DOCUMENT = 20
YEARS = 10
TABLES = ["documents", "acts", "hits", "act_facts", "act_periods"]
DEPARTMENTS = ["13", "75", "69", "2A", "48", "974", "59", "33"]
CATEGORIES = ["drone", "videoprotection", "vsa", "perimetre-protection"]
SLOWEST = 5
# Hits generated and copied at a time (a multiple of HITS_PER_DOCUMENT).
CHUNK = 50_000


def _copy_rows(
    samples: Iterable[SampleHit], zones: dict[str, ZoneInfo], first: int
) -> dict[str, list[tuple[object, ...]]]:
    """The rows of each table for a chunk of samples, the first being number ``first``."""
    rows: dict[str, list[tuple[object, ...]]] = {table: [] for table in TABLES}
    for index, sample in enumerate(samples, start=first):
        hit_id = index + 1
        document_id = index // HITS_PER_DOCUMENT + 1
        code = sample.administration_code
        if index % HITS_PER_DOCUMENT == 0:
            rows["documents"].append(
                (
                    document_id,
                    code,
                    f"https://raa.example.gouv.fr/{code}/RAA-{document_id}.pdf",
                    f"Recueil des actes administratifs du {sample.published_on:%d/%m/%Y}",
                    sample.published_on,
                    sample.first_seen_at,
                    "matched",
                )
            )
        rows["acts"].append(
            (
                hit_id,
                document_id,
                sample.act_number,
                sample.title,
                sample.signed_on,
                sample.page,
                sample.page + 1,
            )
        )
        rows["hits"].append(
            (
                hit_id,
                hit_id,
                document_id,
                sample.category,
                0.9,
                json.dumps(sample.terms, ensure_ascii=False),
                sample.snippet,
                sample.page,
                sample.first_seen_at,
                "bench",
                sample.department,
            )
        )
        if sample.period is not None:
            facts = sample_facts(sample, zones[code])
            rows["act_facts"].append(
                (
                    hit_id,
                    facts.version,
                    json.dumps(facts.data, ensure_ascii=False),
                    facts.first_start,
                    facts.last_end,
                    facts.published_at,
                    facts.publication_basis,
                    facts.lead_seconds,
                    facts.late,
                )
            )
            p = sample_period(sample, zones[code])
            rows["act_periods"].append(
                (hit_id, hit_id, p.starts_at, p.ends_at, p.first_day, p.last_day)
            )
    return rows


COLUMNS = {
    "documents": "id, administration_code, url, title, published_on, first_seen_at, status",
    "acts": "id, document_id, number, title, signed_on, page_start, page_end",
    "hits": "id, act_id, document_id, category, score, terms, snippet, page, first_seen_at, "
    "rules_version, department",
    "act_facts": "act_id, version, data, first_start, last_end, published_at, "
    "publication_basis, lead_seconds, late",
    "act_periods": "id, act_id, starts_at, ends_at, first_day, last_day",
}


def fill(database: Database, hits: int) -> None:
    """Empty the tables of hits and reload them with ``COPY``. Secondary indexes are dropped
    during the load and rebuilt after it (one sort each instead of a million insertions); the
    full-text trigger of migration 0005 fills ``search_vector`` as in production."""
    started = time.perf_counter()
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        departments, zones = filed_administrations(session)
    samples = sample_hits(departments, hits, seed=1, today=dt.date.today(), days=365 * YEARS)
    with database.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                (TABLES,),
            )
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            first = 0
            # In chunks, each table after the ones its foreign keys point to.
            while chunk := list(itertools.islice(samples, CHUNK)):
                rows = _copy_rows(chunk, zones, first)
                for table in TABLES:
                    with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
                first += len(chunk)
                print(f"  {first} hits: {time.perf_counter() - started:.0f} s", flush=True)
            print("  rebuilding indexes…", flush=True)
            for _, definition in indexes:
                cursor.execute(definition)
            for table in TABLES:
                # The sequences follow the ids given explicitly.
                if table != "act_facts":
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
        raw.commit()
        raw.autocommit = True
        # What autovacuum would have done on a database that grew over years.
        raw.execute("VACUUM ANALYZE")
    print(f"fill: {time.perf_counter() - started:.0f} s", flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _targets(today: dt.date) -> Iterator[tuple[str, str]]:
    """(endpoint, path) in turn: home, département page, API with filters, Atom feed."""
    rng = random.Random(7)
    for turn in itertools.count():
        department = DEPARTMENTS[turn % len(DEPARTMENTS)]
        category = CATEGORIES[turn % len(CATEGORIES)]
        since = today - dt.timedelta(days=rng.choice([30, 365, 3 * 365]))
        yield "home /", "/"
        yield "département page", f"/departements/{department}?page={rng.randint(1, 3)}"
        yield (
            "API /api/hits",
            (f"/api/hits?department={department}&category={category}&since={since}&limit=50"),
        )
        yield "Atom feed", f"/feeds/hits.atom?department={department}"


async def _client(
    client: httpx.AsyncClient,
    targets: Iterator[tuple[str, str]],
    deadline: float,
    think: float,
    durations: dict[str, list[float]],
    errors: dict[str, list[str]],
) -> None:
    rng = random.Random()
    while time.perf_counter() < deadline:
        endpoint, path = next(targets)
        started = time.perf_counter()
        try:
            response = await client.get(path)
            if response.status_code != 200:
                errors[endpoint].append(f"HTTP {response.status_code} {path}")
        except httpx.HTTPError as exc:
            errors[endpoint].append(f"{type(exc).__name__} {path}")
        durations[endpoint].append((time.perf_counter() - started) * 1000)
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def _load(
    base_url: str, clients: int, duration: float, think: float
) -> tuple[dict, dict, float]:
    durations: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    targets = _targets(dt.date.today())
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(
            *(_client(client, targets, deadline, think, durations, errors) for _ in range(clients))
        )
        elapsed = time.perf_counter() - started
    return durations, errors, elapsed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _serve(
    database_url: str, folder: Path, port: int, cache_seconds: float | None
) -> subprocess.Popen[bytes]:
    config = folder / "attrap.toml"
    cache = "" if cache_seconds is None else f"cache_seconds = {cache_seconds}\n"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[storage]\ndata_dir = "{folder}"\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n{cache}',
        encoding="utf-8",
    )
    attrap = Path(sys.executable).with_name("attrap")
    log = (folder / "serve.log").open("wb")
    return subprocess.Popen(
        [str(attrap), "serve", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )


def _wait_ready(
    base_url: str, server: subprocess.Popen[bytes] | None, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"attrap serve exited with code {server.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("attrap serve did not answer /healthz in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ATTRAP_LOAD_DATABASE_URL"),
        help="a PostgreSQL database that may be emptied (default: $ATTRAP_LOAD_DATABASE_URL)",
    )
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a client waits between two requests, like a reader (0: none, each "
        "client sends its next request as soon as it has the answer)",
    )
    parser.add_argument(
        "--cache-seconds",
        type=float,
        help="the server's web.cache_seconds (default: attrap's default; 0: no answer cache)",
    )
    parser.add_argument(
        "--url", help="load this running server (on the same database) instead of starting one"
    )
    parser.add_argument("--refill", action="store_true", help="reload even if already filled")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("--database-url (or $ATTRAP_LOAD_DATABASE_URL): a PostgreSQL database")
    # A running server (--url) may run other code: its schema is left as it is.
    database = open_database(args.database_url, migrate=args.url is None)
    with database.session() as session:
        stored = session.scalar(select(func.count(Hit.id))) or 0
    if args.refill or stored != args.hits:
        print(f"filling {args.hits} hits (found {stored})…", flush=True)
        fill(database, args.hits)
    with database.engine.connect() as connection:
        size = connection.scalar(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        )
    database.engine.dispose()
    print(f"{args.hits} hits, database {size}")

    with tempfile.TemporaryDirectory() as folder:
        server = None
        base_url = args.url
        if base_url is None:
            port = _free_port()
            base_url = f"http://127.0.0.1:{port}"
            server = _serve(args.database_url, Path(folder), port, args.cache_seconds)
        try:
            _wait_ready(base_url, server)
            load_before = os.getloadavg()
            durations, errors, elapsed = asyncio.run(
                _load(base_url, args.clients, args.duration, args.think)
            )
            load_after = os.getloadavg()
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # Still serving requests the clients gave up on.
                    server.kill()
                    server.wait()
        log = Path(folder) / "serve.log"
        server_log = log.read_text(errors="replace").splitlines() if log.exists() else []
    total = sum(len(values) for values in durations.values())
    cache = "default" if args.cache_seconds is None else args.cache_seconds
    print(
        f"{args.clients} clients (think time {args.think} s), {elapsed:.0f} s, {total} requests "
        f"({total / elapsed:.0f}/s); "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        f"({os.cpu_count()} cores, client and server on the same machine)"
        + (f"; server at {args.url}" if args.url else f"; server web.cache_seconds: {cache}")
    )
    header = ["requests", "p50 ms", "p95 ms", "max ms", "errors"]
    print(f"{'endpoint':<20} " + " ".join(f"{name:>8}" for name in header))
    for endpoint, values in durations.items():
        print(
            f"{endpoint:<20} {len(values):>8} {statistics.median(values):>8.0f} "
            f"{_percentile(values, 0.95):>8.0f} {max(values):>8.0f} {len(errors[endpoint]):>7}"
        )
    for endpoint, messages in errors.items():
        for message in messages[:SLOWEST]:
            print(f"  error on {endpoint}: {message}")
    if any(errors.values()):
        print("end of the server's log:", *server_log[-20:], sep="\n  ")


if __name__ == "__main__":
    main()
