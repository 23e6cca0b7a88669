"""The ``dims`` engine: Moselle's legacy DIMS CMS (``mc.moselle.gouv.fr``).

The list of acts (``index.php?op=raa&do=raa-acte``) only answers after a first request to
``raa.html`` has set the session cookie (``DIMSPHPSESSID``); without it the server answers 200
with an unrelated page. The fetcher keeps cookies for the whole crawl, and a list without rows
(and without the site's "aucun …" message) is reported as an error instead of "nothing new".
Rows alternate ``tr.li1`` / ``tr.li2``; each carries its date and a
``dims_op=doc_file_download`` link to a scanned PDF. The list is newest first: an incremental
crawl stops at a page whose acts are all known."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urljoin, urlsplit

from pydantic import Field

from attrap.adapters.base import CrawlContext, DocumentRef, Engine
from attrap.adapters.engines.common import (
    Crawl,
    IncrementalSettings,
    Period,
    Request,
    absolute,
    attr,
    find_date,
    parse,
    same_request,
    text_of,
)
from attrap.adapters.registry import AdapterError
from attrap.fetching import HtmlPage
from attrap.french import fold

ROWS = "tr.li1, tr.li2"
_DATE_CELL = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{4}\s*$")
DOWNLOAD = "a[href*='dims_op=doc_file_download']"


class DimsSettings(IncrementalSettings):
    # The list of acts, relative to the start URL (the page that opens the session).
    list_path: str = "index.php?op=raa&do=raa-acte"
    max_pages: int = Field(default=50, ge=1, le=1_000)


class DimsEngine(Engine[DimsSettings]):
    name = "dims"
    settings_model = DimsSettings

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        settings = self.settings(context.spec)
        crawl = Crawl(context, self.name, settings.max_pages, incremental=settings.incremental)
        session_url = context.spec.start_urls[0]
        crawl.claim(Request(session_url))
        opened = await crawl.fetch(Request(session_url))
        first_list = Request(urljoin(opened.url, settings.list_path))

        def read(page: HtmlPage, request: Request) -> tuple[list[DocumentRef], list[Request]]:
            return read_list(page, request, crawl, first=request == first_list)

        async for ref in crawl.walk([first_list], read, request_of=same_request):
            yield ref


def read_list(
    page: HtmlPage, request: Request, crawl: Crawl, *, first: bool
) -> tuple[list[DocumentRef], list[Request]]:
    tree = parse(page)
    rows = tree.css(ROWS)
    if not rows:
        if first and "aucun" not in fold(text_of(tree.body)):
            raise AdapterError(
                f"{crawl.context.spec.code} : {page.url} a répondu une page sans actes "
                f"({ROWS}) : le cookie de session DIMS posé par la page de départ n'a pas été "
                "renvoyé"
            )
        return [], []
    refs: list[DocumentRef] = []
    reached_old = False
    for row in rows:
        link = row.css_first(DOWNLOAD)
        url = absolute(page.url, attr(link, "href")) if link else None
        if url is None:
            continue
        texts = [text_of(c) for c in row.css("td") if c.css_first("a") is None]
        # The date column holds the date alone; a title may name dates too ("du 7 au 10 août").
        day = next(filter(None, (find_date(t) for t in texts if _DATE_CELL.match(t))), None)
        title = " – ".join(t for t in texts if t and not _DATE_CELL.match(t))
        if day is not None and not Period.day(day).reaches(crawl.not_before):
            reached_old = True
        else:
            title = title or text_of(link)
            refs.append(DocumentRef(url, title, published_on=day, found_on=request.url))
    pages: list[Request] = []
    if crawl.older_pages_wanted(refs, reached_old=reached_old):
        following = page_number(page.url) + 1
        for a in tree.css("a[href*='page=']"):
            url = absolute(page.url, attr(a, "href"))
            if url and crawl.on_site(url) and page_number(url) == following:
                pages.append(Request(url))
    return refs, pages


def page_number(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("page", ["1"])
    return int(values[0]) if values[0].isdigit() else 1
