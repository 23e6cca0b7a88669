"""SQLAlchemy 2 models. Table and column names are part of the contract (the shared design notes,
DESIGN.md § Storage, outside this repository).

Schema changes go through Alembic (``alembic/versions``); ``tests/test_store.py``
(``test_migrations_match_models``) fails when the models and the migrations disagree.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC datetimes")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Full-text search objects created by raw SQL in migration 0005 (FTS5 on SQLite, tsvector on
# PostgreSQL): no model describes them, so schema comparisons must leave them out.
SEARCH_INDEX_TABLE_PREFIX = "hits_fts"
SEARCH_INDEX_NAMES = {"search_vector", "ix_hits_search_vector"}


def described_by_models(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic ``include_object`` hook: False for the search objects that no model describes."""
    if type_ == "table" and name and name.startswith(SEARCH_INDEX_TABLE_PREFIX):
        return False
    return name not in SEARCH_INDEX_NAMES


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Administration(Base):
    __tablename__ = "administrations"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # The département a hit is filed under (Préfecture de police → 75); None for regions.
    department: Mapped[str | None] = mapped_column(String(4), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    engine: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    documents: Mapped[list[Document]] = relationship(back_populates="administration")


class DocumentStatus(StrEnum):
    """Where a document stands: discovered → fetched → extracted → matched, or failed (see
    ``Document.error``), or duplicate (same bytes as ``duplicate_of``)."""

    DISCOVERED = "discovered"
    FETCHED = "fetched"
    EXTRACTED = "extracted"
    MATCHED = "matched"
    FAILED = "failed"
    DUPLICATE = "duplicate"


# The database refuses any other status (migration 0013: a CHECK constraint on PostgreSQL,
# triggers on SQLite, which cannot add a constraint to an existing table).
DOCUMENT_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s}'" for s in DocumentStatus))


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index(None, "administration_code", "published_on"),
        CheckConstraint(DOCUMENT_STATUS_CHECK, name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    administration_code: Mapped[str] = mapped_column(ForeignKey("administrations.code"))
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # The page whose link yielded it: an incremental crawl does not request it again.
    source_url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DocumentStatus] = mapped_column(
        String(16), default=DocumentStatus.DISCOVERED, index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    # Runs that tried to download it; a failing download is retried until crawl.max_download_runs.
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Processing attempts started; one killed this many times (processing.max_attempts) is failed.
    process_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Same bytes already stored under another URL: that document is the one processed.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )

    administration: Mapped[Administration] = relationship(back_populates="documents")
    pages: Mapped[list[Page]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Page.number"
    )
    acts: Mapped[list[Act]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Act.page_start"
    )


class Page(Base):
    __tablename__ = "pages"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))  # text-layer | ocr | failed

    document: Mapped[Document] = relationship(back_populates="pages")


class Act(Base):
    __tablename__ = "acts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="acts")
    hits: Mapped[list[Hit]] = relationship(back_populates="act", cascade="all, delete-orphan")
    facts: Mapped[ActFacts | None] = relationship(
        back_populates="act", cascade="all, delete-orphan", uselist=False
    )
    periods: Mapped[list[ActPeriod]] = relationship(
        back_populates="act", cascade="all, delete-orphan", order_by="ActPeriod.starts_at"
    )


class ActFacts(Base):
    """What an act with a hit in a facts category authorises (``attrap.facts``)."""

    __tablename__ = "act_facts"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[str] = mapped_column(String(16))
    # ``Facts.to_json()``: periods in local time, communes, operator, cameras, evidence …
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    last_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the order could first be read (``facts.timing``), and how long before its start.
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publication_basis: Mapped[str | None] = mapped_column(String(16))
    lead_seconds: Mapped[int | None] = mapped_column(Integer)
    # Published after the authorisation had begun.
    late: Mapped[bool | None] = mapped_column(Boolean, index=True)

    act: Mapped[Act] = relationship(back_populates="facts")


