"""What every engine shares: engine settings, French dates and periods, HTML helpers and the
bookkeeping of one crawl (visited pages, page budget, deduplicated references)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from attrap.adapters.base import CrawlContext, DocumentRef, EngineSettings
from attrap.adapters.registry import AdapterError
from attrap.fetching import HtmlPage
from attrap.french import MONTHS, fold


class IncrementalSettings(EngineSettings):
    # Skip what earlier crawls found (see ``Crawl.known``); false for a site that reorders or
    # rewrites its pages, where only a full walk is safe.
    incremental: bool = True


# --- Dates and periods -------------------------------------------------------------------------

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_SEP = r"[\s_+-]*"
_FRENCH_DATE = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:er)?{_SEP}({_MONTH})\.?{_SEP}((?:19|20)\d{{2}})(?!\d)"
)
_DAY_FIRST = re.compile(r"(?<!\d)(\d{1,2})[/.\-_](\d{1,2})[/.\-_]((?:19|20)\d{2})(?!\d)")
_YEAR_FIRST = re.compile(r"(?<!\d)((?:19|20)\d{2})[/.\-_](\d{1,2})[/.\-_](\d{1,2})(?!\d)")
_MONTH_WORD = re.compile(rf"(?<![a-z])({_MONTH})(?![a-z])")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# "… à partir du 28 avril 2015", "depuis 2015": a collection that is still growing.
_OPEN_ENDED = re.compile(r"\b(?:a partir d|depuis)")


def _plausible_year(year: int) -> bool:
    return 1990 <= year <= dt.date.today().year + 1


def _day(year: int, month: int, day: int) -> dt.date | None:
    if not _plausible_year(year):
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_date(text: str) -> dt.date | None:
    """The first full date in ``text``: "12 juillet 2024", "1er août 2024", "16/07/2024",
    "16.07.2024", "2024-07-16", "AOUT-12-2024" is not one."""
    # ASCII alone: the patterns expect no dashes, « ° » or quotes.
    folded = fold(text, ascii_only=True)
    found: list[tuple[int, dt.date]] = []
    for match in _FRENCH_DATE.finditer(folded):
        day = _day(int(match[3]), MONTHS[match[2]], int(match[1]))
        if day:
            found.append((match.start(), day))
    for match in _DAY_FIRST.finditer(folded):
        day = _day(int(match[3]), int(match[2]), int(match[1]))
        if day:
            found.append((match.start(), day))
    for match in _YEAR_FIRST.finditer(folded):
        day = _day(int(match[1]), int(match[2]), int(match[3]))
        if day:
            found.append((match.start(), day))
    return min(found)[1] if found else None


@dataclass(frozen=True)
class Period:
    """The span of time a page or a document covers: a day, a month, a few months or a year."""

    start: dt.date
    end: dt.date

    @classmethod
    def day(cls, day: dt.date) -> Period:
        return cls(day, day)

    @classmethod
    def months(cls, year: int, first: int, last: int) -> Period:
        return cls(dt.date(year, first, 1), dt.date(year, last, calendar.monthrange(year, last)[1]))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls.months(year, 1, 12)

    @property
    def is_day(self) -> bool:
        return self.start == self.end

    @property
    def year_only(self) -> int | None:
        return self.start.year if self.start.year == self.end.year else None

    def reaches(self, not_before: dt.date) -> bool:
        return self.end >= not_before


def find_period(
    text: str, *, year: int | None = None, year_pattern: re.Pattern[str] | None = None
) -> Period | None:
    """The period a title names: a full date, months ("Juillet 2024", "JUILLET", "AOUT-2026",
    "janvier-juillet 2024") or a year ("RAA 2024", "Année 2024", bare "2024"). A month without a
    year takes ``year`` (the parent page's). ``year_pattern`` replaces the year detection."""
    # ASCII alone: the patterns do not expect dashes, « ° » or quotes.
    folded = fold(text, ascii_only=True)
    if _OPEN_ENDED.search(folded):
        return None
    day = find_date(text)
    if day:
        return Period.day(day)
    if year_pattern is not None:
        match = year_pattern.search(text)
        years = [int(match[1])] if match else []
    else:
        years = [int(y) for y in _YEAR.findall(folded)]
    years = [y for y in years if _plausible_year(y)]
    named_year = max(years) if years else year
    months = [MONTHS[m] for m in _MONTH_WORD.findall(folded)]
    if months and named_year:
        return Period.months(named_year, min(months), max(months))
    if years:
        return Period(Period.year(min(years)).start, Period.year(max(years)).end)
    return None


def file_name(url: str) -> str:
    """The last path segment, decoded, for titles and dates ("RAA%20n%C2%B01+du+…")."""
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].replace("+", " "))


# --- HTML ------------------------------------------------------------------------------------


def parse(page: HtmlPage) -> LexborHTMLParser:
    return LexborHTMLParser(page.text)


def text_of(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True, separator=" ").split()) if node is not None else ""


def attr(node: LexborNode, name: str) -> str:
    return (node.attributes.get(name) or "").strip()


