"""Quick checks: between two deep crawls the daemon leaves out the list pages of past years and
months, which on a live year → month site are most of a check's requests."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import select

from attrap.adapters.engines import get_engine
from attrap.adapters.registry import AdapterSpec
from attrap.config import ScheduleSettings
from attrap.french import MONTH_NAMES
from attrap.pipeline import run_crawl
from attrap.scheduling.daemon import CrawlDepth
from attrap.store.db import Database
from attrap.store.models import CrawlRun, Document
from local_server import LocalServer, VirtualClock, crawl_settings, html, make_pdf, pdf

ROOT = "/raa"
NOT_BEFORE = dt.date(2024, 1, 1)
TODAY = dt.date(2026, 3, 20)
SETTLED_BEFORE = TODAY - dt.timedelta(days=ScheduleSettings().quick_check_days)
MONTHS = [(year, month) for year in (2024, 2025, 2026) for month in range(1, 13)][:27]


def page(title: str, body: str) -> str:
    return f'<html><body><main id="contenu"><h1>{title}</h1>{body}</main></body></html>'


def cards(links: list[tuple[str, str]]) -> str:
    return "".join(
        f'<div class="fr-card"><h2 class="fr-card__title"><a href="{href}">{text}</a></h2></div>'
        for href, text in links
    )


def downloads(bulletins: list[tuple[str, dt.date]]) -> str:
    items = "".join(
        f'<li><a class="fr-link fr-link--download" href="{href}">Télécharger RAA {href[-9:-4]} '
        f'<span class="fr-link__detail">PDF - 1 Mb - {day:%d/%m/%Y}</span></a></li>'
        for href, day in bulletins
    )
    return f'<div class="fr-downloads-group"><ul>{items}</ul></div>'


class YearMonthSite:
    """A DSFR prefecture site as most are: years → months → bulletins, two per month."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.bulletins: dict[tuple[int, int], list[tuple[str, dt.date]]] = {}
        for year, month in MONTHS:
            for day in (3, 17):
                self.add(year, month, dt.date(year, month, day))
        self.publish()

    def month_path(self, year: int, month: int) -> str:
        return f"{ROOT}/{year}/mois-{month:02d}"

    def add(self, year: int, month: int, day: dt.date) -> str:
        href = f"/contenu/telechargement/{year}{month:02d}/file/raa-{day:%Y%m%d}.pdf"
        self.bulletins.setdefault((year, month), []).append((href, day))
        self.server.route(href, pdf(make_pdf(href)))
        return href

    def publish(self) -> None:
        years = sorted({year for year, _ in MONTHS}, reverse=True)
        self.server.route(
            ROOT,
            html(
                page(
                    "Recueils des actes administratifs",
                    cards([(f"{ROOT}/{y}", str(y)) for y in years]),
                )
            ),
        )
        for year in years:
            months = [
                (self.month_path(y, m), f"{MONTH_NAMES[m - 1]} {y}") for y, m in MONTHS if y == year
            ]
            self.server.route(f"{ROOT}/{year}", html(page(str(year), cards(months[::-1]))))
        for (year, month), bulletins in self.bulletins.items():
            self.server.route(
                self.month_path(year, month), html(page(f"{year}-{month}", downloads(bulletins)))
            )

    def pages_asked(self, since: int) -> int:
        return sum(1 for r in self.server.log[since:] if not r.path.endswith(".pdf"))


def crawl(
    database: Database, tmp_path: Path, spec: AdapterSpec, settled_before: dt.date | None
) -> None:
    asyncio.run(
        run_crawl(
            crawl_settings(tmp_path),
            database,
            [spec],
            get_engine=get_engine,
            not_before=NOT_BEFORE,
            settled_before=settled_before,
            clock=VirtualClock(),
        )
    )


def test_a_quick_check_asks_for_the_current_periods_only(database: Database, tmp_path: Path):
    with LocalServer().running() as server:
        site = YearMonthSite(server)
        spec = AdapterSpec(
            code="01",
            name="Préfecture de test",
            kind="departement",
            engine="dsfr",
            start_urls=[server.url(ROOT)],
        )
        crawl(database, tmp_path, spec, None)
        assert site.pages_asked(0) == 1 + 3 + 27  # start page, years, months

        before = len(server.log)
        crawl(database, tmp_path, spec, None)
        assert site.pages_asked(before) == 1 + 3 + 27  # a deep check revalidates every page

        fresh = site.add(2026, 3, dt.date(2026, 3, 19))
        late = site.add(2025, 6, dt.date(2025, 6, 30))  # filed under a past month, today
        site.publish()
        before = len(server.log)
        crawl(database, tmp_path, spec, SETTLED_BEFORE)
        assert site.pages_asked(before) == 3  # start page, 2026, March 2026
        with database.session() as session:
            urls = set(session.scalars(select(Document.url)))
            quick = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert server.url(fresh) in urls
        assert server.url(late) not in urls
        # The quick check cannot tell how many bulletins the listing shows: no "silent" alarm.
        assert quick is not None and quick.error is None and quick.listed is None

        crawl(database, tmp_path, spec, None)
        with database.session() as session:
            assert server.url(late) in set(session.scalars(select(Document.url)))


def test_the_daemon_walks_each_site_whole_once_a_day():
    depth = CrawlDepth(ScheduleSettings(deep_every_hours=24, quick_check_days=10))
    assert depth.settled_before("01", 0.0, TODAY) is None  # its first check is deep
    # Until that deep crawl succeeds, every check is deep.
    assert depth.settled_before("01", 600.0, TODAY) is None
    depth.walked("01", 600.0)
    assert depth.settled_before("01", 1200.0, TODAY) == dt.date(2026, 3, 10)
    assert depth.settled_before("02", 1200.0, TODAY) is None
    assert depth.settled_before("01", 600.0 + 24 * 3600 - 1, TODAY) == dt.date(2026, 3, 10)
    assert depth.settled_before("01", 600.0 + 24 * 3600, TODAY) is None
    always = CrawlDepth(ScheduleSettings(deep_every_hours=0))
    always.walked("01", 0.0)
    assert always.settled_before("01", 1.0, TODAY) is None
