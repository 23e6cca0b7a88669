"""The web application under many readers: whole answers kept a few seconds, computed once for
concurrent readers, counts kept, and no request holding two database connections at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.config import Settings
from attrap.store.db import Database, open_database
from attrap.store.samples import add_sample_hits
from attrap.web.app import create_app


def add_hits(database: Database, count: int, seed: int) -> None:
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        add_sample_hits(session, count, seed=seed)


@pytest.fixture
def filled(database: Database) -> Database:
    add_hits(database, 60, seed=1)
    return database


def statements(database: Database) -> list[str]:
    seen: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_answers_are_kept_for_cache_seconds(filled: Database):
    with TestClient(create_app(filled, cache_seconds=1.0)) as client:
        first = client.get("/api/hits", params={"limit": 100})
        add_hits(filled, 10, seed=2)
        again = client.get("/api/hits", params={"limit": 100})
        other = client.get("/api/hits", params={"limit": 99})
        assert again.content == first.content
        assert (len(first.json()), len(other.json())) == (60, 70)
        time.sleep(1.1)
        assert len(client.get("/api/hits", params={"limit": 100}).json()) == 70


def test_without_cache_every_answer_is_computed(filled: Database):
    with TestClient(create_app(filled)) as client:
        seen = statements(filled)
        client.get("/feeds/hits.atom")
        once = len(seen)
        client.get("/feeds/hits.atom")
        assert once > 0 and len(seen) == 2 * once


def test_health_and_errors_are_not_kept(filled: Database):
    with TestClient(create_app(filled, cache_seconds=60)) as client:
        seen = statements(filled)
        client.get("/healthz")
        once = len(seen)
        client.get("/healthz")
        assert once > 0 and len(seen) == 2 * once
        assert client.get("/departements/999").status_code == 404
        before = len(seen)
        assert client.get("/departements/13").status_code == 200
        assert len(seen) > before
        assert client.get("/departements/999").status_code == 404
        assert client.get("/departements/999").status_code == 404


def test_concurrent_readers_of_one_answer_compute_it_once(filled: Database):
    app = create_app(filled, cache_seconds=60)

    async def read(count: int) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get("/departements/13") for _ in range(count)))

    seen = statements(filled)
    alone = asyncio.run(read(1))[0]
    single = len(seen)
    app = create_app(filled, cache_seconds=60)
    seen.clear()
    answers = asyncio.run(read(12))
    assert {a.status_code for a in answers} == {200}
    assert {a.content for a in answers} == {alone.content}
    assert len(seen) == single


@pytest.fixture
def one_connection(filled: Database, database_url: str) -> Iterator[Database]:
    """The same database behind a pool of a single connection."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    yield Database(engine)
    engine.dispose()


def test_a_request_never_holds_two_connections(one_connection: Database):
    # With 50 readers the pool ran dry while each request held a connection and waited for a
    # second one (a count): every request then waited for the pool's 30 s timeout.
    for path in ["/", "/departements/13", "/categories/drone", "/api/hits?department=13",
                 "/feeds/hits.atom", "/en-ce-moment", "/delais"]:  # fmt: skip
        # A new application each time: no count kept from another page.
        with TestClient(create_app(one_connection)) as client:
            assert client.get(path).status_code == 200, path


def test_counts_are_exact_without_any_filter(database_url: str):
    database = open_database(database_url)
    add_hits(database, 25, seed=4)
    with TestClient(create_app(database)) as client:
        assert client.get("/api/hits").headers["x-total-count"] == "25"
    database.engine.dispose()
