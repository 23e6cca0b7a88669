"""``attrap worker`` on real PostgreSQL: procrastinate jobs crawl a prefecture site served on
127.0.0.1 (a real bulletin built from the labelled corpus, plus small PDFs), process each new
document once — also with two workers on the same queues — and fill the notification outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import croniter
import psycopg
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrap.adapters.engines import get_engine
from attrap.cli import app
from attrap.config import Settings, load_settings
from attrap.scheduling.worker import (
    EVEN_INTERVALS_MIN,
    TaskQueue,
    WorkerConfigError,
    cron_every,
    ensure_schema,
    even_interval,
    parse_queues,
    postgres_conninfo,
)
from attrap.store.db import Database, open_database
from attrap.store.models import Act, Document, Hit, Notification
from conftest import POSTGRES_URL, reset_postgres
from local_server import LocalServer, html, make_pdf, pdf
from notify_peers import WebhookReceiver

BULLETIN = "/contenu/telechargement/9001/9002/file/RAA%20n%C2%B013-2024-178.pdf"
SMALL = [f"/contenu/telechargement/9001/900{n}/file/RAA-{n}.pdf" for n in range(3, 8)]
LISTING_PATH = "/Publications/RAA-et-Archives"


def listing() -> str:
    links = [(BULLETIN, "RAA spécial n°13-2024-178", "11/07/2024")] + [
        (path, f"RAA n°13-2024-{n}", f"0{n}/07/2024") for n, path in enumerate(SMALL, start=1)
    ]
    items = "".join(
        f'<li><a class="fr-link fr-link--download" href="{href}">{title}'
        f'<span class="fr-link__detail">PDF - 1,2 Mb - {date}</span></a></li>'
        for href, title, date in links
    )
    return (
        "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
        f'<div class="fr-downloads-group"><ul>{items}</ul></div></main></body></html>'
    )


@pytest.fixture
def site(bulletin: bytes) -> Iterator[LocalServer]:
    with LocalServer().running() as server:
        server.route(LISTING_PATH, html(listing()))
        server.route(BULLETIN, pdf(bulletin))
        for n, path in enumerate(SMALL):
            server.route(path, pdf(make_pdf(f"Recueil {n}")))
        yield server


@pytest.fixture
def postgres() -> str:
    """An empty PostgreSQL database: attrap's tables and procrastinate's both go."""
    if not POSTGRES_URL:
        pytest.skip("ATTRAP_TEST_DATABASE_URL not set")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


def worker_settings(
    tmp_path: Path,
    url: str,
    site: LocalServer,
    hook: str | None = None,
    *,
    enabled: tuple[str, ...] = ("13", "83"),
) -> Settings:
    """Administrations 13 (its site on 127.0.0.1) and 83 (unused) enabled; notifications to
    ``hook`` when given."""
    notify = f'[notify.webhook]\nurl = "{hook}"\ncategories = ["drone", "vsa"]\n' if hook else ""
    config = tmp_path / "attrap.toml"
    config.write_text(
        f"""
[storage]
data_dir = "{tmp_path / "data"}"
[database]
url = "{url}"
[crawl]
min_delay_s = 0
max_attempts = 1
[ocr]
enabled = false
[adapters]
enabled = {json.dumps(list(enabled))}
[adapters.overrides."13"]
start_urls = ["{site.url(LISTING_PATH)}"]
{notify}""",
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
def database(postgres: str) -> Iterator[Database]:
    db = open_database(postgres)
    yield db
    db.engine.dispose()


def task_queue(settings: Settings, database: Database) -> TaskQueue:
    # No periodic jobs: the tests defer exactly what they run.
    return TaskQueue(settings, database, get_engine=get_engine, periodic=False)


def jobs(conninfo: str, task: str) -> list[tuple[str, str | None, str | None, dict]]:
    """(status, lock, queueing_lock, args) of the task's jobs, in the order they were deferred."""
    with psycopg.connect(conninfo) as connection:
        return connection.execute(
            "SELECT status::text, lock, queueing_lock, args FROM procrastinate_jobs "
            "WHERE task_name = %s ORDER BY id",
            [task],
        ).fetchall()


