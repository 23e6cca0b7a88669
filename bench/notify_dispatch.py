"""How fast the outbox queues and delivers: N hits enqueued, then dispatched one request per hit
to a webhook receiver on 127.0.0.1 (so the numbers are the outbox's overhead, not a network's).

    .venv/bin/python bench/notify_dispatch.py [--hits 500] [--database-url URL]

Without --database-url it uses a fresh SQLite file in a temporary folder. A PostgreSQL database
given here is emptied first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from attrap.config import Settings
from attrap.notify.outbox import dispatch, enqueue
from attrap.store.db import open_database
from attrap.store.models import Act, Administration, Document, Hit


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="attrap-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine.dispose()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings.model_validate(
        {
            "database": {"url": url},
            "storage": {"data_dir": str(folder)},
            "notify": {
                "webhook": {
                    "url": f"http://127.0.0.1:{server.server_address[1]}/",
                    "digest_threshold": args.hits + 1,
                }
            },
        }
    )
    database = open_database(url)
    with database.session() as session:
        session.add(
            Administration(
                code="13", name="Préfecture", kind="departement", department="13", engine="dsfr"
            )
        )
        document = Document(administration_code="13", url="https://x.gouv.fr/a.pdf")
        hits = [
            Hit(
                act=Act(document=document, title=f"Arrêté {n}", page_start=n, page_end=n),
                document=document,
                category="drone",
                score=1.0,
                page=n,
                rules_version="1",
            )
            for n in range(args.hits)
        ]
        session.add_all(hits)
        session.flush()
        ids = [hit.id for hit in hits]

    started = time.perf_counter()
    with database.session() as session:
        queued = enqueue(session, settings, ids)
    enqueued = time.perf_counter() - started
    started = time.perf_counter()
    report = dispatch(database, settings, now=dt.datetime.now(dt.UTC))
    dispatched = time.perf_counter() - started
    backend = url.split(":", 1)[0]
    print(f"{backend}: enqueue {queued} rows in {enqueued * 1000:.0f} ms")
    print(
        f"{backend}: dispatch {report.sent} webhook requests in {dispatched:.2f} s "
        f"= {report.sent / dispatched:.0f} notifications/s"
    )
    server.shutdown()
    database.engine.dispose()


if __name__ == "__main__":
    main()
