"""The ``regions`` engine: www.prefectures-regions.gouv.fr (regional prefectures, and Paris's
departmental RAA under Île-de-France). Not DSFR: a list of year pages (``article.news-list-item``),
then on each year page a table of contents of months (``#sommaire-content``) pointing either to
anchors of the same page or to month pages, and ``a.link-download`` links to
``/<region>/irecontenu/telechargement/…/file/recueil-…-YYYY-NNN-….pdf``. The site sits behind
Cloudflare, which blocks bursts: the fetcher's politeness matters more than anywhere else."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import Field, field_validator

from attrap.adapters.base import CrawlContext, DocumentRef, Engine, EngineSettings
from attrap.adapters.engines.common import (
    Crawl,
    Period,
    Request,
    absolute,
    attr,
    clean_title,
    content_root,
    file_name,
    find_date,
    find_period,
    parse,
    text_of,
)
from attrap.fetching import HtmlPage

YEAR_LINKS = "article.news-list-item .news-list-title a[href], .news-list-title a[href]"
MONTH_LINKS = "#sommaire-content a[href], .sommaire-content a[href]"
DOWNLOADS = "a.link-download[href], a[href*='/irecontenu/telechargement/']"
RAA_TITLE = re.compile(r"recueil|actes administratifs|\bRAA\b", re.IGNORECASE)


class RegionsSettings(EngineSettings):
    # Year pages are links whose title names a year and the RAA. The tags page mixes several
    # series (Île-de-France: the region's and Paris's): keep the year pages whose title also
    # matches ``title_filter`` and not ``title_exclude`` (regexes, case-insensitive).
    title_filter: str | None = None
    title_exclude: str | None = None
    max_pages: int = Field(default=100, ge=1, le=5_000)

    @field_validator("title_filter", "title_exclude")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"expression régulière invalide : {exc}") from exc
        return value


@dataclass(frozen=True)
class Visit:
    request: Request
    period: Period | None


class RegionsEngine(Engine[RegionsSettings]):
    name = "regions"
    settings_model = RegionsSettings

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        settings = self.settings(context.spec)
        crawl = Crawl(context, self.name, settings.max_pages)
        start = [Visit(Request(url), None) for url in context.spec.start_urls]

        def read(page: HtmlPage, visit: Visit) -> tuple[list[DocumentRef], list[Visit]]:
            refs, visits = read_page(page, visit, crawl, settings)
            return refs, [v for v in visits if not crawl.settled(v.request, v.period)]

        async for ref in crawl.walk(start, read, request_of=lambda visit: visit.request):
            yield ref


def keep_title(title: str, settings: RegionsSettings) -> bool:
    if not RAA_TITLE.search(title):  # news items of the same list also name years
        return False
    if settings.title_filter and not re.search(settings.title_filter, title, re.IGNORECASE):
        return False
    return not (settings.title_exclude and re.search(settings.title_exclude, title, re.IGNORECASE))


def read_page(
    page: HtmlPage, visit: Visit, crawl: Crawl, settings: RegionsSettings
) -> tuple[list[DocumentRef], list[Visit]]:
    tree = parse(page)
    main = content_root(tree)
    not_before = crawl.not_before
    visits: list[Visit] = []

    for link in main.css(YEAR_LINKS):
        title = text_of(link)
        period = find_period(title)
        url = absolute(page.url, attr(link, "href"))
        recent = period is not None and period.reaches(not_before)
        if url and crawl.on_site(url) and recent and keep_title(title, settings):
            visits.append(Visit(Request(url), period))

    year = visit.period.year_only if visit.period else None
    if year is None:
        heading = text_of(tree.css_first(".breadcrumb .active")) or text_of(tree.css_first("h1"))
        found = find_period(heading)
        year = found.year_only if found else None
    page_period = visit.period or (Period.year(year) if year else None)

    sections: dict[str, Period | None] = {}
    for link in tree.css(MONTH_LINKS):
        href = attr(link, "href")
        period = find_period(text_of(link), year=year)
        if href.startswith("#"):
            sections[href[1:]] = period
            continue
        url = absolute(page.url, href)
        if url and url != page.url and crawl.on_site(url) and period and period.reaches(not_before):
            visits.append(Visit(Request(url), period))

    downloads = {a.mem_id for a in main.css(DOWNLOADS)}
    refs: list[DocumentRef] = []
    section: Period | None = None
    for node in main.traverse():
        if node.id and node.id in sections:
            section = sections[node.id]
        if node.mem_id not in downloads:
            continue
        url = absolute(page.url, attr(node, "href"))
        if url is None:
            continue
        title = clean_title(text_of(node.css_first("span")) or text_of(node)) or file_name(url)
        day = find_date(title) or find_date(file_name(url))
        period = Period.day(day) if day else section or page_period or find_period(file_name(url))
        if period is None or period.reaches(not_before):
            refs.append(
                DocumentRef(url=url, title=title, published_on=day, found_on=visit.request.url)
            )
    return refs, visits