def processed(caplog: pytest.LogCaptureFixture) -> Counter[int]:
    """How many times each document was actually processed, from the workers' logs."""
    return Counter(
        int(r.args[0])  # type: ignore[index]
        for r in caplog.records
        if r.name == "attrap.scheduling.worker" and r.msg == "document %s processed"
    )


def count(database: Database, column: object) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(column))) or 0


def test_a_worker_crawls_processes_and_notifies(
    site: LocalServer,
    webhook: WebhookReceiver,
    tmp_path: Path,
    database: Database,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO)
    settings = worker_settings(tmp_path, POSTGRES_URL, site, webhook.url)
    tasks = task_queue(settings, database)

    async def scenario() -> None:
        await ensure_schema(tasks.conninfo)
        async with tasks.app.open_async():
            assert await tasks.defer_crawl("13") is not None
        await tasks.run(wait=False, install_signal_handlers=False, delete_jobs="never")

    asyncio.run(scenario())

    assert [j[:3] for j in jobs(tasks.conninfo, "attrap.crawl")] == [
        ("succeeded", "crawl-13", "crawl-13")
    ]
    process_jobs = jobs(tasks.conninfo, "attrap.process")
    with database.session() as session:
        documents = {d.id: d for d in session.scalars(select(Document))}
        assert sorted(d.status for d in documents.values()) == ["matched"] * 6
        # One job per new document, locked by document; each ran once.
        assert sorted((j[3]["document_id"], j[0], j[1], j[2]) for j in process_jobs) == [
            (i, "succeeded", f"document-{i}", f"document-{i}") for i in sorted(documents)
        ]
        assert processed(caplog) == Counter(dict.fromkeys(documents, 1))
        hits = list(session.scalars(select(Hit)))
        acts_with = {c: {h.act.number for h in hits if h.category == c} for c in ("drone", "vsa")}
        notified = list(session.scalars(select(Notification)))
    # The labelled corpus: three drone authorisations (one also VSA), two VSA ones.
    assert len(acts_with["drone"]) == 3
    assert len(acts_with["vsa"]) == 2
    expected = sorted(h.id for h in hits if h.category in ("drone", "vsa"))
    assert sorted(n.hit_id for n in notified) == expected
    assert {n.status for n in notified} == {"pending"}

    async def deliver() -> None:
        async with tasks.app.open_async():
            await tasks.dispatch.defer_async()
        await tasks.run(wait=False, install_signal_handlers=False)

    asyncio.run(deliver())
    assert len(webhook.posts()) == len(expected)


def test_two_workers_never_process_a_document_twice(
    site: LocalServer, tmp_path: Path, database: Database, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    settings = worker_settings(tmp_path, POSTGRES_URL, site)
    first, second = task_queue(settings, database), task_queue(settings, database)

    async def until_idle(conninfo: str) -> None:
        connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        async with connection:
            for _ in range(600):
                await asyncio.sleep(0.1)
                cursor = await connection.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                )
                row = await cursor.fetchone()
                if row is not None and row[0] == 0:
                    return
        raise AssertionError("the queue did not empty in 60 s")

    async def scenario(defer: list[int] | None = None) -> None:
        await ensure_schema(first.conninfo)
        async with first.app.open_async():
            if defer is None:
                await first.defer_crawl("13")
            for document_id in defer or []:
                await first.defer_process(document_id)
        workers = [
            asyncio.create_task(
                tasks.run(concurrency=2, install_signal_handlers=False, delete_jobs="never")
            )
            for tasks in (first, second)
        ]
        await until_idle(first.conninfo)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    asyncio.run(scenario())

    with database.session() as session:
        document_ids = list(session.scalars(select(Document.id)))
        statuses = {d.status for d in session.scalars(select(Document))}
    assert statuses == {"matched"}
    assert processed(caplog) == Counter(dict.fromkeys(document_ids, 1))
    workers_used = {
        r.worker["worker_id"]  # type: ignore[attr-defined]
        for r in caplog.records
        if getattr(r, "action", None) == "job_success"
    }
    assert len(workers_used) == 2, "both workers ran jobs"
    acts, hits = count(database, Act.id), count(database, Hit.id)
    assert hits > 0

    # Every document queued again, on both workers: each job finds its document done.
    asyncio.run(scenario(defer=document_ids))
    assert processed(caplog) == Counter(dict.fromkeys(document_ids, 1))
    skipped = [r for r in caplog.records if r.msg == "document %s already processed, skipped"]
    assert len(skipped) >= len(document_ids)
    assert (count(database, Act.id), count(database, Hit.id)) == (acts, hits)


