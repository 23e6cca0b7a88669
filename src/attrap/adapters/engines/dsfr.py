"""The ``dsfr`` engine: the State design-system sites ``www.<département>.gouv.fr``.

From the start pages it follows whatever leads to bulletins of the wanted period — year and
month cards, detail pages, ``<select>`` menus, year tables, pagination — and collects every
download link. A page is read in one pass:

- download links (class, ``fr-downloads-group``, or an href to ``/telechargement/`` or ``.pdf``:
  the ``<a id= class="fr-link fr-link--download">`` markup bug loses the class under an HTML5
  parser) become references, dated from the link text, ``span.fr-link__detail``, ``a[title]``,
  the enclosing card's "Publié le", the file name, or the page the link sits on;
- cards, tiles and table links are followed when their title names a period that reaches
  ``not_before`` (a month without a year takes the page's year), or names none;
- other links are followed only when their text names such a period;
- pagination is followed in the direction of the newest items, so that lists sorted oldest
  first jump to their last page instead of walking the archives.

Incremental crawls (``incremental = true``, the default): a detail page — one the link leading
to it dates to a single day, and whose title names no longer period — that earlier crawls found
a bulletin on is not requested again (a published bulletin's page does not change, while a
"Juillet 2024" card published on 1 July leads to a page that grows all month), and a list stops
being walked at a page whose items are all known (see ``Crawl.stops_at_known_page``).

What the crawl decides about a site's structure — which way its paginated lists run, whether it
has detail pages, which ``<select>`` menus it follows, the levels of pages (year, month…) down to
the lists — is counted in a ``DsfrStructure`` as pages are read (``attrap adapters check`` prints
it). The adapter's ``[dsfr]`` table may pin these choices (``pagination``, ``detail_pages``,
``select_menus``, ``levels``): the crawl then follows them instead of what each page suggests, so
that repairing one site cannot change how the others are read.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from attrap.adapters.base import CrawlContext, DocumentRef, Engine, Structure
from attrap.adapters.engines.common import (
    Crawl,
    IncrementalSettings,
    Period,
    Request,
    absolute,
    ancestors,
    attr,
    classes,
    clean_title,
    content_root,
    file_name,
    find_date,
    find_period,
    parse,
    text_of,
)
from attrap.fetching import HtmlPage

# What a followed link leads to: a page of a year (or years), of a month (or a few months), of
# one day, or a section whose title names no date ("Recueils spéciaux").
Level = Literal["section", "year", "month", "day"]
# Which way a paginated list runs.
Order = Literal["newest-first", "oldest-first"]
# The settings that pin the structure instead of letting each page decide.
PINS = ("pagination", "detail_pages", "select_menus", "levels")


class DsfrSettings(IncrementalSettings):
    # A regex whose first group is the year in titles, when the default detection misreads them.
    year_pattern: str | None = None
    # Follow cards, tiles and menu options whose title names no date (categories, detail pages).
    follow_undated: bool = True
    # An extra CSS selector of download links, for markup the defaults miss.
    link_selector: str | None = None
    max_pages: int = Field(default=400, ge=1, le=20_000)
    # Only follow pages under a start URL's path (the RAA section of the site).
    stay_in_section: bool = True
    # The pinned structure; each absent key is decided page by page. Which way paginated lists
    # run (else read from the dates of each page's items):
    pagination: Order | None = None
    # true: every followed link dated to one day leads to one bulletin's detail page; false: the
    # site has no detail pages, links the crawl would take for one are not followed.
    detail_pages: bool | None = None
    # The <select> menus (id, else name) whose options are followed; [] for none.
    select_menus: tuple[Annotated[str, Field(min_length=1)], ...] | None = None
    # The kind of link followed at each level from a start page down to the lists, e.g.
    # ["year", "month"]; links of other kinds are not followed, detail pages only from the last
    # level's lists, pagination at every level. [] when the start page is the list.
    levels: tuple[Level, ...] | None = Field(default=None, max_length=6)

    @field_validator("year_pattern")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                groups = re.compile(value).groups
            except re.error as exc:
                raise ValueError(f"expression régulière invalide : {exc}") from exc
            if groups < 1:
                raise ValueError(
                    "il faut un groupe qui capture l'année, par ex. 'RAA[- ]*(\\d{4})'"
                )
        return value

    @field_validator("link_selector")
    @classmethod
    def _valid_selector(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                LexborHTMLParser("<p></p>").css(value)
            except SelectolaxError as exc:
                raise ValueError(f"sélecteur CSS invalide : {exc}") from exc
        return value


OTHER_FILES = {
    "csv", "doc", "docx", "gif", "jpeg", "jpg", "odp", "ods", "odt", "png", "ppt", "pptx",
    "rtf", "txt", "xls", "xlsx", "zip",
}  # fmt: skip
_OFFSET = re.compile(r"/\(offset\)/(\d+)")
_FORMAT = re.compile(r"^\s*([a-z0-9]{2,5})\b", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"\bn\s*[°º]|\bnum[ée]ro\b", re.IGNORECASE)
CARD = ".fr-card, .fr-tile"
CARD_LINK = (
    ".fr-card__title a[href], a.fr-card__link[href], .fr-tile__title a[href], a.fr-tile__link[href]"
)
CARD_DETAIL = ".fr-card__detail, .fr-card__desc, .fr-tile__detail, .fr-tile__desc"
NOT_CONTENT = ".fr-breadcrumb a, .fr-pagination a, .fr-share a, .fr-skiplinks a"


@dataclass(frozen=True)
class Visit:
    request: Request
    period: Period | None  # what the link leading here said about its content
    rank: int  # newest first: the end of the period, inherited when unknown
    start: bool = False
    # Led to by a link dated to one day: a bulletin's own page, unchanged once published.
    detail: bool = False
    # The kinds of the links followed from a start page down to here (pagination adds none).
    levels: tuple[Level, ...] = ()
    # The <select> menu (id, else name; "" for neither) whose option led here.
    select: str | None = None


@dataclass
class DsfrStructure(Structure):
    """What the dsfr engine decided about a site during one crawl, counted in pages read."""

    engine: str = "dsfr"
    # The [dsfr] settings that pinned a choice instead of letting the pages decide.
    pinned: dict[str, object] = field(default_factory=dict)
    # Paginated list pages by the order their items' dates show ("unknown": too few dates).
    orders: Counter[str] = field(default_factory=Counter)
    # Pages read as a bulletin's detail page.
    detail_pages: int = 0
    # <select> menus followed: how ("POST": the page re-posted with the option's value, "URL":
    # options are addresses), and how many pages their options led to.
    selects: dict[str, str] = field(default_factory=dict)
    select_pages: Counter[str] = field(default_factory=Counter)
    # Pages that gave bulletins, by the levels leading to them.
    bulletin_pages: Counter[tuple[Level, ...]] = field(default_factory=Counter)

    @property
    def pagination(self) -> Order | None:
        """The order pagination was followed in: the pinned one, else the one most paginated
        pages showed (None: no paginated page told)."""
        pinned = self.pinned.get("pagination")
        if pinned == "newest-first" or pinned == "oldest-first":
            return pinned
        newest, oldest = self.orders["newest-first"], self.orders["oldest-first"]
        if newest == oldest == 0:
            return None
        return "newest-first" if newest >= oldest else "oldest-first"

    @property
    def levels(self) -> tuple[Level, ...] | None:
        """The longest chain of levels down to a page that gave bulletins, when every other
        such chain is its beginning (None: no such page, or chains that disagree)."""
        chains = sorted(self.bulletin_pages, key=len)
        if not chains:
            return None
        longest = chains[-1]
        return longest if all(longest[: len(c)] == c for c in chains) else None

    def pins(self) -> dict[str, object]:
        """The ``[dsfr]`` settings that make later crawls follow the choices of this one."""
        pins: dict[str, object] = {}
        if (order := self.pagination) is not None:
            pins["pagination"] = order
        pins["detail_pages"] = self.detail_pages > 0
        if "" not in self.selects:  # an unnamed menu cannot be named in a pin
            pins["select_menus"] = sorted(self.selects)
        if (levels := self.levels) is not None:
            pins["levels"] = list(levels)
        return pins


@dataclass
class Listing:
    """What one page gave: references, pages to visit, and the dates of its list items (in page
    order) that tell which way its pagination runs."""

    refs: list[DocumentRef] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    item_dates: list[tuple[int, dt.date]] = field(default_factory=list)
    undated_items: int = 0
    # Items of the wanted period that earlier crawls recorded (or found bulletins on), and not.
    known_items: int = 0
    unknown_items: int = 0


class DsfrEngine(Engine[DsfrSettings]):
    name = "dsfr"
    settings_model = DsfrSettings

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        settings = self.settings(context.spec)
        crawl = Crawl(context, self.name, settings.max_pages, incremental=settings.incremental)
        pinned = {key: getattr(settings, key) for key in PINS if getattr(settings, key) is not None}
        structure = DsfrStructure(pinned=pinned)
        context.on_structure(structure)
        reader = PageReader(crawl, settings, structure)
        queue: list[tuple[int, int, Visit]] = []
        start_rank = dt.date.max.toordinal()
        for url in context.spec.start_urls:
            reader.add_section(url)
            visit = Visit(Request(url), None, start_rank, start=True)
            heapq.heappush(queue, (-start_rank, len(queue), visit))
        sequence = len(queue)
        while queue:
            _, _, visit = heapq.heappop(queue)
            if visit.detail and crawl.known(visit.request.url):
                continue
            # A bulletin's own page may be dated long ago and listed today (published late).
            if not visit.detail and crawl.settled(visit.request, visit.period):
                continue
            if not crawl.claim(visit.request):
                continue
            page = await crawl.fetch(visit.request)
            if visit.start:
                reader.add_section(page.url)
            listing = reader.read(page, visit)
            for ref in listing.refs:
                if crawl.new_ref(ref.url):
                    yield ref
            for follow in listing.visits:
                if follow.request not in crawl.visited:
                    sequence += 1
                    heapq.heappush(queue, (-follow.rank, sequence, follow))
        crawl.check_budget()


class PageReader:
    def __init__(self, crawl: Crawl, settings: DsfrSettings, structure: DsfrStructure) -> None:
        self.crawl = crawl
        self.settings = settings
        self.structure = structure
        self.year_pattern = re.compile(settings.year_pattern) if settings.year_pattern else None
        self.sections: list[str] = []

    def add_section(self, url: str) -> None:
        path = urlsplit(url).path.rstrip("/").lower()
        if path not in self.sections:
            self.sections.append(path)

    def in_section(self, url: str) -> bool:
        if not self.crawl.on_site(url):
            return False
        if not self.settings.stay_in_section:
            return True
        path = urlsplit(url).path.rstrip("/").lower()
        return any(path == s or path.startswith(s + "/") for s in self.sections)

    def period(self, text: str, year: int | None) -> Period | None:
        return find_period(text, year=year, year_pattern=self.year_pattern)

    def read(self, page: HtmlPage, visit: Visit) -> Listing:
        tree = parse(page)
        main = content_root(tree)
        year = page_year(tree, page.url, visit.period)
        context = visit.period or (Period.year(year) if year else None)
        listing = Listing()
        position = {a.mem_id: i for i, a in enumerate(main.css("a[href]"))}
        handled = {a.mem_id for a in main.css(NOT_CONTENT)}
        extra = {a.mem_id for a in main.css(self.settings.link_selector or "_no_such_tag_")}
        grouped = {a.mem_id for a in main.css(".fr-downloads-group a[href]")}

        for a in main.css("a[href]"):
            url = absolute(page.url, attr(a, "href"))
            if url is None or a.mem_id in handled:
                continue
            kind = link_kind(a, url, a.mem_id in extra or a.mem_id in grouped)
            if kind == "pdf":
                handled.add(a.mem_id)
                self.add_document(listing, a, url, position[a.mem_id], year, visit, context)
            elif kind == "other-file":
                handled.add(a.mem_id)

        for card in main.css(CARD):
            link = card.css_first(CARD_LINK)
            if link is None or link.mem_id in handled:
                continue
            handled.add(link.mem_id)
            title = text_of(link)
            details = " ".join(text_of(d) for d in card.css(CARD_DETAIL))
            titled = self.period(title, year)
            day = find_date(title) or find_date(details)
            period = Period.day(day) if day else titled
            target = absolute(page.url, attr(link, "href"))
            self.add_item(listing, position[link.mem_id], period, target)
            # "Publié le" dates the card, not what a page titled by a month or year collects.
            detail = is_one_day(period) and (
                bool(self.settings.detail_pages)
                or titled is None
                or titled.is_day
                or names_one_bulletin(title)
            )
            level = None if detail else level_of(titled or period)
            self.follow(
                listing, page, link, period, visit, structured=True, detail=detail, level=level
            )

        for link in main.css(".fr-table a[href]"):
            if link.mem_id in handled:
                continue
            handled.add(link.mem_id)
            row = next((n for n in ancestors(link) if n.tag == "tr"), None)
            titled = self.period(text_of(link), year)
            period = titled or self.period(text_of(row), year)
            # As on cards, a date elsewhere in the row may be the publication of a collection.
            detail = is_one_day(period if self.settings.detail_pages else titled)
            level = None if detail else level_of(period)
            self.follow(
                listing, page, link, period, visit, structured=True, detail=detail, level=level
            )

        for a in main.css("a[href]"):
            if a.mem_id not in handled:
                label = f"{text_of(a)} {attr(a, 'title')}"
                period = self.period(label, year)
                detail = is_one_day(period)
                level = None if detail else level_of(period)
                self.follow(
                    listing, page, a, period, visit, structured=False, detail=detail, level=level
                )

        self.read_selects(listing, page, main, year, visit)
        self.read_pagination(listing, page, main, visit)
        self.note(visit, listing)
        return listing

    def note(self, visit: Visit, listing: Listing) -> None:
        """Counts what reading this page says about the site's structure."""
        structure = self.structure
        if visit.detail:
            structure.detail_pages += 1
        if visit.select is not None:
            how = "POST" if visit.request.method == "POST" else "URL"
            structure.selects.setdefault(visit.select, how)
            structure.select_pages[visit.select] += 1
        if listing.refs:
            structure.bulletin_pages[visit.levels] += 1

    def add_item(
        self, listing: Listing, position: int, period: Period | None, url: str | None
    ) -> None:
        if period is None:
            listing.undated_items += 1
        else:
            listing.item_dates.append((position, period.end))
        if url is not None and (period is None or period.reaches(self.crawl.not_before)):
            if self.crawl.known(url):
                listing.known_items += 1
            else:
                listing.unknown_items += 1

    def add_document(
        self,
        listing: Listing,
        a: LexborNode,
        url: str,
        position: int,
        year: int | None,
        visit: Visit,
        context: Period | None,
    ) -> None:
        if not self.crawl.on_site(url):
            return
        detail = " ".join(text_of(d) for d in a.css(".fr-link__detail"))
        fmt = _FORMAT.match(detail)
        if fmt and fmt[1].lower() in OTHER_FILES:
            return
        text = text_of(a)
        if detail:
            text = text.replace(detail, " ")
        title_attr = attr(a, "title")
        card = next((n for n in ancestors(a) if classes(n) & {"fr-card", "fr-tile"}), None)
        card_detail = " ".join(text_of(d) for d in card.css(CARD_DETAIL)) if card else ""
        row = next((n for n in ancestors(a) if n.tag == "tr"), None)  # year tables
        row_text = text_of(row).replace(text_of(a), " ") if row else ""
        name = file_name(url)
        sources = (text, detail, title_attr, card_detail, row_text, name)
        day = next(filter(None, map(find_date, sources)), None)
        own: Period | None = None
        if day is None:
            periods = (self.period(s, year) for s in (text, title_attr, row_text, name))
            own = next(filter(None, periods), None)
            # A detail page's "Publié le" dates its links unless they say otherwise.
            inside = context is not None and (own is None or own.start <= context.start <= own.end)
            if context is not None and context.is_day and inside:
                day = context.start
        period = Period.day(day) if day else own or context
        self.add_item(listing, position, period, url)
        if period is not None and not period.reaches(self.crawl.not_before):
            return
        titles = [t for t in map(clean_title, (text, title_attr, row_text)) if t]
        # A bare "consulter" next to a title attribute that names the bulletin: take the latter.
        title = next(
            (t for t in titles if any(c.isdigit() for c in t)), titles[0] if titles else name
        )
        listing.refs.append(
            DocumentRef(url=url, title=title, published_on=day, found_on=visit.request.url)
        )

    def follow(
        self,
        listing: Listing,
        page: HtmlPage,
        link: LexborNode,
        period: Period | None,
        visit: Visit,
        *,
        structured: bool,
        detail: bool,
        level: Level | None,
    ) -> None:
        url = absolute(page.url, attr(link, "href"))
        if url is None or url == page.url or not self.in_section(url):
            return
        if period is None:
            if not (structured and self.settings.follow_undated):
                return
        elif not period.reaches(self.crawl.not_before):
            return
        if not self.pinned_allows(visit, level, detail=detail):
            return
        listing.visits.append(self.visit(Request(url), period, visit, detail=detail, level=level))

    def pinned_allows(self, parent: Visit, level: Level | None, *, detail: bool) -> bool:
        """Whether a pinned structure lets the crawl follow a link from ``parent``: never to a
        detail page under ``detail_pages = false``; under ``levels``, at each depth only links
        of that level's kind, and detail pages only from the last level."""
        pinned = self.settings.levels
        if detail:
            if self.settings.detail_pages is False:
                return False
            return pinned is None or len(parent.levels) == len(pinned)
        if pinned is None or level is None:
            return True
        depth = len(parent.levels)
        return depth < len(pinned) and pinned[depth] == level

    def visit(
        self,
        request: Request,
        period: Period | None,
        parent: Visit,
        *,
        detail: bool = False,
        level: Level | None = None,
        select: str | None = None,
    ) -> Visit:
        # A child's period is at least as precise as its parent's: keep the parent's when unknown.
        period = period or parent.period
        rank = period.end.toordinal() if period else parent.rank
        levels = (*parent.levels, level) if level is not None else parent.levels
        return Visit(
            request, period, min(rank, parent.rank), detail=detail, levels=levels, select=select
        )

    def read_selects(
        self, listing: Listing, page: HtmlPage, main: LexborNode, year: int | None, visit: Visit
    ) -> None:
        menus = self.settings.select_menus
        for select in main.css("select"):
            key = attr(select, "id") or attr(select, "name")
            if menus is not None and key not in menus:
                continue
            for option in select.css("option"):
                value = attr(option, "value")
                if not value or "disabled" in option.attributes:
                    continue
                label = text_of(option) or attr(option, "title")
                period = self.period(label, year) or self.period(value, year)
                if period is None and not self.settings.follow_undated:
                    continue
                if period is not None and not period.reaches(self.crawl.not_before):
                    continue
                level = level_of(period)
                if not self.pinned_allows(visit, level, detail=False):
                    continue
                if looks_like_url(value):
                    url = absolute(page.url, value)
                    if url is not None and self.in_section(url):
                        follow = self.visit(Request(url), period, visit, level=level, select=key)
                        listing.visits.append(follow)
                elif key:
                    # The page lists another year when re-requested with the chosen option.
                    request = Request(page.url, "POST", ((key, value),))
                    follow = self.visit(request, period, visit, level=level, select=key)
                    listing.visits.append(follow)

    def read_pagination(
        self, listing: Listing, page: HtmlPage, main: LexborNode, visit: Visit
    ) -> None:
        links = {a.mem_id: a for a in main.css(".fr-pagination a[href], a[href*='/(offset)/']")}
        roles: dict[str, list[str]] = {}
        current = offset_of(page.url)
        by_offset: list[tuple[int, str]] = []
        for a in links.values():
            url = absolute(page.url, attr(a, "href"))
            if url is None or url == page.url or not self.in_section(url):
                continue
            role = pagination_role(a)
            roles.setdefault(role, []).append(url)
            if (offset := offset_of(url)) is not None:
                by_offset.append((offset, url))
        if not roles:
            return
        self.structure.orders[list_order(listing) or "unknown"] += 1
        if not {"next", "prev", "last"} & roles.keys() and by_offset:
            # Bare /(offset)/N links: their offsets tell which page is next, previous, last.
            here = current or 0
            after = sorted(o for o in by_offset if o[0] > here)
            before = sorted(o for o in by_offset if o[0] < here)
            if after:
                roles["next"], roles["last"] = [after[0][1]], [after[-1][1]]
            if before:
                roles["prev"], roles["first"] = [before[-1][1]], [before[0][1]]
        for role in self.pagination_roles(listing):
            for url in roles.get(role, []):
                listing.visits.append(self.visit(Request(url), visit.period, visit))

    def pagination_roles(self, listing: Listing) -> set[str]:
        """Which pagination links lead to items that reach ``not_before``."""
        dates = [d for _, d in sorted(listing.item_dates)]
        not_before = self.crawl.not_before
        all_recent = all(d >= not_before for d in dates)
        any_recent = listing.undated_items > 0 or not dates or any(d >= not_before for d in dates)
        # Past a page of known items, older ones are known too: walk no further back.
        older_needed = all_recent and not self.crawl.stops_at_known_page(
            listing.known_items, listing.unknown_items
        )
        order = self.settings.pagination or list_order(listing)
        if order == "newest-first":  # older pages come next
            return {"prev", "first"} | ({"next"} if older_needed else set())
        if order == "oldest-first":  # the newest items are on the last page
            roles = {"last"} | ({"next"} if any_recent else set())
            return roles | ({"prev"} if older_needed else set())
        if any_recent:
            return {"next", "prev", "first", "last", "page"}
        return {"last"}


