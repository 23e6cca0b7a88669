"""What a daemon check costs on each saved site family: the pages an incremental crawl asks for
when nothing was published since the previous one (every page is revalidated and answers with
its unchanged body; PDFs already fetched are not asked for), as a deep crawl and as the quick
check the daemon makes between deep crawls (list pages of periods that ended more than
``schedule.quick_check_days`` before the newest bulletin left out).

Each family of ``fixtures/sites`` is served on 127.0.0.1 and crawled twice, with
``not_before = 2024-01-01``, by the real engine of the prefecture whose adapter it was saved from.
The saved sites hold a few months each: on a live year → month site every month page since
``not_before`` is one more request per check.

    .venv/bin/python bench/check_cost.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parents[1]
# The local server is the test suite's own support code.
sys.path.insert(0, str(REPOSITORY / "tests"))

from sqlalchemy import func, select  # noqa: E402

from attrap.adapters.engines import get_engine  # noqa: E402
from attrap.adapters.fixtures import load_manifest  # noqa: E402
from attrap.adapters.registry import load_file  # noqa: E402
from attrap.config import ScheduleSettings  # noqa: E402
from attrap.pipeline import run_crawl  # noqa: E402
from attrap.store.db import open_database  # noqa: E402
from attrap.store.models import Document  # noqa: E402
from local_server import LocalServer, VirtualClock, crawl_settings, serve_site  # noqa: E402

NOT_BEFORE = dt.date(2024, 1, 1)


def adapter_files() -> dict[str, Path]:
    """The adapter file of each start page's host."""
    by_host: dict[str, Path] = {}
    for path in sorted((REPOSITORY / "prefectures").glob("*.toml")):
        adapter = tomllib.loads(path.read_text(encoding="utf-8"))
        host = urlsplit(adapter["start_urls"][0]).hostname or ""
        by_host.setdefault(host, path)
    return by_host


def is_page(path: str) -> bool:
    return not path.endswith(".pdf") and "/telechargement/" not in path


def main() -> None:
    adapters = adapter_files()
    quick_days = ScheduleSettings().quick_check_days
    print("family  adapter  pages: first crawl  deep check  quick check  (nothing new)")
    for site in sorted(p for p in (REPOSITORY / "fixtures" / "sites").iterdir() if p.is_dir()):
        host = urlsplit(load_manifest(site)[0].url).hostname or ""
        if host not in adapters:
            continue
        adapter = load_file(adapters[host])
        with tempfile.TemporaryDirectory() as scratch, LocalServer().running() as server:
            serve_site(server, site)
            local = adapter.model_copy(
                update={"start_urls": [server.url(urlsplit(u).path) for u in adapter.start_urls]}
            )
            settings = crawl_settings(Path(scratch))
            database = open_database(f"sqlite:///{scratch}/attrap.db")
            pages = []
            settled_before: dt.date | None = None
            for quick in (False, False, True):
                if quick:  # checked as the day after the newest bulletin
                    with database.session() as session:
                        newest = session.scalar(select(func.max(Document.published_on)))
                    today = (newest or NOT_BEFORE) + dt.timedelta(days=1)
                    settled_before = today - dt.timedelta(days=quick_days)
                before = len(server.log)
                asyncio.run(
                    run_crawl(
                        settings,
                        database,
                        [local],
                        get_engine=get_engine,
                        not_before=NOT_BEFORE,
                        settled_before=settled_before,
                        clock=VirtualClock(),
                    )
                )
                pages.append(sum(1 for r in server.log[before:] if is_page(r.path)))
            database.engine.dispose()
        print(f"{site.name:<7} {adapter.code:<8} {pages[0]:>18}  {pages[1]:>10}  {pages[2]:>11}")


if __name__ == "__main__":
    main()
