"""Requests and time of repeated crawls of a detail-page site (family d: a list newest first,
one page per bulletin), served on 127.0.0.1 and crawled by the real ``dsfr`` engine and the
crawl stage on SQLite, without politeness delay:

1. first crawl (nothing known): every list page, every detail page, every PDF;
2. second crawl, nothing published since;
3. third crawl after one new bulletin;
4. the same with ``full=True`` (``attrap run --full``).

Each line also gives what the requests would cost at the default politeness (5 s between two
requests to one server), the real bound of a crawl.

    .venv/bin/python bench/crawl_incremental.py [--years 2] [--per-year 150] [--per-page 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

# The local server and PDFs are the test suite's own support code.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from attrap.adapters.engines import get_engine
from attrap.config import CrawlSettings
from attrap.pipeline import run_crawl
from attrap.store.db import open_database
from local_server import LocalServer, crawl_settings, html, make_pdf, pdf, spec

SECTION = "/Publications/Recueil-des-actes-administratifs"
LAST_DAY = dt.date(2025, 12, 31)


def page_url(index: int, per_page: int) -> str:
    return SECTION if index == 0 else f"{SECTION}/(offset)/{index * per_page}"


def card(number: int, day: dt.date) -> str:
    return (
        '<div class="fr-card fr-card--horizontal"><div class="fr-card__body">'
        f'<h2 class="fr-card__title"><a class="fr-card__link" href="{SECTION}/RAA-n-{number}">'
        f"Recueil des actes administratifs n°{number}</a></h2>"
        f'<p class="fr-card__detail">Publié le {day:%d/%m/%Y}</p></div></div>'
    )


def pagination(index: int, pages: int, per_page: int) -> str:
    def link(role: str, target: int) -> str:
        href = page_url(target, per_page)
        kind = f"fr-pagination__link fr-pagination__link--{role}"
        return f'<a class="{kind}" href="{href}">{role}</a>'

    links = []
    if index > 0:
        links += [link("first", 0), link("prev", index - 1)]
    if index < pages - 1:
        links += [link("next", index + 1), link("last", pages - 1)]
    return f'<nav class="fr-pagination"><ul>{"".join(f"<li>{a}</li>" for a in links)}</ul></nav>'


def publish(server: LocalServer, bulletins: list[tuple[int, dt.date]], per_page: int) -> None:
    """Route the whole site for ``bulletins`` (newest first): list pages, detail pages, PDFs."""
    pages = -(-len(bulletins) // per_page)
    for index in range(pages):
        items = bulletins[index * per_page : (index + 1) * per_page]
        body = "".join(card(number, day) for number, day in items)
        main = f"<main><h1>Recueil des actes administratifs</h1>{body}"
        main += f"{pagination(index, pages, per_page)}</main>"
        server.route(page_url(index, per_page), html(f"<html><body>{main}</body></html>"))
    for number, day in bulletins:
        href = f"/contenu/telechargement/{number}/file/RAA-n-{number}.pdf"
        detail = (
            f"<html><body><main><h1>Recueil des actes administratifs n°{number}</h1>"
            f'<div class="fr-downloads-group"><a class="fr-link fr-link--download" href="{href}">'
            f"Télécharger le RAA n°{number} du {day:%d/%m/%Y}</a></div></main></body></html>"
        )
        server.route(f"{SECTION}/RAA-n-{number}", html(detail))
        server.route(href, pdf(make_pdf(f"RAA {number}")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--per-year", type=int, default=150)
    parser.add_argument("--per-page", type=int, default=10)
    args = parser.parse_args()
    count = args.years * args.per_year
    step = dt.timedelta(days=365 * args.years / count)
    bulletins = [(count - i, LAST_DAY - i * step) for i in range(count)]
    not_before = bulletins[-1][1]
    delay = CrawlSettings().min_delay_s

    with LocalServer().running() as server, tempfile.TemporaryDirectory() as scratch:
        publish(server, bulletins, args.per_page)
        settings = crawl_settings(Path(scratch))
        database = open_database(f"sqlite:///{Path(scratch) / 'bench.db'}")
        site = spec("B44", server.url(SECTION), engine="dsfr")
        print(
            f"site: {count} bulletins since {not_before}, newest first, {args.per_page} a page "
            f"({-(-count // args.per_page)} list pages, {count} detail pages)"
        )

        def run(label: str, *, full: bool = False) -> None:
            before = len(server.log)
            started = time.perf_counter()
            (outcome,) = asyncio.run(
                run_crawl(
                    settings,
                    database,
                    [site],
                    get_engine=get_engine,
                    not_before=not_before,
                    full=full,
                )
            )
            elapsed = time.perf_counter() - started
            paths = [r.path for r in server.log[before:]]
            pdfs = sum(p.endswith(".pdf") for p in paths)
            assert outcome.error is None, outcome.error
            print(
                f"{label:<28} {len(paths) - pdfs:>4} pages + {pdfs:>3} PDFs in {elapsed:6.2f} s"
                f" | new {outcome.new:>3} | at {delay:g} s a request: "
                f"{len(paths) * delay / 60:5.1f} min"
            )

        run("first crawl")
        run("second crawl, nothing new")
        bulletins.insert(0, (count + 1, LAST_DAY + dt.timedelta(days=1)))
        publish(server, bulletins, args.per_page)
        run("after one new bulletin")
        run("--full", full=True)
        database.engine.dispose()


if __name__ == "__main__":
    main()