def is_one_day(period: Period | None) -> bool:
    return period is not None and period.is_day


def level_of(period: Period | None) -> Level:
    """The kind of page a link dated by ``period`` leads to."""
    if period is None:
        return "section"
    if period.is_day:
        return "day"
    start, end = period.start, period.end
    whole_years = (start.month, start.day, end.month, end.day) == (1, 1, 12, 31)
    return "year" if whole_years else "month"


def list_order(listing: Listing) -> Order | None:
    """Which way a list page runs, from the dates of its items in page order."""
    dates = [d for _, d in sorted(listing.item_dates)]
    if len(dates) > 1 and dates[0] > dates[-1]:
        return "newest-first"
    if len(dates) > 1 and dates[0] < dates[-1]:
        return "oldest-first"
    return None


def names_one_bulletin(title: str) -> bool:
    """A number sign or a number besides years: "RAA n°7 juillet 2024", "Recueil 05-2024-051"
    name one bulletin; "Juillet 2024", "RAA 2024", "1er semestre 2024" name collections."""
    if _NUMBER_SIGN.search(title):
        return True
    return any(len(n) > 1 and not 1990 <= int(n) <= 2100 for n in re.findall(r"\d+", title))


def link_kind(a: LexborNode, url: str, marked: bool) -> str:
    """'pdf' for a bulletin download, 'other-file' for other downloads, else 'page'."""
    name = file_name(url).lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension == "pdf":
        return "pdf"
    if extension in OTHER_FILES:
        return "other-file"
    download_class = "fr-link--download" in classes(a) or any(
        "fr-link--download" in key
        for key in a.attributes  # the markup bug's leftovers
    )
    if marked or download_class or "/telechargement/" in urlsplit(url).path:
        return "pdf"
    return "page"


def pagination_role(a: LexborNode) -> str:
    names = classes(a)
    for role in ("next", "prev", "last", "first"):
        if f"fr-pagination__link--{role}" in names or attr(a, "rel") == role:
            return role
    return "page"


def offset_of(url: str) -> int | None:
    match = _OFFSET.search(urlsplit(url).path)
    return int(match[1]) if match else None


def looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/")) or ("/" in value and " " not in value)


def page_year(tree: LexborHTMLParser, url: str, period: Period | None) -> int | None:
    """The year a page is about: from the link that led here, else its title or URL."""
    if period is not None and period.year_only:
        return period.year_only
    for text in (text_of(tree.css_first("h1")), file_name(url)):
        found = find_period(text)
        if found is not None and found.year_only:
            return found.year_only
    return None