class ActPeriod(Base):
    """One period of an act, for « in force on » queries and the calendar feed."""

    __tablename__ = "act_periods"
    __table_args__ = (Index(None, "last_day", "first_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Local calendar days it touches, inclusive (a period ending at midnight ends the day before).
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)

    act: Mapped[Act] = relationship(back_populates="periods")


class Hit(Base):
    __tablename__ = "hits"
    __table_args__ = (
        UniqueConstraint("act_id", "category"),
        Index(None, "category", "first_seen_at"),
        # A département's newest hits: its documents' hits, sorted without reading their rows.
        Index(None, "document_id", "first_seen_at"),
        # The département page and API: one index range, newest first, no join.
        Index(None, "department", "first_seen_at"),
        # A département's counts per category, and its hits of one category (migration 0014).
        Index(None, "department", "category", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(64))
    score: Mapped[float]
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    snippet: Mapped[str] = mapped_column(Text, default="")
    page: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    rules_version: Mapped[str] = mapped_column(String(32))
    # Copied from the document's administration when the hit is stored (see _file_department):
    # the most frequent query filters on it, and an administration's département never changes.
    department: Mapped[str | None] = mapped_column(String(4))

    act: Mapped[Act] = relationship(back_populates="hits")
    document: Mapped[Document] = relationship()
    notifications: Mapped[list[Notification]] = relationship(
        back_populates="hit", cascade="all, delete-orphan"
    )


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("hit_id", "channel"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    # pending → sent | failed (after max attempts) | skipped (muted by --no-notify / since)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(256))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A dispatcher's lease on the row: others leave it alone until ``claimed_until`` passes, so a
    # crashed dispatcher's rows are retried without two live dispatchers sending the same one.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Rows delivered together as one digest share this key, fixed before the first attempt so a
    # retry sends the same grouping under the same idempotency key.
    digest_key: Mapped[str | None] = mapped_column(String(64), index=True)

    hit: Mapped[Hit] = relationship(back_populates="notifications")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    __table_args__ = (Index(None, "administration_code", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    administration_code: Mapped[str] = mapped_column(ForeignKey("administrations.code"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    found: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # The run looked for bulletins published since then: a finished run without error tells how
    # far back the administration's bulletins are all known.
    not_before: Mapped[dt.date | None] = mapped_column(Date)
    # None while running or when the run succeeded; else what stopped it.
    error: Mapped[str | None] = mapped_column(Text)
    # Bulletins the listing showed, new or already known: zero where earlier runs saw some means
    # the site changed under the adapter (health). None for a quick check that left out the
    # pages of past periods (it does not know).
    listed: Mapped[int | None] = mapped_column(Integer)
    # What the first start page answered: the HTTP status when it failed, the URL it redirected
    # to when that is another page (health: "moved" or "gone").
    start_status: Mapped[int | None] = mapped_column(Integer)
    start_redirect: Mapped[str | None] = mapped_column(String(2048))


class HealthIncident(Base):
    """A problem of one administration's crawls, open until a later run no longer shows it."""

    __tablename__ = "health_incidents"
    __table_args__ = (Index(None, "administration_code", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    administration_code: Mapped[str] = mapped_column(ForeignKey("administrations.code"))
    # failing | silent | late | moved
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    alerts: Mapped[list[HealthAlert]] = relationship(
        back_populates="incident", cascade="all, delete-orphan"
    )


class HealthAlert(Base):
    """One maintainer message about an incident (its opening or its recovery) on one channel."""

    __tablename__ = "health_alerts"
    __table_args__ = (
        UniqueConstraint("incident_id", "event", "channel"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("health_incidents.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))  # opened | resolved
    channel: Mapped[str] = mapped_column(String(64))
    # pending → sent | failed (after the channel's max attempts)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(256))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    incident: Mapped[HealthIncident] = relationship(back_populates="alerts")


@event.listens_for(Hit, "before_insert")
def _file_department(_mapper: Mapper[Hit], connection: Connection, hit: Hit) -> None:
    if hit.department is None:
        hit.department = connection.scalar(
            select(Administration.department)
            .join(Document, Document.administration_code == Administration.code)
            .where(Document.id == hit.document_id)
        )
