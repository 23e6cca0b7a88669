"""JSON API, CSV export, Atom feeds and health check; documented at ``/api/openapi.json``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from attrap.store.queries import (
    HIT_CSV_FIELDS,
    HitFilter,
    count_hits,
    hit_csv_row,
    hit_to_json,
    search_hits,
)
from attrap.web.feeds import atom_feed

MAX_LIMIT = 10_000

router = APIRouter()


def session(request: Request) -> Iterator[Session]:
    with request.app.state.database.session() as opened:
        yield opened


SessionDep = Annotated[Session, Depends(session)]


def hit_filter(
    department: Annotated[
        str | None, Query(description="Code du département : 13, 2A, 974…")
    ] = None,
    category: Annotated[
        str | None,
        Query(description="drone, vsa, videoprotection, cameras-individuelles, …"),
    ] = None,
    since: Annotated[dt.date | None, Query(description="Actes datés de ce jour ou après.")] = None,
    until: Annotated[dt.date | None, Query(description="Actes datés de ce jour ou avant.")] = None,
    query: Annotated[
        str | None, Query(description="Mots cherchés dans les titres des actes et les extraits.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HitFilter:
    return HitFilter(
        department=department,
        category=category,
        since=since,
        until=until,
        query=query,
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


class HitOut(BaseModel):
    """A hit as DESIGN.md describes it, the same as ``attrap hits --format json``."""

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
    db: SessionDep, hits_filter: FilterDep, format: Literal["json", "csv"] = "json"
) -> Response:
    found = [hit_to_json(h) for h in search_hits(db, hits_filter)]
    if format == "csv":
        return csv_response(found, "attrap-detections.csv")
    validated = [HitOut.model_validate(h).model_dump(mode="json") for h in found]
    return JSONResponse(validated, headers={"X-Total-Count": str(count_hits(db, hits_filter))})


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


@router.get("/healthz", summary="État du service et de sa base de données")
def healthz(request: Request) -> JSONResponse:
    try:
        with request.app.state.database.session() as db:
            db.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "erreur", "database": str(exc)[:300]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
