"""Latency of the read side's queries on a large SQLite history.

    .venv/bin/python bench/query_latency.py [--acts 1000000] [--repeat 50] [--db FILE]

Fills a SQLite database (migrated, so with the FTS5 index and its triggers) with ``--acts`` acts,
each with one hit, 20 acts per bulletin, through bulk inserts; then times the queries the web
page and the API run (each query ``--repeat`` times, rotating over départements and words) and
prints median and 95th percentile in milliseconds. ``--db`` reuses a database filled earlier.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.config import Settings
from attrap.store.db import Database, open_database
from attrap.store.models import Administration, Hit
from attrap.store.queries import (
    HitFilter,
    count_by_department,
    count_hits,
    search_hits,
)
from attrap.store.samples import SampleHit, sample_hits

ACTS_PER_DOCUMENT = 20
BATCH = 20_000
DEPARTMENTS = ["13", "75", "2A", "48", "974", "59"]
WORDS = ["marché Noël", "aéronefs Marseille", "caméras individuelles", "Tour de France"]
TODAY = dt.date(2025, 6, 30)


def _sqlite_datetime(value: dt.datetime) -> str:
    # What UTCDateTime stores on SQLite: naive UTC, ISO with a space.
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def bulk_fill(connection: Connection, samples: Iterator[SampleHit]) -> None:
    """Documents, acts and hits straight through the driver: the ORM would take an hour."""
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA synchronous=OFF")
    act_id = 0
    while chunk := list(islice(samples, BATCH)):
        documents, acts, hits = [], [], []
        for sample in chunk:
            act_id += 1
            document_id = (act_id - 1) // ACTS_PER_DOCUMENT + 1
            if (act_id - 1) % ACTS_PER_DOCUMENT == 0:
                documents.append(
                    (
                        document_id,
                        sample.administration_code,
                        f"https://raa.example.gouv.fr/{sample.administration_code}/{document_id}.pdf",
                        f"RAA du {sample.published_on:%d/%m/%Y}",
                        sample.published_on.isoformat(),
                        _sqlite_datetime(sample.first_seen_at),
                    )
                )
            acts.append(
                (
                    act_id,
                    document_id,
                    sample.act_number,
                    sample.title,
                    sample.signed_on.isoformat(),
                    sample.page,
                    sample.page + 1,
                )
            )
            hits.append(
                (
                    act_id,
                    act_id,
                    document_id,
                    sample.category,
                    0.9,
                    json.dumps(sample.terms, ensure_ascii=False),
                    sample.snippet,
                    sample.page,
                    _sqlite_datetime(sample.first_seen_at),
                    sample.department,
                )
            )
        raw.executemany(
            "INSERT INTO documents (id, administration_code, url, title, published_on, "
            "first_seen_at, status) VALUES (?, ?, ?, ?, ?, ?, 'matched')",
            documents,
        )
        raw.executemany(
            "INSERT INTO acts (id, document_id, number, title, signed_on, page_start, page_end) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            acts,
        )
        raw.executemany(
            "INSERT INTO hits (id, act_id, document_id, category, score, terms, snippet, page, "
            "first_seen_at, department, rules_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench')",
            hits,
        )
        raw.commit()
    raw.execute("ANALYZE")
    raw.commit()


def fill(database: Database, acts: int) -> float:
    started = time.perf_counter()
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        departments = dict(
            session.execute(
                select(Administration.code, Administration.department).where(
                    Administration.department.is_not(None)
                )
            ).all()
        )
    with database.engine.connect() as connection:
        bulk_fill(connection, sample_hits(departments, acts, seed=1, today=TODAY, days=3650))
    return time.perf_counter() - started


def timed(session: Session, query: Callable[[Session, int], object], repeat: int) -> list[float]:
    query(session, 0)  # warm the page cache once
    durations = []
    for index in range(repeat):
        started = time.perf_counter()
        query(session, index)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


QUERIES: dict[str, Callable[[Session, int], object]] = {
    "département, 20 plus récentes": lambda s, i: search_hits(
        s, HitFilter(department=DEPARTMENTS[i % len(DEPARTMENTS)], limit=20)
    ),
    "département, page complète (20 + total)": lambda s, i: (
        search_hits(s, HitFilter(department=DEPARTMENTS[i % len(DEPARTMENTS)], limit=20)),
        count_hits(s, HitFilter(department=DEPARTMENTS[i % len(DEPARTMENTS)])),
    ),
    "département + catégorie + depuis, 20": lambda s, i: search_hits(
        s,
        HitFilter(
            department=DEPARTMENTS[i % len(DEPARTMENTS)],
            category="drone",
            since=TODAY - dt.timedelta(days=365),
            limit=20,
        ),
    ),
    "texte intégral, 20 plus récentes": lambda s, i: search_hits(
        s, HitFilter(query=WORDS[i % len(WORDS)], limit=20)
    ),
    "texte intégral, total": lambda s, i: count_hits(s, HitFilter(query=WORDS[i % len(WORDS)])),
    "carte : total par département sur un an": lambda s, i: count_by_department(
        s, HitFilter(since=TODAY - dt.timedelta(days=365))
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--db", type=Path, help="reuse (or create) this SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.db"
        database = open_database(f"sqlite:///{path}")
        with database.session() as session:
            stored = session.scalar(select(func.count(Hit.id))) or 0
        if stored == 0:
            print(f"filling {args.acts} acts with one hit each…", flush=True)
            print(f"fill: {fill(database, args.acts):.0f} s", flush=True)
            stored = args.acts
        print(f"{stored} hits, {path.stat().st_size / 2**20:.0f} MiB; {args.repeat} runs each")
        print(f"{'query':<45} {'median ms':>10} {'p95 ms':>10}")
        with database.session() as session:
            for name, query in QUERIES.items():
                durations = sorted(timed(session, query, args.repeat))
                p95 = durations[min(len(durations) - 1, round(0.95 * len(durations)) - 1)]
                print(f"{name:<45} {statistics.median(durations):>10.1f} {p95:>10.1f}")
            print(f"\n{'département':<12} {'hits':>8} {'20 plus récentes, median ms':>28}")
            for code in DEPARTMENTS:
                newest = HitFilter(department=code, limit=20)
                durations = timed(session, lambda s, _, f=newest: search_hits(s, f), 10)
                total = count_hits(session, HitFilter(department=code))
                print(f"{code:<12} {total:>8} {statistics.median(durations):>28.1f}")
        database.engine.dispose()


if __name__ == "__main__":
    main()
