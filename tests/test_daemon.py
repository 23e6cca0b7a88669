"""The daemon, run for real in this process: each administration's loop crawls it, the
processing lanes read what it downloads, SIGTERM stops it gracefully. (Killed with SIGKILL and
restarted as a child process: ``test_crash.py``.)"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from sqlalchemy import select

from attrap.scheduling.daemon import run_daemon
from attrap.store.db import Database
from attrap.store.models import CrawlRun, Document
from local_server import (
    ListingEngine,
    LocalServer,
    Reply,
    crawl_settings,
    html,
    listing,
    lookup,
    make_pdf,
    pdf,
    spec,
)


def runs(database: Database) -> dict[str, CrawlRun]:
    with database.session() as session:
        return {r.administration_code: r for r in session.scalars(select(CrawlRun))}


def test_daemon_crawls_on_schedule_and_stops_on_sigterm(
    server: LocalServer, tmp_path: Path, database: Database
):
    server.route("/a", html(listing(("/f/a.pdf", "RAA 1", "2024-07-01"))))
    server.route("/f/a.pdf", pdf(make_pdf("a")))
    server.route("/b", html(listing(("/f/b.pdf", "RAA 2", None))))
    server.route("/f/b.pdf", pdf(make_pdf("b")))
    server.route("/slow", Reply(body=b"<html></html>", delay_s=60.0))
    settings = crawl_settings(tmp_path, timeout_s=30)
    settings.schedule.jitter_s = 0
    specs = [
        spec(code, server.url(path)) for code, path in [("T1", "/a"), ("T2", "/b"), ("T3", "/slow")]
    ]

    def statuses() -> list[str]:
        with database.session() as session:
            return sorted(d.status for d in session.scalars(select(Document)))

    async def scenario() -> float:
        daemon = asyncio.create_task(
            run_daemon(settings, database, specs, get_engine=lookup(ListingEngine()))
        )
        for _ in range(1200):  # 60 s at most
            await asyncio.sleep(0.05)
            finished = {c for c, r in runs(database).items() if r.finished_at is not None}
            done = finished == {"T1", "T2"} and statuses() == ["matched", "matched"]
            if done and server.requests_to("/slow"):
                break
        os.kill(os.getpid(), signal.SIGTERM)
        stopping = time.monotonic()
        await asyncio.wait_for(daemon, timeout=5)
        return time.monotonic() - stopping

    stopped_in = asyncio.run(scenario())

    assert stopped_in < 2  # did not wait for the 60 s listing page
    recorded = runs(database)
    assert (recorded["T1"].found, recorded["T1"].new, recorded["T1"].error) == (1, 1, None)
    assert (recorded["T2"].found, recorded["T2"].new, recorded["T2"].error) == (1, 1, None)
    assert recorded["T3"].error == "interrupted"
    assert recorded["T3"].finished_at is not None
    # Processed by the daemon itself, in its worker processes.
    assert statuses() == ["matched", "matched"]
    # The handlers are gone: a later SIGTERM would not be swallowed by a dead loop.
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