def ancestors(node: LexborNode) -> Iterable[LexborNode]:
    parent = node.parent
    while parent is not None and parent.tag not in ("html", "-undef"):
        yield parent
        parent = parent.parent


def classes(node: LexborNode) -> set[str]:
    return set(attr(node, "class").split())


def content_root(tree: LexborHTMLParser) -> LexborNode:
    """The page's main content, so that header, menus and footer links are never followed."""
    root = tree.css_first("main") or tree.css_first("#contenu") or tree.body or tree.root
    assert root is not None
    return root


def absolute(base: str, href: str) -> str | None:
    """``href`` made absolute against the page's final URL, fragment dropped; ``None`` for
    links that are not web pages (``javascript:``, ``mailto:``, anchors of the same page)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = urldefrag(urljoin(base, href)).url
    return url if urlsplit(url).scheme in ("http", "https") else None


# --- One crawl ---------------------------------------------------------------------------------

StepT = TypeVar("StepT")


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    data: tuple[tuple[str, str], ...] = ()

    @property
    def form(self) -> Mapping[str, str] | None:
        return dict(self.data) if self.data else None


def same_request(request: Request) -> Request:
    """``Crawl.walk``'s ``request_of`` for steps that are nothing but their request."""
    return request


class Crawl:
    """Visited requests, the page budget, the site's hosts and the references already given."""

    def __init__(
        self, context: CrawlContext, engine: str, max_pages: int, *, incremental: bool = False
    ) -> None:
        self.context = context
        self.engine = engine
        self.max_pages = max_pages
        self.incremental = incremental
        self.pages = 0
        self.visited: set[Request] = set()
        self.hosts = {urlsplit(u).hostname for u in context.spec.start_urls}
        self.seen_urls: set[str] = set()
        self.truncated = False

    @property
    def not_before(self) -> dt.date:
        return self.context.not_before

    def known(self, url: str) -> bool:
        """An earlier crawl recorded this bulletin, or found one on this page."""
        return self.incremental and self.context.known(url)

    def stops_at_known_page(self, known_items: int, unknown_items: int) -> bool:
        """A list page whose items (those of the wanted period) are all known ends the walk in
        its direction: what lies beyond is older still, and was seen by earlier crawls — as long
        as those covered ``not_before``."""
        since = self.context.known_since
        covered = since is not None and since <= self.not_before
        return self.incremental and covered and known_items > 0 and unknown_items == 0

    def older_pages_wanted(self, refs: Sequence[DocumentRef], *, reached_old: bool) -> bool:
        """For a list newest first: past an item older than ``not_before``, or a page of known
        items, the next pages hold no news."""
        known = sum(self.known(ref.url) for ref in refs)
        return not reached_old and not self.stops_at_known_page(known, len(refs) - known)

    def settled(self, request: Request, period: Period | None) -> bool:
        """A quick check does not fetch this dated list page (see ``CrawlContext.settled``)."""
        return period is not None and self.context.settled(request.url, period.end)

    def on_site(self, url: str) -> bool:
        return urlsplit(url).hostname in self.hosts

    def claim(self, request: Request) -> bool:
        """True when ``request`` is new and the budget allows it (and counts it)."""
        if request in self.visited:
            return False
        if self.pages >= self.max_pages:
            self.truncated = True
            return False
        self.visited.add(request)
        self.pages += 1
        return True

    async def fetch(self, request: Request) -> HtmlPage:
        page = await self.context.fetcher.fetch_html(
            request.url, method=request.method, data=request.form
        )
        # A redirect lands on a page we may know under its final URL.
        self.visited.add(Request(page.url, request.method, request.data))
        self.hosts.add(urlsplit(page.url).hostname)
        return page

    def new_ref(self, url: str) -> bool:
        if url in self.seen_urls:
            return False
        self.seen_urls.add(url)
        return True

    async def walk(
        self,
        start: Iterable[StepT],
        read: Callable[[HtmlPage, StepT], tuple[list[DocumentRef], list[StepT]]],
        *,
        request_of: Callable[[StepT], Request],
    ) -> AsyncIterator[DocumentRef]:
        """Walk list pages in the order found: fetch each step's request once within the page
        budget, give each reference once, then the steps ``read`` found on the page. A step is
        what an engine needs to read its page (its request, and what the page linking to it
        said); the budget error comes after the last reference, so what was found is kept."""
        queue = deque(start)
        while queue:
            step = queue.popleft()
            request = request_of(step)
            if not self.claim(request):
                continue
            page = await self.fetch(request)
            refs, following = read(page, step)
            for ref in refs:
                if self.new_ref(ref.url):
                    yield ref
            queue.extend(following)
        self.check_budget()

    def check_budget(self) -> None:
        """Raised after the last reference is given, so what was found is kept."""
        if self.truncated:
            raise AdapterError(
                f"{self.context.spec.code} : parcours arrêté après {self.pages} pages "
                f"([{self.engine}] max_pages = {self.max_pages}) ; des recueils plus anciens "
                "peuvent manquer"
            )


def clean_title(text: str) -> str:
    text = re.sub(r"^\s*t[ée]l[ée]charger\s*:?\s*", "", text, flags=re.IGNORECASE)
    return " ".join(text.split()).strip(" -–—:")
