"""Read side: the hit search shared by the CLI, the web page, the API and the feeds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from attrap.store.models import Act, Administration, CrawlRun, Document, Hit, Notification


@dataclass(frozen=True)
class HitFilter:
    department: str | None = None
    category: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    query: str | None = None
    limit: int = 100
    offset: int = 0


def _hit_date() -> Any:
    # The date a hit is about: the act's signature, else the bulletin's publication, else discovery.
    return func.coalesce(Act.signed_on, Document.published_on, func.date(Hit.first_seen_at))


def _filtered(statement: Select[Any], hit_filter: HitFilter) -> Select[Any]:
    statement = (
        statement.join(Hit.act)
        .join(Document, Hit.document_id == Document.id)
        .join(Administration, Document.administration_code == Administration.code)
    )
    if hit_filter.department:
        statement = statement.where(Administration.department == hit_filter.department)
    if hit_filter.category:
        statement = statement.where(Hit.category == hit_filter.category)
    if hit_filter.since:
        statement = statement.where(_hit_date() >= hit_filter.since)
    if hit_filter.until:
        statement = statement.where(_hit_date() <= hit_filter.until)
    if hit_filter.query:
        pattern = f"%{hit_filter.query}%"
        statement = statement.where(or_(Act.title.ilike(pattern), Hit.snippet.ilike(pattern)))
    return statement


def search_hits(session: Session, hit_filter: HitFilter) -> list[Hit]:
    statement = (
        _filtered(select(Hit), hit_filter)
        .options(joinedload(Hit.act).joinedload(Act.document).joinedload(Document.administration))
        .order_by(Hit.first_seen_at.desc(), Hit.id.desc())
        .limit(hit_filter.limit)
        .offset(hit_filter.offset)
    )
    return list(session.scalars(statement))


def count_hits(session: Session, hit_filter: HitFilter) -> int:
    return session.scalar(_filtered(select(func.count(Hit.id)), hit_filter)) or 0


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def hit_to_json(hit: Hit) -> dict[str, Any]:
    """The JSON hit of DESIGN.md, shared by the CLI and the API."""
    act = hit.act
    document = act.document
    administration = document.administration
    return {
        "id": hit.id,
        "category": hit.category,
        "score": round(hit.score, 3),
        "administration": {"code": administration.code, "name": administration.name},
        "department": administration.department,
        "act": {
            "number": act.number,
            "title": act.title,
            "signed_on": _iso(act.signed_on),
            "page_start": act.page_start,
            "page_end": act.page_end,
        },
        "document": {
            "url": document.url,
            "title": document.title,
            "published_on": _iso(document.published_on),
            "sha256": document.sha256,
        },
        "page": hit.page,
        "link": f"{document.url}#page={hit.page}",
        "terms": list(hit.terms),
        "snippet": hit.snippet,
        "first_seen_at": hit.first_seen_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


HIT_CSV_FIELDS = [
    "id",
    "department",
    "category",
    "score",
    "signed_on",
    "act_number",
    "act_title",
    "link",
    "snippet",
    "first_seen_at",
]


def hit_csv_row(hit: dict[str, Any]) -> dict[str, Any]:
    """A JSON hit flattened to the columns of a CSV export."""
    act = hit["act"]
    return {
        "id": hit["id"],
        "department": hit["department"],
        "category": hit["category"],
        "score": hit["score"],
        "signed_on": act["signed_on"],
        "act_number": act["number"],
        "act_title": act["title"],
        "link": hit["link"],
        "snippet": hit["snippet"],
        "first_seen_at": hit["first_seen_at"],
    }


@dataclass(frozen=True)
class Status:
    documents: dict[str, int]
    hits: dict[str, int]
    notifications: dict[str, dict[str, int]]
    last_runs: list[CrawlRun]


def status(session: Session) -> Status:
    documents = dict(
        session.execute(select(Document.status, func.count()).group_by(Document.status)).all()
    )
    hits = dict(session.execute(select(Hit.category, func.count()).group_by(Hit.category)).all())
    notifications: dict[str, dict[str, int]] = {}
    for channel, state, count in session.execute(
        select(Notification.channel, Notification.status, func.count()).group_by(
            Notification.channel, Notification.status
        )
    ):
        notifications.setdefault(channel, {})[state] = count
    latest = (
        select(CrawlRun.administration_code, func.max(CrawlRun.id).label("id"))
        .group_by(CrawlRun.administration_code)
        .subquery()
    )
    last_runs = list(
        session.scalars(
            select(CrawlRun)
            .join(latest, CrawlRun.id == latest.c.id)
            .order_by(CrawlRun.administration_code)
        )
    )
    return Status(documents, hits, notifications, last_runs)
