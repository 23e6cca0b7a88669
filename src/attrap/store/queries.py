"""Read side: the hit search shared by the CLI, the web page, the API and the feeds, and the counts
and lists behind ``attrap status`` and ``/sante``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, column, exists, func, literal_column, select, table
from sqlalchemy.orm import Session, aliased, selectinload

from attrap.store.models import (
    Act,
    ActFacts,
    ActPeriod,
    Administration,
    CrawlRun,
    Document,
    Hit,
    Notification,
)


@dataclass(frozen=True, kw_only=True)
class HitFilter:
    department: str | None = None
    category: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    query: str | None = None
    # Hits stored at or after this moment (what one run found).
    found_since: dt.datetime | None = None
    # Acts with a period in force on one of these (local) days; ``active_on`` is both at once.
    active_from: dt.date | None = None
    active_until: dt.date | None = None
    # True: published after the authorisation had begun; False: before it.
    late: bool | None = None
    # "newest" first (discovery), or "start": the soonest authorisation first.
    order: str = "newest"
    limit: int = 100
    offset: int = 0

    @property
    def active_on(self) -> dt.date | None:
        return self.active_from if self.active_from == self.active_until else None


def _hit_date() -> Any:
    # The date a hit is about: the act's signature, else the bulletin's publication, else discovery.
    return func.coalesce(Act.signed_on, Document.published_on, func.date(Hit.first_seen_at))


def normalise_department(code: str) -> str:
    """A département code as stored: "2a" → "2A", "1" → "01"."""
    code = code.strip().upper()
    return code.zfill(2) if code.isdigit() else code


def search_words(query: str | None) -> list[str]:
    """The words of a free-text query; punctuation and search-syntax characters are dropped."""
    return re.findall(r"\w+", query or "")


# Above this many full-text matches, SQLite finds a page of newest hits faster by walking the
# first_seen_at index and probing the matches than by fetching and sorting every match.
FTS_WALK_THRESHOLD = 2000


def _fts_match(words: list[str]) -> ColumnElement[bool]:
    # FTS5 folds case and accents; quoting keeps user input from being read as FTS5 syntax. A
    # prefix query stands in for stemming, except on short words ("de", "la", "L"), whose
    # prefixes would match half the vocabulary.
    terms = [f'"{word}"*' if len(word) >= 3 else f'"{word}"' for word in words]
    return literal_column("hits_fts").op("MATCH")(" ".join(terms))


def _text_match(session: Session, words: list[str], *, newest_page: bool) -> ColumnElement[bool]:
    """Every word in the act's title or the hit's snippet, through migration 0005's index."""
    if _dialect(session) == "postgresql":
        # French stemming (and accent folding) makes plurals and inflections match.
        query = func.plainto_tsquery(literal_column("'attrap_french'"), " ".join(words))
        return literal_column("hits.search_vector").op("@@")(query)
    fts = table("hits_fts", column("rowid"))
    matching = select(fts.c.rowid).where(_fts_match(words))
    hit_id: Any = Hit.id
    if newest_page:
        found = session.scalar(select(func.count()).select_from(fts).where(_fts_match(words)))
        if (found or 0) > FTS_WALK_THRESHOLD:
            # Unary plus keeps SQLite from using the primary key for this term.
            hit_id = literal_column("+hits.id")
    return hit_id.in_(matching)


def _filtered(
    statement: Select[Any],
    hit_filter: HitFilter,
    session: Session,
    *,
    newest_page: bool = False,
) -> Select[Any]:
    """``statement`` restricted by ``hit_filter``; joins only the tables a criterion needs, so
    that the planner can answer from the hits' own indexes."""
    dated = bool(hit_filter.since or hit_filter.until)
    if dated:
        statement = statement.join(Document, Hit.document_id == Document.id).join(
            Act, Hit.act_id == Act.id
        )
    if hit_filter.department:
        statement = statement.where(Hit.department == normalise_department(hit_filter.department))
    if hit_filter.category:
        statement = statement.where(Hit.category == hit_filter.category)
    if hit_filter.found_since:
        statement = statement.where(Hit.first_seen_at >= hit_filter.found_since)
    if hit_filter.since:
        statement = statement.where(_hit_date() >= hit_filter.since)
    if hit_filter.until:
        statement = statement.where(_hit_date() <= hit_filter.until)
    if words := search_words(hit_filter.query):
        statement = statement.where(_text_match(session, words, newest_page=newest_page))
    if hit_filter.active_from or hit_filter.active_until:
        in_force = exists().where(ActPeriod.act_id == Hit.act_id)
        if hit_filter.active_until:
            in_force = in_force.where(ActPeriod.first_day <= hit_filter.active_until)
        if hit_filter.active_from:
            in_force = in_force.where(ActPeriod.last_day >= hit_filter.active_from)
        statement = statement.where(in_force)
    if hit_filter.late is not None:
        # An alias: ordering by start joins ActFacts to the outer query, which would otherwise
        # swallow this subquery's only table by correlation.
        facts = aliased(ActFacts)
        statement = statement.where(
            exists().where(facts.act_id == Hit.act_id, facts.late.is_(hit_filter.late))
        )
    return statement


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def search_hits(session: Session, hit_filter: HitFilter) -> list[Hit]:
    statement = _filtered(select(Hit), hit_filter, session, newest_page=True)
    if hit_filter.order == "start":
        statement = statement.outerjoin(ActFacts, ActFacts.act_id == Hit.act_id).order_by(
            ActFacts.first_start.is_(None), ActFacts.first_start, Hit.id
        )
    else:
        statement = statement.order_by(Hit.first_seen_at.desc(), Hit.id.desc())
    act = selectinload(Hit.act)
    statement = (
        # Loaded by separate queries for the page's hits only, not joined to every candidate.
        statement.options(
            act.selectinload(Act.document).selectinload(Document.administration),
            act.selectinload(Act.facts),
        )
        .limit(hit_filter.limit)
        .offset(hit_filter.offset)
    )
    return list(session.scalars(statement))


