"""The read-only web application: French pages, the JSON API and the Atom feeds.

``create_app(database)`` builds it; ``attrap serve`` runs it under uvicorn.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cachetools import TTLCache, cached
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from attrap.facts.purposes import PURPOSE_LABELS
from attrap.facts.wording import cameras_phrase, communes_phrase, lead_phrase, one_period
from attrap.health import STATE_LABELS, health_table
from attrap.matching.categories import NEUTRAL_COLOUR, catalogue
from attrap.store.db import Database
from attrap.store.models import Hit
from attrap.store.queries import (
    HitFilter,
    PublicationDelays,
    count_by_category,
    count_by_department,
    count_hits,
    crawl_health,
    hit_to_json,
    normalise_department,
    publication_delays,
    search_hits,
    search_words,
)
from attrap.web.api import MAX_LIMIT, MAX_OFFSET, MAX_QUERY_LENGTH, router
from attrap.web.cache import ResponseCache
from attrap.web.feeds import filter_params
from attrap.web.france_map import department_names, shaded_map
from attrap.web.security import HardenedResponses
from attrap.web.text import category_colour, category_label, french_date, highlight

HERE = Path(__file__).parent
PAGE_SIZE = 20
LATEST_ON_HOME = 8
# The home page's map covers the last year unless the visitor picks dates.
DEFAULT_PERIOD = dt.timedelta(days=365)
# Counts over a whole period scan every hit in it (about a second per million on SQLite); they
# change only when a crawl stores hits, so pages share them for a few minutes.
COUNTS_CACHE_SECONDS = 300


def _date_text(value: str | dt.date | None) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return french_date(value)


def _safe_url(url: str) -> str:
    # Document URLs come from crawled pages: only web links may become hrefs.
    return url if url.startswith(("https://", "http://")) else "#"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = True  # every template, whatever its file name
    templates.env.globals.update(
        category_label=category_label,
        department_names=department_names(),
        highlight=highlight,
        french_date=_date_text,
        safe_url=_safe_url,
        one_period=one_period,
        communes_phrase=communes_phrase,
        cameras_phrase=cameras_phrase,
        lead_phrase=lead_phrase,
        purpose_label=lambda code: PURPOSE_LABELS.get(code, code),
    )
    return templates


@dataclass(frozen=True)
class PageRequest:
    """A page's filters read leniently from the query string: a bad value is dropped and
    reported to the visitor instead of failing the page."""

    hit_filter: HitFilter
    page: int
    problems: list[str]


def _parse_date(params: Mapping[str, str], key: str, problems: list[str]) -> dt.date | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(f"Date ignorée (format attendu AAAA-MM-JJ) : {raw}")
        return None


def read_page_request(params: Mapping[str, str], **fixed: str) -> PageRequest:
    problems: list[str] = []
    merged = {**params, **fixed}
    department = merged.get("department", "").strip()
    raw_page = params.get("page", "1")
    # isdecimal, not isdigit: "²" is a digit that int() refuses. Past the last page is empty.
    last_page = MAX_OFFSET // PAGE_SIZE
    page = int(raw_page) if raw_page.isdecimal() and len(raw_page) < 9 else last_page
    page = max(1, min(page, last_page)) if raw_page.isdecimal() else 1
    hit_filter = HitFilter(
        department=normalise_department(department) if department else None,
        category=merged.get("category", "").strip() or None,
        since=_parse_date(merged, "since", problems),
        until=_parse_date(merged, "until", problems),
        query=merged.get("query", "").strip()[:MAX_QUERY_LENGTH] or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return PageRequest(hit_filter, page, problems)


def _url(path: str, params: Mapping[str, Any]) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


CountQuery = Callable[[Session, HitFilter], Any]


class CachedCounts:
    """Hit counts (totals, per département, per category), kept for ``COUNTS_CACHE_SECONDS``:
    a count reads every hit the filter selects (400 ms for a département's 15,000 drone hits
    since a date, on a million), the page of hits shown with it only the newest."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.cache: TTLCache[Any, Any] = TTLCache(1024, COUNTS_CACHE_SECONDS)
        # A condition, not a lock: concurrent requests for a count being computed wait for it
        # instead of all running the same query (50 clients on a cold home page queued 30 s).
        self.count = cached(self.cache, condition=threading.Condition())(self._count)

    def _count(self, query: CountQuery, hit_filter: HitFilter) -> Any:
        with self.database.session() as db:
            return query(db, hit_filter)

    def total(self, hit_filter: HitFilter) -> int:
        """How many hits the filter selects, whatever page of them is shown."""
        return int(self.count(count_hits, replace(hit_filter, limit=0, offset=0, order="newest")))

    def by_department(self, hit_filter: HitFilter) -> dict[str, int]:
        return dict(self.count(count_by_department, replace(hit_filter, limit=0, offset=0)))

    def categories(self, hit_filter: HitFilter) -> list[tuple[str, int]]:
        """Known categories first, then any other a rules file introduced, with their counts."""
        counts = self.count(count_by_category, replace(hit_filter, limit=0, offset=0))
        known = catalogue().ids
        names = known + sorted(set(counts) - set(known))
        return [(name, counts.get(name, 0)) for name in names]


