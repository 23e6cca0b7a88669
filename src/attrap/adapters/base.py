"""What an engine is: given an administration's declaration and a way to fetch pages, it yields
references to the PDF bulletins it finds. Engines never download PDFs and never touch the
database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from attrap.adapters.registry import AdapterSpec


@dataclass(frozen=True)
class DocumentRef:
    """A bulletin found on a site: its absolute URL, title and publication date when known."""

    url: str
    title: str
    published_on: dt.date | None = None


@dataclass(frozen=True)
class HtmlPage:
    """A listing page as the engine sees it: the final URL (after redirects) and its text."""

    url: str
    text: str


class PageFetcher(Protocol):
    """The part of the HTTP client engines may use (``attrap.http.HttpClient`` implements it).

    One fetcher serves one crawl and must keep the cookies servers set across its requests
    (Moselle's DIMS answers its list only within the session ``raa.html`` opened). Redirects
    are followed: ``HtmlPage.url`` is the final URL."""

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        """Fetch a page politely; raises ``attrap.http.FetchError`` when it cannot."""
        ...


@dataclass(frozen=True)
class CrawlContext:
    """What an engine gets for one crawl."""

    spec: AdapterSpec
    fetcher: PageFetcher
    not_before: dt.date


class Engine(Protocol):
    """A site family. ``discover`` yields every bulletin published on or after ``not_before``
    (undated ones too), without walking archive pages that are entirely older."""

    name: str

    def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]: ...
