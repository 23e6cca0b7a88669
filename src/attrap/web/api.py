"""JSON API, CSV export, Atom feeds and health check; documented at ``/api/openapi.json``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from attrap.store.queries import (
    HIT_CSV_FIELDS,
    HitFilter,
    hit_csv_row,
    hit_to_json,
    normalise_department,
    search_hits,
)
from attrap.web.calendar import periods_calendar
from attrap.web.feeds import atom_feed, feed_title

MAX_LIMIT = 10_000
# Far past any real count, and far from PostgreSQL's bigint: a larger offset is a 422, not a 500.
MAX_OFFSET = 10_000_000
MAX_QUERY_LENGTH = 200


def _iso_date(value: object) -> object:
    # Pydantic would also read "0" or "1700000000" as a Unix time: only AAAA-MM-JJ is a date here.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("date attendue au format AAAA-MM-JJ")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# No control characters: PostgreSQL refuses NUL in a string, and no stored value has any.
PRINTABLE = r"^[^\x00-\x1f]*$"

router = APIRouter()


def session(request: Request) -> Iterator[Session]:
    with request.app.state.database.session() as opened:
        yield opened


SessionDep = Annotated[Session, Depends(session)]


def hit_filter(
    department: Annotated[
        str | None,
        Query(description="Code du département : 13, 2A, 974…", pattern=r"^[0-9A-Za-z]{1,3}$"),
    ] = None,
    category: Annotated[
        str | None,
        Query(
            description="drone, vsa, videoprotection, cameras-individuelles, …",
            pattern=r"^[a-z0-9-]{1,60}$",
        ),
    ] = None,
    since: Annotated[IsoDate | None, Query(description="Actes datés de ce jour ou après.")] = None,
    until: Annotated[IsoDate | None, Query(description="Actes datés de ce jour ou avant.")] = None,
    query: Annotated[
        str | None,
        Query(
            description="Mots cherchés dans les titres des actes et les extraits.",
            max_length=MAX_QUERY_LENGTH,
            pattern=PRINTABLE,
        ),
    ] = None,
    active_on: Annotated[
        IsoDate | None, Query(description="Autorisations en vigueur ce jour-là (heure locale).")
    ] = None,
    late: Annotated[
        bool | None,
        Query(description="true : publiées après le début de l'autorisation ; false : avant."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HitFilter:
    return HitFilter(
        department=normalise_department(department) if department else None,
        category=category,
        since=since,
        until=until,
        query=query,
        active_from=active_on,
        active_until=active_on,
        late=late,
        limit=limit,
        offset=offset,
    )


FilterDep = Annotated[HitFilter, Depends(hit_filter)]


class AdministrationOut(BaseModel):
    code: str
    name: str


class ActOut(BaseModel):
    number: str | None
    title: str
    signed_on: dt.date | None
    page_start: int
    page_end: int


class DocumentOut(BaseModel):
    url: str
    title: str
    published_on: dt.date | None
    sha256: str | None


class PeriodOut(BaseModel):
    start: str = Field(description="ISO 8601, heure locale de l'administration avec son décalage.")
    end: str | None
    evidence: str = Field(description="La phrase de l'acte d'où la période est lue.")


class CommuneOut(BaseModel):
    name: str
    insee: str | None = Field(description="Code INSEE, quand la commune est du territoire.")


class OperatorOut(BaseModel):
    name: str = Field(description="« DIPN du Rhône », « RATP », « Ville de Cannes »…")
    kind: str = Field(description="police-nationale, gendarmerie, police-aux-frontieres, …")


class PublicationOut(BaseModel):
    at: str = Field(description="Moment où l'acte a pu être lu pour la première fois, UTC.")
    basis: str = Field(description="first_seen_at (vu par attrap) ou published_on (date seule).")
    lead_hours: float | None = Field(description="Début de l'autorisation moins publication.")
    late: bool | None = Field(description="Publié après le début de l'autorisation.")


class FactsOut(BaseModel):
    """Ce que l'acte autorise ; un champ que l'acte ne donne pas est nul, jamais deviné."""

    periods: list[PeriodOut]
    communes: list[CommuneOut]
    perimeter: str | None
    operator: OperatorOut | None
    max_cameras: int | None
    max_aircraft: int | None
    purposes: list[str] = Field(description="Finalités (CSI L. 242-5) ou événements VSA.")
    event: str | None
    evidence: dict[str, str] = Field(description="Champ → phrase de l'acte.")
    publication: PublicationOut | None
    timezone: str = Field(description="Fuseau de l'administration : Europe/Paris, Indian/Reunion…")
    version: str
    error: str | None = None


class HitOut(BaseModel):
    """A hit as the shared DESIGN.md describes it, the same as ``attrap hits --format json``."""

    id: int
    category: str
    score: float
    administration: AdministrationOut
    department: str | None
    act: ActOut
    document: DocumentOut
    page: int
    link: str = Field(description="Le PDF ouvert à la page de l'acte (#page=N).")
    terms: list[str]
    snippet: str
    first_seen_at: str = Field(description="Première détection, UTC, ISO 8601.")
    facts: FactsOut | None = Field(description="Ce que dit l'acte (drones, VSA, …), sinon nul.")


def csv_response(hits: list[dict[str, object]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HIT_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(hit_csv_row(h) for h in hits)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/api/hits",
    response_model=list[HitOut],
    summary="Détections, les plus récentes d'abord",
    description="Mêmes filtres que `attrap hits`. Le nombre total de résultats est dans "
    "l'en-tête `X-Total-Count`. `format=csv` renvoie un fichier CSV.",
    responses={200: {"content": {"text/csv": {}}}},
)
def api_hits(
    request: Request,
    db: SessionDep,
    hits_filter: FilterDep,
    format: Literal["json", "csv"] = "json",
) -> Response:
    if format == "csv":
        found = [hit_to_json(h) for h in search_hits(db, hits_filter)]
        return csv_response(found, "attrap-detections.csv")
    # The total comes from the application's count cache, like the pages', and before ``db``
    # has taken a connection: a request holding one must not wait for a second.
    total = request.app.state.counts.total(hits_filter)
    found = [hit_to_json(h) for h in search_hits(db, hits_filter)]
    validated = [HitOut.model_validate(h).model_dump(mode="json") for h in found]
    return JSONResponse(validated, headers={"X-Total-Count": str(total)})


@router.get(
    "/feeds/hits.atom",
    summary="Flux Atom des détections",
    description="Mêmes filtres que `/api/hits` : un flux par département et/ou catégorie.",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def feed_hits(request: Request, db: SessionDep, hits_filter: FilterDep) -> Response:
    found = [hit_to_json(h) for h in search_hits(db, hits_filter)]
    body = atom_feed(found, hits_filter, feed_url=str(request.url), site_url=str(request.base_url))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


# The calendar reaches back a year by default: past orders stay in the calendars that show them.
CALENDAR_PAST = dt.timedelta(days=365)


@router.get(
    "/feeds/periods.ics",
    summary="Calendrier iCalendar des périodes autorisées",
    description="Un événement par période d'autorisation, dans le fuseau de l'administration. "
    "Mêmes filtres que `/api/hits` (un calendrier par département et/ou catégorie) ; sans "
    "`active_on`, les autorisations en vigueur depuis un an.",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def feed_periods(request: Request, db: SessionDep, hits_filter: FilterDep) -> Response:
    if hits_filter.active_from is None:
        hits_filter = replace(hits_filter, active_from=request.app.state.today() - CALENDAR_PAST)
    found = [hit_to_json(h) for h in search_hits(db, replace(hits_filter, order="start"))]
    body = periods_calendar(found, name=feed_title(hits_filter))
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get("/healthz", summary="État du service et de sa base de données")
def healthz(request: Request) -> JSONResponse:
    try:
        with request.app.state.database.session() as db:
            db.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "erreur", "database": str(exc)[:300]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
