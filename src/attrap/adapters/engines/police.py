"""The ``police`` engine: the Préfecture de police (Paris), a Drupal site. Its orders are listed
newest first in the decree block (``#block-decree-list-block``), each link carrying its title
and a ``div.field--type-datetime`` date, with a Drupal pager. The site sits behind an anti-bot
protection: a challenge page has no decree block, which is reported as an error. An incremental
crawl stops at a pager page whose orders are all known."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import Field

from attrap.adapters.base import CrawlContext, DocumentRef, Engine
from attrap.adapters.engines.common import (
    Crawl,
    IncrementalSettings,
    Period,
    Request,
    absolute,
    ancestors,
    attr,
    clean_title,
    file_name,
    find_date,
    parse,
    same_request,
    text_of,
)
from attrap.adapters.registry import AdapterError
from attrap.fetching import HtmlPage

BLOCK = "#block-decree-list-block"
DATE = ".field--type-datetime"
NEXT = "li.pager__item--next a[href], a[rel='next'][href]"


class PoliceSettings(IncrementalSettings):
    max_pages: int = Field(default=30, ge=1, le=1_000)


class PoliceEngine(Engine[PoliceSettings]):
    name = "police"
    settings_model = PoliceSettings

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        settings = self.settings(context.spec)
        crawl = Crawl(context, self.name, settings.max_pages, incremental=settings.incremental)
        start = [Request(url) for url in context.spec.start_urls]

        def read(page: HtmlPage, request: Request) -> tuple[list[DocumentRef], list[Request]]:
            return read_decrees(page, request, crawl)

        async for ref in crawl.walk(start, read, request_of=same_request):
            yield ref


def read_decrees(
    page: HtmlPage, request: Request, crawl: Crawl
) -> tuple[list[DocumentRef], list[Request]]:
    tree = parse(page)
    block = tree.css_first(BLOCK)
    if block is None:
        raise AdapterError(
            f"{crawl.context.spec.code} : {page.url} n'a pas de liste d'arrêtés ({BLOCK}) ; "
            "sans doute une page de vérification anti-robot"
        )
    refs: list[DocumentRef] = []
    reached_old = False
    for a in block.css("a[href]"):
        url = absolute(page.url, attr(a, "href"))
        if url is None or not file_name(url).lower().endswith(".pdf"):
            continue
        # The date sits inside the link or in the row (views-row) around it.
        holders = [a]
        for node in ancestors(a):
            if node.mem_id == block.mem_id:
                break
            holders.append(node)
        date_node = next((h.css_first(DATE) for h in holders if h.css_first(DATE)), None)
        day = find_date(text_of(date_node)) if date_node else None
        title_node = a.css_first("span") or a
        title = clean_title(text_of(title_node).replace(text_of(date_node), " "))
        if day is not None and not Period.day(day).reaches(crawl.not_before):
            reached_old = True
        else:
            title = title or file_name(url)
            refs.append(DocumentRef(url, title, published_on=day, found_on=request.url))
    pages: list[Request] = []
    if crawl.older_pages_wanted(refs, reached_old=reached_old):
        for a in block.css(NEXT):
            url = absolute(page.url, attr(a, "href"))
            if url and crawl.on_site(url):
                pages.append(Request(url))
    return refs, pages
