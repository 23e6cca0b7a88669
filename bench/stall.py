"""Does a long scan stall the other administrations? ``attrap run`` over local DSFR sites.

Twenty administrations publish two born-digital bulletins each (real PDFs built from the labelled
corpus, each with drone and VSA hits); the first one also publishes a scanned bulletin of
``--scan-pages`` pages. The scan's site answers at once, the others after ``--site-delay-s``
(slow servers), so the scan is downloaded, and its OCR started, before any born-digital bulletin
arrives: the situation where one scan used to hold every other document back.

The benchmark runs the real command (``attrap run``, default OCR settings, SQLite) in a child
process and reads the database while it runs: it prints the time until every born-digital
bulletin's hits are stored, and until the scan is done. Politeness delays are off
(``min_delay_s = 0``): this measures processing, not the crawl budget.

    .venv/bin/python bench/stall.py [--admins 20] [--bulletins 40] [--scan-pages 200]

Generated PDFs are cached under ``--cache`` (the 200-page scan takes a minute to build).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from sqlalchemy import create_engine, text

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))
sys.path.insert(0, str(REPOSITORY))

from bench.bulletins import build_bulletin, load_corpus  # noqa: E402
from local_server import LocalServer, Reply, html, pdf  # noqa: E402

LISTING_PATH = "/Publications/RAA"


def listing(links: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f'<li><a class="fr-link fr-link--download" href="{href}">{title}'
        f'<span class="fr-link__detail">PDF - 1,2 Mb - {date}</span></a></li>'
        for href, title, date in links
    )
    return (
        "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
        f'<div class="fr-downloads-group"><ul>{items}</ul></div></main></body></html>'
    )


def build_pdfs(cache: Path, bulletins: int, scan_pages: int) -> tuple[list[bytes], bytes]:
    """Born-digital bulletins (distinct bytes, a few acts with hits each) and one scan."""
    corpus = load_corpus()
    hits = [act for act in corpus if act.categories]
    cache.mkdir(parents=True, exist_ok=True)
    born = []
    for n in range(bulletins):
        path = cache / f"born-{n:03d}.pdf"
        if not path.exists():
            acts = [hits[n % len(hits)], hits[(n + 1) % len(hits)], corpus[n % len(corpus)]]
            build_bulletin(acts, path, number=f"13-2024-{n + 1:03d}", department="13")
        born.append(path.read_bytes())
    scan = cache / f"scan-{scan_pages}.pdf"
    if not scan.exists():
        # Repeat the corpus until the bulletin is long enough, then scan every page.
        once = build_bulletin(corpus, scan, number="13-2024-999", department="13").page_count
        acts = corpus * -(-scan_pages // once)
        build_bulletin(acts, scan, number="13-2024-999", department="13", scanned=True)
    return born, scan.read_bytes()


def dsfr_codes(count: int) -> list[str]:
    """Administrations of the DSFR family, whose engine reads the listing pages served here."""
    codes = []
    for path in sorted((REPOSITORY / "prefectures").glob("*.toml")):
        adapter = tomllib.loads(path.read_text(encoding="utf-8"))
        if adapter.get("engine") == "dsfr" and "dsfr" not in adapter:
            codes.append(adapter["code"])
    return codes[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admins", type=int, default=20)
    parser.add_argument("--bulletins", type=int, default=40)
    parser.add_argument("--scan-pages", type=int, default=200)
    parser.add_argument("--site-delay-s", type=float, default=3.0)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "attrap-bench-stall"
    )
    args = parser.parse_args()

    born, scan = build_pdfs(args.cache, args.bulletins, args.scan_pages)
    codes = dsfr_codes(args.admins)
    with LocalServer().running() as server, tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        overrides = []
        born_urls = []
        for index, code in enumerate(codes):
            links = []
            if index == 0:
                links.append((f"/{code}/scan.pdf", "RAA spécial n°999", "12/07/2024"))
                server.route(f"/{code}/scan.pdf", pdf(scan))
            for n in range(index, len(born), len(codes)):
                path = f"/{code}/raa-{n}.pdf"
                server.route(path, pdf(born[n]))
                links.append((path, f"RAA n°{n}", "11/07/2024"))
                born_urls.append(server.url(path))
            page = html(listing(links))
            delay = 0.0 if index == 0 else args.site_delay_s
            server.route(
                f"/{code}{LISTING_PATH}", Reply(body=page.body, headers=page.headers, delay_s=delay)
            )
            overrides.append(
                f'[adapters.overrides."{code}"]\n'
                f'start_urls = ["{server.url(f"/{code}{LISTING_PATH}")}"]\n'
            )
        database = work / "attrap.db"
        config = work / "attrap.toml"
        config.write_text(
            f'[storage]\ndata_dir = "{work / "data"}"\n'
            f'[database]\nurl = "sqlite:///{database}"\n'
            "[crawl]\nmin_delay_s = 0\nnot_before = 2024-07-01\n"
            f"[adapters]\nenabled = {json.dumps(codes)}\n" + "".join(overrides),
            encoding="utf-8",
        )
        command = [sys.executable, "-c", "from attrap.cli import app; app()", "run", "-c"]
        started = time.monotonic()
        log = (work / "run.log").open("wb")
        child = subprocess.Popen(
            [*command, str(config), "--no-notify"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "COLUMNS": "200"},
        )
        born_done = scan_done = None
        engine = create_engine(f"sqlite:///{database}")
        scan_url = server.url(f"/{codes[0]}/scan.pdf")
        try:
            while time.monotonic() - started < args.timeout_s:
                time.sleep(0.5)
                if child.poll() is not None and child.returncode != 0:
                    sys.exit(f"attrap run failed: {(work / 'run.log').read_text()[-2000:]}")
                if not database.exists():
                    continue
                try:
                    with engine.connect() as connection:
                        rows = connection.execute(text("SELECT url, status FROM documents")).all()
                except Exception:
                    continue  # the schema is being created
                status = dict(rows)
                elapsed = time.monotonic() - started
                if born_done is None and all(status.get(u) == "matched" for u in born_urls):
                    born_done = elapsed
                if scan_done is None and status.get(scan_url) in ("matched", "failed"):
                    scan_done = elapsed
                if born_done is not None and scan_done is not None:
                    break
            with engine.connect() as connection:
                hits = connection.execute(text("SELECT count(*) FROM hits")).scalar()
        finally:
            child.terminate()
            child.wait(60)
        print(f"administrations: {len(codes)}, born-digital bulletins: {len(born)}")
        print(f"scanned bulletin: {args.scan_pages} pages")
        print(f"every born-digital hit stored after: {born_done:.1f} s" if born_done else "never")
        print(f"scan processed after: {scan_done:.1f} s" if scan_done else "scan not processed")
        print(f"hits stored: {hits}")


if __name__ == "__main__":
    main()
