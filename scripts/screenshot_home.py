"""Screenshots of the web page on a generated, realistic database (for the README).

    .venv/bin/python scripts/screenshot_home.py [--out docs] [--hits 900]

Builds a SQLite database in a temporary folder (every adapter, generated hits and crawl runs),
serves it with uvicorn on a free 127.0.0.1 port and photographs the home page with Debian's
chromium through Playwright, at desktop and phone sizes.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.config import Settings
from attrap.store.db import open_database
from attrap.store.samples import add_sample_crawl_runs, add_sample_hits
from attrap.web.app import create_app

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"screenshot-home.png": (1360, 1060), "screenshot-home-phone.png": (390, 844)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--hits", type=int, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{folder}/attrap.db")
        with database.session() as session:
            sync_administrations(session, load_adapters(Settings()))
            add_sample_hits(session, args.hits, seed=7)
            add_sample_crawl_runs(session, seed=7)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(database), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=CHROMIUM_ARGS,
                )
                for name, (width, height) in VIEWPORTS.items():
                    page = browser.new_page(
                        viewport={"width": width, "height": height}, locale="fr-FR"
                    )
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.screenshot(path=args.out / name)
                    print(args.out / name)
                browser.close()
        finally:
            server.should_exit = True
            thread.join()
            database.engine.dispose()


if __name__ == "__main__":
    main()
