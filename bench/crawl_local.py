"""Crawl-stage throughput against a local HTTP server (no politeness delay), on SQLite.

Measures (1) PDF download speed: streaming + sha256 + fsync + atomic rename, and (2) the crawl
stage's bookkeeping: documents per second for discovery + download + database writes, first run
and an incremental second run (conditional listing request, nothing downloaded).

    .venv/bin/python bench/crawl_local.py [--documents 200] [--pdf-mb 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

# The local server, PDFs and listing engine are the test suite's own support code.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from attrap.http import HttpClient
from attrap.pipeline import run_crawl
from attrap.store.db import open_database
from local_server import (
    ListingEngine,
    LocalServer,
    crawl_settings,
    listing,
    lookup,
    make_pdf,
    pdf,
    revalidated_page,
    spec,
)


def big_pdf(megabytes: float) -> bytes:
    # A valid header followed by filler is enough for the client, which checks magic bytes only.
    head = make_pdf("bench")
    return head + b"%" + b"0" * int(megabytes * 1024 * 1024)


async def download_speed(server: LocalServer, data_dir: Path, megabytes: float) -> float:
    settings = crawl_settings(data_dir, max_pdf_mb=megabytes * 2)
    async with HttpClient(settings) as client:
        started = time.perf_counter()
        stored = await client.download_pdf(server.url("/big.pdf"))
        elapsed = time.perf_counter() - started
    return stored.size / 1024 / 1024 / elapsed


def crawl_speed(server: LocalServer, data_dir: Path, documents: int) -> tuple[float, float]:
    links = []
    for number in range(documents):
        path = f"/f/raa-{number}.pdf"
        server.route(path, pdf(make_pdf(f"RAA {number}")))
        links.append((path, f"RAA {number}", "2024-07-01"))
    server.route("/raa", revalidated_page(listing(*links), '"v1"', "Mon, 01 Jul 2024 08:00:00 GMT"))
    settings = crawl_settings(data_dir)
    database = open_database(f"sqlite:///{data_dir / 'bench.db'}")
    specs = [spec("B1", server.url("/raa"))]
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        asyncio.run(run_crawl(settings, database, specs, get_engine=lookup(ListingEngine())))
        timings.append(time.perf_counter() - started)
    database.engine.dispose()
    return documents / timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--pdf-mb", type=float, default=20.0)
    args = parser.parse_args()
    with LocalServer().running() as server, tempfile.TemporaryDirectory() as scratch:
        server.route("/big.pdf", pdf(big_pdf(args.pdf_mb)))
        speed = asyncio.run(download_speed(server, Path(scratch) / "dl", args.pdf_mb))
        print(f"download of a {args.pdf_mb:g} MB PDF: {speed:.0f} MB/s")
        first, second = crawl_speed(server, Path(scratch) / "crawl", args.documents)
        print(f"first crawl of {args.documents} documents: {first:.0f} documents/s")
        print(f"incremental crawl (304, nothing to download): {second * 1000:.0f} ms")


if __name__ == "__main__":
    main()