def test_a_waiting_crawl_is_not_queued_twice(site: LocalServer, tmp_path: Path, database: Database):
    settings = worker_settings(tmp_path, POSTGRES_URL, site)
    tasks = task_queue(settings, database)

    async def scenario() -> tuple[int | None, int | None]:
        await ensure_schema(tasks.conninfo)
        async with tasks.app.open_async():
            queued = await tasks.defer_crawl("13")
            again = await tasks.defer_crawl("13")
            # The schedule queues every enabled administration: 83 now, 13 is already waiting.
            await tasks.schedule_crawls(timestamp=0)
            return queued, again

    queued, again = asyncio.run(scenario())

    assert queued is not None and again is None
    crawls = jobs(tasks.conninfo, "attrap.crawl")
    assert sorted((j[3]["code"], j[0], j[2]) for j in crawls) == [
        ("13", "todo", "crawl-13"),
        ("83", "todo", "crawl-83"),
    ]


def test_attrap_worker_crawls_on_schedule_and_stops_on_sigterm(
    site: LocalServer, tmp_path: Path, database: Database
):
    settings = worker_settings(tmp_path, POSTGRES_URL, site, enabled=("13",))
    config = settings.source
    assert config is not None
    # Daily crawls without jitter: the worker defers today's, due since midnight, at start.
    config.write_text(
        config.read_text("utf-8") + "[schedule]\nevery_minutes = 1440\njitter_s = 0\n", "utf-8"
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "attrap.cli", "worker", "--queues", "crawl,documents", "-c", config],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        statuses: list[str] = []
        while time.monotonic() < deadline and worker.poll() is None:
            with database.session() as session:
                statuses = list(session.scalars(select(Document.status)))
            if statuses == ["matched"] * 6:
                break
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        _, log_text = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, log_text
    assert statuses == ["matched"] * 6, log_text
    assert "13: 6 found, 6 new, 6 downloaded, 0 failed" in log_text
    assert count(database, Hit.id) > 0


def test_worker_needs_postgresql(config_file: Path):
    result = CliRunner().invoke(app, ["worker", "-c", str(config_file)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "PostgreSQL" in lines[0] and "attrap daemon" in lines[0]
    assert not (config_file.parent / "attrap.db").exists()


def test_worker_rejects_an_unknown_queue(tmp_path: Path):
    config = tmp_path / "attrap.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://u@127.0.0.1:1/x"\n', "utf-8")
    result = CliRunner().invoke(app, ["worker", "--queues", "crawl,ocr", "-c", str(config)])
    assert result.exit_code == 2
    assert "ocr" in result.output
    assert parse_queues("crawl, documents") == ["crawl", "documents"]
    assert parse_queues(None) is None


def test_conninfo_keeps_credentials_and_options():
    url = "postgresql+psycopg://attrap:s3cret@db.example:5433/attrap?sslmode=require"
    assert postgres_conninfo(url) == (
        "postgresql://attrap:s3cret@db.example:5433/attrap?sslmode=require"
    )
    with pytest.raises(WorkerConfigError):
        postgres_conninfo("sqlite:///attrap.db")


@pytest.mark.parametrize(
    ("every_minutes", "interval", "cron"),
    [
        (1, 1, "*/1 * * * *"),
        (15, 15, "*/15 * * * *"),
        (45, 60, "0 */1 * * *"),
        (60, 60, "0 */1 * * *"),
        (100, 120, "0 */2 * * *"),
        (360, 360, "0 */6 * * *"),
        (5000, 1440, "0 0 * * *"),
    ],
)
def test_schedule_maps_to_an_evenly_repeating_cron(every_minutes: int, interval: int, cron: str):
    assert even_interval(every_minutes) == interval
    assert cron_every(interval) == cron


@pytest.mark.parametrize("interval", EVEN_INTERVALS_MIN)
def test_every_cron_line_fires_at_its_interval(interval: int):
    ticks = croniter.croniter(cron_every(interval), dt.datetime(2024, 7, 1, 0, 7))
    times = [ticks.get_next(dt.datetime) for _ in range(50)]
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {dt.timedelta(minutes=interval)}
