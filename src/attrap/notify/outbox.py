"""The persistent outbox: one ``notifications`` row per (hit, channel), delivered exactly once.

- :func:`enqueue` (called by the pipeline when hits are first stored) writes the rows; the
  unique (hit_id, channel) constraint makes a second enqueue of the same hit a no-op.
- :func:`dispatch` delivers what is due. Each channel runs in its own thread, so a slow or
  failing channel does not hold up the others. A dispatcher first *claims* the due rows of a
  channel with one UPDATE (a lease: ``claimed_by``/``claimed_until``), so two dispatchers on the
  same database never hold the same row; a crashed dispatcher's rows are picked up once its lease
  expires. Claiming all due rows of a channel in one statement (rows locked in id order on
  PostgreSQL, writes serialised on SQLite) also keeps a digest's rows together, which SKIP LOCKED
  would not.
- Bursts: when more than ``digest_threshold`` rows of a channel are due and not yet grouped, they
  are grouped under a ``digest_key`` stored *before* the first attempt, so retries resend the same
  digest under the same idempotency key.
- Failures: each failed attempt schedules the next one with exponential backoff, up to
  ``max_attempts``, then the row is ``failed`` with its last error (``attrap status`` lists them).
  A transient failure or a rate limit pauses the rest of that channel's rows instead of hammering
  a remote that is down; a rate limit is not counted as an attempt.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session, aliased, joinedload

from attrap.config import ChannelSettings, Settings
from attrap.matching.categories import catalogue
from attrap.notify import registry
from attrap.notify.channel import (
    Channel,
    ChannelConfigError,
    Delivery,
    DeliveryError,
    HitJson,
    RateLimited,
    Receipt,
    digest_delivery_key,
    digest_key,
    hit_key,
)
from attrap.notify.messages import sample_hit
from attrap.store.db import Database
from attrap.store.dialects import dialect_insert
from attrap.store.models import Act, Administration, Document, Hit, Notification, utcnow
from attrap.store.queries import hit_to_json

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
# Hits per statement: 500 ids in IN (…), and 500 × channels × 6 values per INSERT, stay well
# under SQLite's 32766 and PostgreSQL's 65535 bound parameters.
_BATCH = 500


def channel_settings(settings: Settings) -> dict[str, ChannelSettings]:
    """The configured and enabled channels, by name."""
    return {name: cfg for name, cfg in settings.notify.channels.items() if cfg.enabled}


def routes(
    cfg: ChannelSettings, category: str, department: str | None, notified: Sequence[str] = ()
) -> bool:
    """Whether a channel wants a hit: its category and département match one of the channel's
    patterns (``"*"`` or globs like ``"13"``, ``"2?"``). Regional hits have no département and
    match only ``"*"``. A channel without ``categories`` wants the ``notified`` ones (those the
    rules notify by default)."""
    categories = cfg.categories if cfg.categories is not None else notified
    return any(fnmatch.fnmatchcase(category, p) for p in categories) and any(
        fnmatch.fnmatchcase(department or "", p) for p in cfg.departments
    )


def enqueue(
    session: Session, settings: Settings, hit_ids: Sequence[int], *, muted: bool = False
) -> int:
    """Create the notification rows of newly stored hits, in the caller's transaction.

    One row per configured channel that wants the hit. ``muted`` (``--no-notify``) and hits about
    acts dated before ``notify.since`` get ``skipped`` rows: recorded, never sent. Hits that already
    have a row for a channel are left alone. Returns the number of rows queued for delivery.
    """
    channels = channel_settings(settings)
    if not channels or not hit_ids:
        return 0
    since = settings.notify.since
    notified = catalogue(settings).notified
    now = utcnow()
    queued = 0
    for start in range(0, len(hit_ids), _BATCH):
        rows = session.execute(
            select(
                Hit.id,
                Hit.category,
                Administration.department,
                Act.signed_on,
                Document.published_on,
                Hit.first_seen_at,
            )
            .join(Hit.act)
            .join(Document, Hit.document_id == Document.id)
            .join(Administration, Document.administration_code == Administration.code)
            .where(Hit.id.in_(hit_ids[start : start + _BATCH]))
        ).all()
        values = []
        for hit_id, category, department, signed_on, published_on, first_seen_at in rows:
            about = signed_on or published_on or first_seen_at.date()
            quiet = muted or (since is not None and about < since)
            for name, cfg in channels.items():
                if routes(cfg, category, department, notified):
                    values.append(
                        {
                            "hit_id": hit_id,
                            "channel": name,
                            "status": SKIPPED if quiet else PENDING,
                            "attempts": 0,
                            "next_attempt_at": None if quiet else now,
                            "created_at": now,
                        }
                    )
        if values:
            statement = (
                dialect_insert(session, Notification)
                .values(values)
                .on_conflict_do_nothing(index_elements=["hit_id", "channel"])
                .returning(Notification.status)
            )
            queued += sum(status == PENDING for status in session.scalars(statement))
    return queued


@dataclass
class ChannelReport:
    sent: int = 0  # notifications delivered
    messages: int = 0  # statuses, emails or requests the remote accepted (a digest is one)
    retrying: int = 0  # failed this time, scheduled again
    failed: int = 0  # given up: max attempts reached or refused for good
    deferred: int = 0  # not attempted: the channel paused (rate limit, outage)
    errors: list[str] = field(default_factory=list)


@dataclass
class DispatchReport:
    channels: dict[str, ChannelReport] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(report.sent for report in self.channels.values())

    @property
    def failed(self) -> int:
        return sum(report.failed for report in self.channels.values())


def open_channel(name: str, settings: Settings) -> Channel:
    """The channel ``name`` built from the settings; ChannelConfigError when it cannot be used."""
    kind = registry.get(name)
    if kind is None:
        names = ", ".join(known.name for known in registry.kinds())
        raise ChannelConfigError(f"canal inconnu {name!r} : choisissez parmi {names}")
    cfg = settings.notify.channels.get(name)
    if cfg is None:
        raise ChannelConfigError(
            f"canal {name!r} non configuré : ajoutez une section [notify.{name}]"
        )
    return kind.open(cfg, settings)


def send_test(settings: Settings, name: str) -> Receipt:
    """Send a sample notification on one channel; no database row is involved."""
    with closing(open_channel(name, settings)) as channel:
        try:
            return channel.send(Delivery(f"attrap-test-{uuid.uuid4().hex}", (sample_hit(),)))
        except DeliveryError as exc:
            raise DeliveryError(settings.redact(str(exc)), permanent=exc.permanent) from None


def dispatch(
    database: Database, settings: Settings, *, now: dt.datetime | None = None
) -> DispatchReport:
    """Deliver every due notification, each channel in its own thread.

    ``now`` is the time the dispatch starts at (tests move it forward to reach retries).
    """
    start = now or utcnow()
    names = list(channel_settings(settings))
    report = DispatchReport()
    if not names:
        return report
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="notify") as pool:
        futures = {
            name: pool.submit(_ChannelDispatch(database, settings, name, start).run)
            for name in names
        }
    for name, future in futures.items():
        report.channels[name] = future.result()
    return report


@dataclass(frozen=True)
class _Unit:
    """Rows delivered as one message: one row, or every row of a digest."""

    delivery: Delivery
    size: int
    attempts: int  # the most any member has had so far
    row_id: int | None = None
    digest: str | None = None

    def rows(self) -> ColumnElement[bool]:
        if self.digest is not None:
            return Notification.digest_key == self.digest
        return Notification.id == self.row_id


class _ChannelDispatch:
    """One dispatcher's pass over one channel."""

    def __init__(self, database: Database, settings: Settings, name: str, start: dt.datetime):
        self.database = database
        self.settings = settings
        self.name = name
        self.cfg = channel_settings(settings)[name]
        self.token = uuid.uuid4().hex
        self.lease = dt.timedelta(seconds=settings.notify.lease_s)
        self._start = start
        self._started = time.monotonic()
        self.report = ChannelReport()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._started)

    def run(self) -> ChannelReport:
        try:
            channel = open_channel(self.name, self.settings)
        except ChannelConfigError as exc:
            # Rows stay pending, untouched: fixing the configuration is enough to deliver them.
            self.report.errors.append(str(exc))
            return self.report
        with closing(channel):
            self._claim()
            units = self._units()
            for unit in units:
                if not self._renew(unit):
                    continue  # our lease ran out and another dispatcher took these rows
                if not self._deliver(channel, unit):
                    break
        return self.report

    def _deliver(self, channel: Channel, unit: _Unit) -> bool:
        """Send one unit and record the outcome; False when the channel must pause."""
        try:
            receipt = channel.send(unit.delivery)
        except RateLimited as exc:
            self.report.errors.append(self.settings.redact(str(exc)))
            self._pause(exc.until or self.now() + self._backoff(1))
            return False
        except DeliveryError as exc:
            next_attempt = self._record_failure(unit, str(exc), permanent=exc.permanent)
            if exc.permanent:
                return True  # this message is refused, the channel itself works
            # The remote is down or failing: the rest waits instead of failing the same way.
            self._pause(next_attempt or self.now() + self._backoff(1))
            return False
        except Exception as exc:
            # A bug or unexpected data in one message must not stop the channel's other messages.
            self._record_failure(unit, f"{type(exc).__name__}: {exc}", permanent=False)
            return True
        self._record_sent(unit, receipt)
        if receipt.pause_until is not None:
            self._pause(receipt.pause_until)
            return False
        return True

    def _mine(self) -> ColumnElement[bool]:
        return and_(Notification.claimed_by == self.token, Notification.status == PENDING)

    def _claim(self) -> None:
        now = self.now()
        due = aliased(Notification)

        def claimable(row: Any) -> ColumnElement[bool]:
            return and_(
                row.channel == self.name,
                row.status == PENDING,
                or_(row.next_attempt_at.is_(None), row.next_attempt_at <= now),
                or_(row.claimed_until.is_(None), row.claimed_until < now),
            )

        # PostgreSQL locks the due rows in id order (no deadlock between dispatchers); one that
        # waited re-checks the lease and skips rows claimed meanwhile. SQLite ignores FOR UPDATE
        # and serialises the whole statement.
        locked = select(due.id).where(claimable(due)).order_by(due.id).with_for_update()
        with self.database.session() as session:
            session.execute(
                update(Notification)
                .where(Notification.id.in_(locked), claimable(Notification))
                .values(claimed_by=self.token, claimed_until=now + self.lease)
                .execution_options(synchronize_session=False)
            )

    def _units(self) -> list[_Unit]:
        """The claimed rows as delivery units, forming a digest out of a burst of new rows."""
        with self.database.session() as session:
            claimed = session.execute(
                select(Notification.id, Notification.digest_key, Notification.attempts, Hit)
                .join(Notification.hit)
                .where(self._mine())
                .options(
                    joinedload(Hit.act).joinedload(Act.document).joinedload(Document.administration)
                )
                .order_by(Notification.id)
            ).all()
            rows = [
                (row_id, key, attempts, hit_to_json(hit)) for row_id, key, attempts, hit in claimed
            ]
        fresh = [row for row in rows if row[1] is None]
        if self._wants_digest(len(fresh)):
            key = digest_key(self.name, [hit_key(self.name, row[3]) for row in fresh])
            with self.database.session() as session:
                session.execute(
                    update(Notification)
                    .where(self._mine(), Notification.digest_key.is_(None))
                    .values(digest_key=key)
                    .execution_options(synchronize_session=False)
                )
            rows = [(row_id, old or key, attempts, hit) for row_id, old, attempts, hit in rows]
        # Oldest first: rows come in id order, a digest where its first row is.
        grouped: dict[str | int, list[tuple[int, HitJson]]] = {}
        for row_id, key, attempts, hit in rows:
            grouped.setdefault(row_id if key is None else key, []).append((attempts, hit))
        units = []
        for group, members in grouped.items():
            hits = tuple(hit for _, hit in members)
            attempts = max(a for a, _ in members)
            if isinstance(group, int):
                delivery = Delivery(hit_key(self.name, hits[0]), hits)
                units.append(_Unit(delivery, 1, attempts, row_id=group))
            else:
                delivery = Delivery(digest_delivery_key(self.name, group), hits, digest=True)
                units.append(_Unit(delivery, len(hits), attempts, digest=group))
        return units

    def _wants_digest(self, fresh: int) -> bool:
        return fresh > self.cfg.digest_threshold or (self.cfg.always_digests() and fresh > 1)

    def _renew(self, unit: _Unit) -> bool:
        """Extend our lease on the unit's rows just before sending; False if we lost them."""
        with self.database.session() as session:
            result = session.execute(
                update(Notification)
                .where(unit.rows(), self._mine())
                .values(claimed_until=self.now() + self.lease)
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _record_sent(self, unit: _Unit, receipt: Receipt) -> None:
        # Not restricted to our claim: the message went out, whoever holds the rows now.
        with self.database.session() as session:
            session.execute(
                update(Notification)
                .where(
                    unit.rows(), Notification.channel == self.name, Notification.status == PENDING
                )
                .values(
                    status=SENT,
                    remote_id=receipt.remote_id,
                    sent_at=self.now(),
                    attempts=Notification.attempts + 1,
                    last_error=receipt.note,
                    claimed_by=None,
                    claimed_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        self.report.sent += unit.size
        self.report.messages += 1

    def _record_failure(self, unit: _Unit, error: str, *, permanent: bool) -> dt.datetime | None:
        """Count a failed attempt; the next attempt's time, or None when the rows failed."""
        error = self.settings.redact(error)
        attempts = unit.attempts + 1
        gave_up = permanent or attempts >= self.cfg.max_attempts
        next_attempt = None if gave_up else self.now() + self._backoff(attempts)
        with self.database.session() as session:
            session.execute(
                update(Notification)
                .where(unit.rows(), self._mine())
                .values(
                    status=FAILED if gave_up else PENDING,
                    attempts=attempts,
                    next_attempt_at=next_attempt,
                    last_error=error[:2000],
                    claimed_by=None,
                    claimed_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        if gave_up:
            self.report.failed += unit.size
        else:
            self.report.retrying += unit.size
        self.report.errors.append(error)
        return next_attempt

    def _pause(self, until: dt.datetime) -> None:
        """Release every row we still hold, due again at ``until``; no attempt is counted."""
        with self.database.session() as session:
            result = session.execute(
                update(Notification)
                .where(self._mine())
                .values(next_attempt_at=until, claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
        self.report.deferred += result.rowcount  # type: ignore[attr-defined]

    def _backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.cfg.retry_base_s * 2 ** (attempts - 1)
        return dt.timedelta(seconds=min(seconds, self.cfg.retry_max_s))


def requeue_failed(session: Session, channel: str | None = None) -> int:
    """Give failed notifications (of one channel) a fresh set of attempts, due now; how many.

    For after an outage that outlasted the retries, or a fixed configuration. A digest keeps its
    key, so a retry that reaches Mastodon within the hour is still recognised."""
    statement = update(Notification).where(Notification.status == FAILED)
    if channel is not None:
        statement = statement.where(Notification.channel == channel)
    result = session.execute(
        statement.values(status=PENDING, attempts=0, next_attempt_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    # An UPDATE answers with a cursor result, which has the row count.
    return cast("CursorResult[Any]", result).rowcount or 0