def count_hits(session: Session, hit_filter: HitFilter) -> int:
    # count(*), not count(hits.id): PostgreSQL then counts from an index alone (the
    # (department, first_seen_at) one: 12 ms instead of 420 ms for 60,000 hits).
    statement = select(func.count()).select_from(Hit)
    return session.scalar(_filtered(statement, hit_filter, session)) or 0


def _count_by(session: Session, key: Any, hit_filter: HitFilter) -> dict[str, int]:
    statement = _filtered(select(key, func.count()).select_from(Hit), hit_filter, session)
    rows = session.execute(statement.where(key.is_not(None)).group_by(key))
    return {name: count for name, count in rows}


def count_by_department(session: Session, hit_filter: HitFilter) -> dict[str, int]:
    """Hits per département under the filter's other criteria (the home page's map)."""
    unfiltered = dataclasses.replace(hit_filter, department=None)
    key: Any = Hit.department
    if _dialect(session) == "sqlite":
        # Unary plus keeps SQLite from walking the (department, first_seen_at) index to avoid
        # sorting the groups: that reads the hits in random order (5× slower on a million).
        key = literal_column("+hits.department")
    return _count_by(session, key, unfiltered)


def count_by_category(session: Session, hit_filter: HitFilter) -> dict[str, int]:
    """Hits per category under the filter's other criteria."""
    return _count_by(session, Hit.category, dataclasses.replace(hit_filter, category=None))


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
        "first_seen_at": _utc(hit.first_seen_at),
        "facts": facts_to_json(act.facts, administration.timezone),
    }


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def facts_to_json(row: ActFacts | None, timezone: str) -> dict[str, Any] | None:
    """What the act authorises (``attrap.facts``), with its publication lead time; ``timezone``
    is the administration's, that of the periods' local times."""
    if row is None:
        return None
    data = dict(row.data)
    data["timezone"] = timezone
    data["publication"] = (
        {
            "at": _utc(row.published_at),
            "basis": row.publication_basis,
            "lead_hours": round(row.lead_seconds / 3600, 1)
            if row.lead_seconds is not None
            else None,
            "late": row.late,
        }
        if row.published_at
        else None
    )
    data["version"] = row.version
    return data


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
    "period_start",
    "period_end",
    "periods",
    "communes",
    "perimeter",
    "operator",
    "max_cameras",
    "purposes",
    "event",
    "published_at",
    "lead_hours",
    "late",
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
        **_facts_csv(hit.get("facts")),
    }


def _facts_csv(facts: dict[str, Any] | None) -> dict[str, Any]:
    if not facts:
        return {}
    periods = facts["periods"]
    publication = facts.get("publication") or {}
    operator = facts.get("operator")
    return {
        "period_start": periods[0]["start"] if periods else None,
        "period_end": max((p["end"] for p in periods if p["end"]), default=None),
        "periods": "; ".join(f"{p['start']}/{p['end'] or ''}" for p in periods),
        "communes": "; ".join(
            f"{c['name']} ({c['insee']})" if c["insee"] else c["name"] for c in facts["communes"]
        ),
        "perimeter": facts.get("perimeter"),
        "operator": operator["name"] if operator else None,
        "max_cameras": facts.get("max_cameras"),
        "purposes": "; ".join(facts["purposes"]),
        "event": facts.get("event"),
        "published_at": publication.get("at"),
        "lead_hours": publication.get("lead_hours"),
        "late": publication.get("late"),
    }


@dataclass(frozen=True)
class Status:
    documents: dict[str, int]
    hits: dict[str, int]
    notifications: dict[str, dict[str, int]]
    last_runs: list[CrawlRun]


