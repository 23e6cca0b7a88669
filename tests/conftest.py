"""Shared fixtures. Storage tests run on SQLite always and on PostgreSQL when
``ATTRAP_TEST_DATABASE_URL`` is set (``.ci/run`` sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from attrap.store.db import Database, open_database
from bench.bulletins import build_bulletin, load_corpus
from local_server import LocalServer
from notify_peers import WebhookReceiver

POSTGRES_URL = os.environ.get("ATTRAP_TEST_DATABASE_URL", "")

# Property-based tests (test_fuzz.py): the same few examples on every CI run, and no example
# database, so that a run never depends on an earlier one; ``long`` searches much further.
settings.register_profile("ci", max_examples=60, derandomize=True, database=None, deadline=None)
settings.register_profile(
    "long", max_examples=int(os.environ.get("ATTRAP_HYPOTHESIS_EXAMPLES", 5000)), deadline=None
)
settings.load_profile(os.environ.get("ATTRAP_HYPOTHESIS_PROFILE", "ci"))


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'attrap.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("ATTRAP_TEST_DATABASE_URL not set")
    reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated database on each backend."""
    db = open_database(database_url)
    yield db
    db.engine.dispose()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config file pointing the database and data directory into the test's folder."""
    path = tmp_path / "attrap.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "attrap.db"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """An HTTP server on 127.0.0.1 answering the routes a test gives it."""
    with LocalServer().running() as running:
        yield running


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1 recording what it is sent."""
    peer = WebhookReceiver()
    yield peer
    peer.close()


@pytest.fixture(scope="session")
def bulletin(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A born-digital bulletin of every labelled act of the corpus (built once per run)."""
    out = tmp_path_factory.mktemp("bulletin") / "raa.pdf"
    return build_bulletin(load_corpus(), out).path.read_bytes()