def _listing_links(hit_filter: HitFilter) -> dict[str, str]:
    params = filter_params(hit_filter)
    return {
        "csv": _url("/api/hits", {**params, "format": "csv", "limit": MAX_LIMIT}),
        "atom": _url("/feeds/hits.atom", params),
        "json": _url("/api/hits", params),
        "calendar": _url("/feeds/periods.ics", params),
    }


def _in_force_on(hit: dict[str, Any], day: dt.date) -> bool:
    """One of the hit's periods touches ``day`` (in the administration's time zone)."""
    for period in (hit["facts"] or {}).get("periods", []):
        start = dt.datetime.fromisoformat(period["start"])
        end = dt.datetime.fromisoformat(period["end"]) if period["end"] else None
        last = (end - dt.timedelta(microseconds=1)).date() if end else start.date()
        if start.date() <= day <= last:
            return True
    return False


# « En ce moment »: orders in force today and in the next days.
UPCOMING_DAYS = 7
CURRENT_LIMIT = 200
# The delays page covers the last year unless the visitor picks a date.
DELAYS_PERIOD = dt.timedelta(days=365)
DELAY_CSV_FIELDS = [
    "administration",
    "name",
    "orders",
    "published_after_start",
    "published_under_24h",
    "published_24h_or_more",
    "share_after_start",
    "share_under_24h",
    "median_lead_hours",
]


def _delay_csv(rows: list[PublicationDelays]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DELAY_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "administration": row.code,
                "name": row.name,
                "orders": row.orders,
                "published_after_start": row.after_start,
                "published_under_24h": row.under_a_day,
                "published_24h_or_more": row.in_time,
                "share_after_start": round(row.share(row.after_start), 3),
                "share_under_24h": round(row.share(row.under_a_day), 3),
                "median_lead_hours": row.median_lead_hours,
            }
        )
    return buffer.getvalue()