def status(session: Session) -> Status:
    documents: dict[str, int] = {
        state: count
        for state, count in session.execute(
            select(Document.status, func.count()).group_by(Document.status)
        )
    }
    hits: dict[str, int] = {
        category: count
        for category, count in session.execute(
            select(Hit.category, func.count()).group_by(Hit.category)
        )
    }
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


@dataclass(frozen=True)
class FailedNotification:
    channel: str
    hit_id: int
    attempts: int
    last_error: str | None
    act_title: str


def failed_notifications(session: Session, limit: int = 20) -> list[FailedNotification]:
    """The most recent failed notifications with their last error, for ``attrap status``."""
    rows = session.execute(
        select(
            Notification.channel,
            Notification.hit_id,
            Notification.attempts,
            Notification.last_error,
            Act.title,
        )
        .join(Notification.hit)
        .join(Hit.act)
        .where(Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()
    return [FailedNotification(*row) for row in rows]


@dataclass(frozen=True)
class CrawlHealth:
    """How an administration's crawling goes: its last success and its latest run."""

    code: str
    name: str
    department: str | None
    enabled: bool
    last_success: dt.datetime | None
    last_run: CrawlRun | None


def crawl_health(session: Session, department: str | None = None) -> list[CrawlHealth]:
    """Every administration (or those of one département) with its crawl record."""
    succeeded = (
        select(CrawlRun.administration_code, func.max(CrawlRun.finished_at).label("finished_at"))
        .where(CrawlRun.finished_at.is_not(None), CrawlRun.error.is_(None))
        .group_by(CrawlRun.administration_code)
        .subquery()
    )
    latest = (
        select(CrawlRun.administration_code, func.max(CrawlRun.id).label("id"))
        .group_by(CrawlRun.administration_code)
        .subquery()
    )
    statement = (
        select(Administration, succeeded.c.finished_at, CrawlRun)
        .outerjoin(succeeded, succeeded.c.administration_code == Administration.code)
        .outerjoin(latest, latest.c.administration_code == Administration.code)
        .outerjoin(CrawlRun, CrawlRun.id == latest.c.id)
        .order_by(Administration.code)
    )
    if department:
        statement = statement.where(Administration.department == normalise_department(department))
    return [
        CrawlHealth(
            code=administration.code,
            name=administration.name,
            department=administration.department,
            enabled=administration.enabled,
            last_success=last_success,
            last_run=run,
        )
        for administration, last_success, run in session.execute(statement)
    ]


@dataclass(frozen=True)
class PublicationDelays:
    """How long before their start an administration's orders could be read."""

    code: str
    name: str
    orders: int  # orders whose lead time is known
    after_start: int  # published after the authorisation had begun
    under_a_day: int  # published less than 24 hours before it began
    median_lead_hours: float | None

    @property
    def in_time(self) -> int:
        return self.orders - self.after_start - self.under_a_day

    def share(self, count: int) -> float:
        return count / self.orders if self.orders else 0.0


# The line between « in time » and « short notice » (also facts.timing.SHORT_NOTICE).
SHORT_NOTICE_SECONDS = 24 * 3600


def publication_delays(
    session: Session, *, category: str | None = None, since: dt.date | None = None
) -> list[PublicationDelays]:
    """Per administration, the orders (acts with a hit of ``category``, any facts category by
    default) whose start and publication are known, published since ``since``; the worst
    record first."""
    hit_of_act = select(Hit.id).where(Hit.act_id == ActFacts.act_id)
    if category:
        hit_of_act = hit_of_act.where(Hit.category == category)
    statement = (
        select(Administration.code, Administration.name, ActFacts.lead_seconds)
        .join(Act, Act.id == ActFacts.act_id)
        .join(Document, Document.id == Act.document_id)
        .join(Administration, Administration.code == Document.administration_code)
        .where(ActFacts.lead_seconds.is_not(None), hit_of_act.exists())
    )
    if since:
        statement = statement.where(
            ActFacts.first_start >= dt.datetime.combine(since, dt.time(), dt.UTC)
        )
    leads: dict[tuple[str, str], list[int]] = {}
    for code, name, lead in session.execute(statement):
        leads.setdefault((code, name), []).append(lead)
    rows = []
    for (code, name), values in leads.items():
        values.sort()
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        rows.append(
            PublicationDelays(
                code=code,
                name=name,
                orders=len(values),
                after_start=sum(1 for v in values if v < 0),
                under_a_day=sum(1 for v in values if 0 <= v < SHORT_NOTICE_SECONDS),
                median_lead_hours=round(median / 3600, 1),
            )
        )
    return sorted(rows, key=lambda r: (-r.share(r.after_start + r.under_a_day), -r.orders, r.code))
