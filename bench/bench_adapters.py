"""How fast the engines read pages (parsing and link analysis, no network).

    .venv/bin/python bench/bench_adapters.py

Prints: pages/s of the dsfr engine on a large year page (500 download links, 120 cards,
pagination), and crawls/s of every fixture family through FixtureFetcher."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from attrap.adapters.base import CrawlContext
from attrap.adapters.engines.common import Crawl, Request
from attrap.adapters.engines.dsfr import DsfrSettings, PageReader, Visit
from attrap.adapters.fixtures import FixtureFetcher
from attrap.adapters.maintain import crawl
from attrap.adapters.registry import AdapterSpec, load_file
from attrap.fetching import HtmlPage

REPO = Path(__file__).resolve().parents[1]
SECTION = "https://www.test.gouv.fr/Publications/RAA"
FAMILIES = {
    "a": "37", "b": "01", "c": "05", "d": "44", "e": "35", "f": "04", "g": "23", "h": "16",
    "i": "66", "regions": "75", "dims": "57", "police": "PP",
}  # fmt: skip


def large_page() -> str:
    links = "\n".join(
        f'<li><a class="fr-link fr-link--download" href="/contenu/telechargement/{n}/{n}/file/'
        f'RAA%20n%C2%B0{n}.pdf">Télécharger RAA n°{n} du {n % 28 + 1} juillet 2024 '
        f'<span class="fr-link__detail">PDF - 1,2 Mb - {n % 28 + 1:02d}/07/2024</span></a></li>'
        for n in range(500)
    )
    cards = "\n".join(
        '<div class="fr-card fr-card--horizontal"><div class="fr-card__body">'
        '<h2 class="fr-card__title">'
        f'<a class="fr-card__link" href="{SECTION}/RAA-{n}">Recueil n°{n}</a></h2>'
        f'<p class="fr-card__detail">Publié le {n % 28 + 1:02d}/06/2024</p></div></div>'
        for n in range(120)
    )
    pager = (
        '<nav class="fr-pagination"><ul><li>'
        f'<a class="fr-pagination__link fr-pagination__link--next" href="{SECTION}/(offset)/10">'
        "Suivante</a></li></ul></nav>"
    )
    group = f"<div class='fr-downloads-group'><ul>{links}</ul></div>"
    return f"<html><body><main>{group}{cards}{pager}</main></body></html>"


def bench_reader() -> None:
    spec = AdapterSpec(code="99", name="x", kind="departement", engine="dsfr", start_urls=[SECTION])
    context = CrawlContext(spec, FixtureFetcher.__new__(FixtureFetcher), dt.date(2024, 1, 1))
    reader = PageReader(Crawl(context, "dsfr", 10), DsfrSettings())
    reader.add_section(SECTION)
    page = HtmlPage(SECTION, large_page())
    visit = Visit(Request(SECTION), None, 0)
    reader.read(page, visit)  # warm up
    rounds = 50
    start = time.perf_counter()
    for _ in range(rounds):
        listing = reader.read(page, visit)
    elapsed = time.perf_counter() - start
    print(
        f"dsfr reader, large page ({len(page.text) // 1024} KiB, {len(listing.refs)} refs, "
        f"{len(listing.visits)} visits): {rounds / elapsed:.1f} pages/s"
    )


def bench_families() -> None:
    rounds = 20
    start = time.perf_counter()
    pages = 0
    for _ in range(rounds):
        for family, code in FAMILIES.items():
            fetcher = FixtureFetcher(REPO / "fixtures" / "sites" / family)
            spec = load_file(REPO / "prefectures" / f"{code}.toml")
            report = asyncio.run(crawl(spec, fetcher, dt.date(2024, 6, 1)))
            assert report.error is None and report.refs, family
            pages += len(fetcher.requests)
    elapsed = time.perf_counter() - start
    print(
        f"all {len(FAMILIES)} fixture families x{rounds}: {pages / elapsed:.0f} pages/s "
        f"({elapsed / rounds * 1000:.1f} ms per pass of {pages // rounds} pages)"
    )


if __name__ == "__main__":
    bench_reader()
    bench_families()