def create_app(
    database: Database,
    *,
    today: Callable[[], dt.date] = dt.date.today,
    cache_seconds: float = 0.0,
) -> FastAPI:
    """``today`` tells the pages that depend on the date (« En ce moment ») what day it is;
    ``cache_seconds`` how long whole answers are kept (``attrap.web.cache``; 0: never)."""
    app = FastAPI(
        title="attrap",
        summary="Arrêtés préfectoraux de surveillance (drones, VSA, …) repérés dans les RAA.",
        version="1",
        openapi_url="/api/openapi.json",
        # The interactive documentation pages load scripts from a CDN: there is none here.
        docs_url=None,
        redoc_url=None,
    )
    if cache_seconds > 0:
        # Inside HardenedResponses (the last added is the outermost): a kept answer still gets
        # its ETag checked, and 304 when the reader has it.
        app.add_middleware(ResponseCache, seconds=cache_seconds)
    app.add_middleware(HardenedResponses)
    app.state.database = database
    app.state.today = today
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = _templates()
    counts = app.state.counts = CachedCounts(database)

    def render(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # The API answers in JSON; people get a page in French.
        if request.url.path.startswith(("/api/", "/feeds/", "/healthz", "/static/")):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        # Our own errors carry a French message; Starlette's carry the English status phrase.
        generic = exc.detail == HTTPStatus(exc.status_code).phrase
        message = "Page introuvable" if exc.status_code == 404 else "Erreur"
        response = render(request, "error.html", {"message": message if generic else exc.detail})
        response.status_code = exc.status_code
        response.headers.update(exc.headers or {})
        return response

    @app.get("/categories.css", include_in_schema=False)
    def categories_css() -> Response:
        # The categories' colours live in rules.toml; a stylesheet keeps them out of style
        # attributes, which the CSP refuses. A category the rules no longer know stays neutral.
        rules = f".hit {{ border-left-color: {NEUTRAL_COLOUR}; }}\n" + "".join(
            f".hit.cat-{category} {{ border-left-color: {category_colour(category)}; }}\n"
            for category in catalogue().ids
        )
        return Response(rules, media_type="text/css")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        page_request = read_page_request(request.query_params)
        hit_filter = page_request.hit_filter
        if "since" not in request.query_params and "until" not in request.query_params:
            hit_filter = replace(hit_filter, since=dt.date.today() - DEFAULT_PERIOD)
        # Counts first, each in its own session: a request never holds a connection while it
        # waits for the pool (or for another request's count) to give it a second one.
        by_department = counts.by_department(hit_filter)
        categories = counts.categories(hit_filter)
        with database.session() as db:
            latest = search_hits(db, replace(hit_filter, limit=LATEST_ON_HOME, offset=0))
            context = {
                "filter": hit_filter,
                "problems": page_request.problems,
                "map": shaded_map(by_department),
                "total": sum(by_department.values()),
                "counts": by_department,
                "categories": categories,
                "latest": [hit_to_json(h) for h in latest],
                "words": search_words(hit_filter.query),
                "links": _listing_links(hit_filter),
                "map_query": urlencode(filter_params(replace(hit_filter, department=None))),
            }
        return render(request, "home.html", context)

    def listing(request: Request, heading: str, **fixed: str) -> HTMLResponse:
        page_request = read_page_request(request.query_params, **fixed)
        hit_filter = page_request.hit_filter
        total = counts.total(hit_filter)
        with database.session() as db:
            found = [hit_to_json(h) for h in search_hits(db, hit_filter)]
            health = crawl_health(db, hit_filter.department) if "department" in fixed else None
        params = filter_params(hit_filter)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page_url = {
            "previous": _url(request.url.path, {**params, "page": page_request.page - 1})
            if page_request.page > 1
            else None,
            "next": _url(request.url.path, {**params, "page": page_request.page + 1})
            if page_request.page < pages
            else None,
        }
        context = {
            "heading": heading,
            "fixed": fixed,
            "filter": hit_filter,
            "problems": page_request.problems,
            "hits": found,
            "total": total,
            "page": page_request.page,
            "pages": pages,
            "page_url": page_url,
            "health": health,
            "categories": counts.categories(hit_filter),
            "words": search_words(hit_filter.query),
            "links": _listing_links(hit_filter),
        }
        return render(request, "hits.html", context)

    @app.get("/departements/{code}", response_class=HTMLResponse, include_in_schema=False)
    def department_page(request: Request, code: str) -> HTMLResponse:
        code = normalise_department(code)
        name = department_names().get(code)
        if name is None:
            raise HTTPException(404, "Département inconnu")
        return listing(request, f"{name} ({code})", department=code)

    @app.get("/categories/{category}", response_class=HTMLResponse, include_in_schema=False)
    def category_page(request: Request, category: str) -> HTMLResponse:
        with database.session() as db:
            known = db.scalar(select(Hit.id).where(Hit.category == category).limit(1))
        if category not in catalogue().ids and known is None:
            raise HTTPException(404, "Catégorie inconnue")
        return listing(request, category_label(category), category=category)

    @app.get("/recherche", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        return listing(request, "Recherche")

    @app.get("/en-ce-moment", response_class=HTMLResponse, include_in_schema=False)
    def current_page(request: Request) -> HTMLResponse:
        page_request = read_page_request(request.query_params)
        day = today()
        last = day + dt.timedelta(days=UPCOMING_DAYS)
        hit_filter = replace(
            page_request.hit_filter,
            since=None,
            until=None,
            active_from=day,
            active_until=last,
            order="start",
            limit=CURRENT_LIMIT,
            offset=0,
        )
        with database.session() as db:
            found = [hit_to_json(h) for h in search_hits(db, hit_filter)]
            by_department = count_by_department(db, hit_filter)
        in_force = [h for h in found if _in_force_on(h, day)]
        upcoming = [h for h in found if not _in_force_on(h, day)]
        context = {
            "filter": hit_filter,
            "problems": page_request.problems,
            "today": day,
            "last_day": last,
            "in_force": in_force,
            "upcoming": upcoming,
            "map": shaded_map(by_department),
            "categories": counts.categories(replace(hit_filter, category=None)),
            "words": [],
            "links": _listing_links(hit_filter),
            "calendar": _url("/feeds/periods.ics", filter_params(hit_filter)),
        }
        return render(request, "current.html", context)

    def delays(params: Mapping[str, str]) -> tuple[list[PublicationDelays], HitFilter, list[str]]:
        page_request = read_page_request(params)
        hit_filter = page_request.hit_filter
        if "since" not in params:
            hit_filter = replace(hit_filter, since=today() - DELAYS_PERIOD)
        with database.session() as db:
            rows = publication_delays(db, category=hit_filter.category, since=hit_filter.since)
        return rows, hit_filter, page_request.problems

    @app.get("/delais", response_class=HTMLResponse, include_in_schema=False)
    def delays_page(request: Request) -> HTMLResponse:
        rows, hit_filter, problems = delays(request.query_params)
        totals = PublicationDelays(
            code="",
            name="Toutes",
            orders=sum(r.orders for r in rows),
            after_start=sum(r.after_start for r in rows),
            under_a_day=sum(r.under_a_day for r in rows),
            median_lead_hours=None,
        )
        params = {"category": hit_filter.category, "since": hit_filter.since}
        context = {
            "filter": hit_filter,
            "problems": problems,
            "rows": rows,
            "totals": totals,
            "categories": counts.categories(replace(hit_filter, category=None)),
            "csv_url": _url("/delais.csv", params),
        }
        return render(request, "delais.html", context)

    @app.get("/delais.csv", include_in_schema=False)
    def delays_csv(request: Request) -> Response:
        rows, _, _ = delays(request.query_params)
        return Response(
            _delay_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="attrap-delais.csv"'},
        )

    @app.get("/sante", response_class=HTMLResponse, include_in_schema=False)
    def health_page(request: Request) -> HTMLResponse:
        with database.session() as db:
            rows = health_table(db)
        counts = Counter(row.state for row in rows)
        context = {"rows": rows, "counts": counts, "labels": STATE_LABELS}
        return render(request, "sante.html", context)

    return app
