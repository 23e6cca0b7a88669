"""Is each administration still watched? Its state, its incidents, and the maintainers' alerts.

A site that is redesigned rarely fails loudly: its listing just stops showing bulletins. So the
state of an administration (worst first) is read from its recent crawls and its history:

- ``failing``: its last ``health.failing_runs`` crawls all failed, or its start page is gone
  (HTTP 404/410) or now redirects to another page;
- ``silent``: its last crawl succeeded but its listing showed no bulletin, new or known, while
  earlier crawls found some;
- ``late``: nothing new was published for ``health.late_factor`` times its usual gap (the 90th
  percentile of the gaps between its publication days, learned from its history), and at least
  ``health.late_min_days``;
- ``ok`` otherwise.

Each problem is an incident (``health_incidents``), opened once and resolved when a later check
no longer sees it; opening and resolving each queue one maintainer alert per channel marked
``maintainers = true`` (``notify.alerts``), in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from attrap.config import HealthSettings, Settings
from attrap.french import long_date
from attrap.notify.alerts import queue_alerts
from attrap.store.db import Database
from attrap.store.models import (
    Administration,
    CrawlRun,
    Document,
    DocumentStatus,
    HealthIncident,
    Hit,
    Notification,
    utcnow,
)

log = logging.getLogger(__name__)

# Publication days looked at to learn an administration's usual gap.
HISTORY_DAYS = 60
GONE_STATUSES = frozenset({404, 410})


class State(StrEnum):
    OK = "ok"
    LATE = "late"
    SILENT = "silent"
    FAILING = "failing"


# Incident kind → the state it puts the administration in.
KIND_STATE = {
    "failing": State.FAILING,
    "moved": State.FAILING,
    "silent": State.SILENT,
    "late": State.LATE,
}
STATE_ORDER = [State.OK, State.LATE, State.SILENT, State.FAILING]
STATE_LABELS = {
    State.OK: "ok",
    State.LATE: "en retard",
    State.SILENT: "muet",
    State.FAILING: "en échec",
}


def usual_gap_days(days: Sequence[dt.date]) -> float | None:
    """The 90th percentile (nearest rank: nine gaps in ten are at most this long) of the gaps
    between distinct publication days; None with too few."""
    ordered = sorted(set(days))
    gaps = sorted((b - a).days for a, b in itertools.pairwise(ordered))
    if len(gaps) < 2:
        return None
    return float(gaps[math.ceil(0.9 * len(gaps)) - 1])


def problems(
    session: Session,
    health: HealthSettings,
    code: str,
    now: dt.datetime,
    start_url: str = "",
) -> dict[str, str]:
    """The administration's current problems: incident kind → what a maintainer should read."""
    found: dict[str, str] = {}
    runs = list(
        session.scalars(
            select(CrawlRun)
            .where(CrawlRun.administration_code == code, CrawlRun.finished_at.is_not(None))
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(max(health.failing_runs, 20))
        )
    )
    # An interrupted crawl (the daemon was stopped) says nothing about the site.
    runs = [run for run in runs if run.error != "interrupted"]
    if not runs:
        return found
    last = runs[0]
    recent = runs[: health.failing_runs]
    if len(recent) == health.failing_runs and all(run.error for run in recent):
        found["failing"] = (
            f"les {len(recent)} derniers passages ont échoué ; dernière erreur : {last.error}"
        )
    if last.start_status in GONE_STATUSES:
        found["moved"] = f"la page de départ {start_url} n'existe plus (HTTP {last.start_status})"
    elif last.start_redirect:
        found["moved"] = f"la page de départ {start_url} redirige vers {last.start_redirect}"
    if last.error is None and last.listed == 0:
        earlier = max((run.listed or 0 for run in runs[1:]), default=0)
        known = session.scalar(
            select(func.count()).select_from(Document).where(Document.administration_code == code)
        )
        if earlier or known:
            found["silent"] = (
                "la liste des recueils ne montre plus aucun bulletin, alors que les passages "
                f"précédents en trouvaient ({max(earlier, known or 0)} connus)"
            )
    late = _lateness(session, health, code, now)
    if late:
        found["late"] = late
    return found


def _lateness(session: Session, health: HealthSettings, code: str, now: dt.datetime) -> str | None:
    day = func.coalesce(Document.published_on, func.date(Document.first_seen_at))
    rows = session.execute(
        select(Document.published_on, Document.first_seen_at)
        .where(Document.administration_code == code, Document.status != DocumentStatus.DUPLICATE)
        .order_by(day.desc())
        .limit(HISTORY_DAYS * 4)
    ).all()
    days = sorted({published or seen.date() for published, seen in rows})[-HISTORY_DAYS:]
    if len(days) < health.min_history:
        return None
    usual = usual_gap_days(days)
    if usual is None:
        return None
    allowed = max(health.late_factor * usual, health.late_min_days)
    silence = (now.date() - days[-1]).days
    if silence <= allowed:
        return None
    return (
        f"aucun nouveau recueil depuis le {long_date(days[-1])} ({silence} jours), alors "
        f"qu'il en paraît d'habitude un au moins tous les {usual:.0f} jours"
    )


def check(
    database: Database,
    settings: Settings,
    code: str,
    *,
    start_url: str = "",
    now: dt.datetime | None = None,
) -> list[tuple[str, str]]:
    """Open and resolve the administration's incidents from what its crawls show now, queueing
    the maintainer alerts; the changes as (kind, "opened" | "resolved")."""
    now = now or utcnow()
    changes: list[tuple[str, str]] = []
    with database.session() as session:
        current = problems(session, settings.health, code, now, start_url)
        open_incidents = {
            incident.kind: incident
            for incident in session.scalars(
                select(HealthIncident).where(
                    HealthIncident.administration_code == code,
                    HealthIncident.resolved_at.is_(None),
                )
            )
        }
        for kind, detail in current.items():
            if kind in open_incidents:
                continue
            incident = HealthIncident(
                administration_code=code, kind=kind, detail=detail, opened_at=now
            )
            session.add(incident)
            queue_alerts(session, settings, incident, "opened")
            changes.append((kind, "opened"))
            log.warning("%s: %s", code, detail)
        for kind, incident in open_incidents.items():
            if kind not in current:
                incident.resolved_at = now
                queue_alerts(session, settings, incident, "resolved")
                changes.append((kind, "resolved"))
                log.info("%s: recovered (%s)", code, kind)
    return changes


@dataclass(frozen=True)
class AdministrationHealth:
    """One line of ``attrap status`` and ``/sante``."""

    code: str
    name: str
    state: State
    problems: tuple[str, ...]  # what the open incidents say
    last_success: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    documents: int
    hits: int
    pending_notifications: int
    failed_notifications: int


def health_table(session: Session) -> list[AdministrationHealth]:
    """Every enabled administration's state and counts, worst first, then by code."""
    administrations = session.execute(
        select(Administration.code, Administration.name).where(Administration.enabled)
    ).all()
    incidents: dict[str, list[HealthIncident]] = {}
    for incident in session.scalars(
        select(HealthIncident)
        .where(HealthIncident.resolved_at.is_(None))
        .order_by(HealthIncident.opened_at)
    ):
        incidents.setdefault(incident.administration_code, []).append(incident)
    successes: dict[str, dt.datetime | None] = {
        code: finished
        for code, finished in session.execute(
            select(CrawlRun.administration_code, func.max(CrawlRun.finished_at))
            .where(CrawlRun.finished_at.is_not(None), CrawlRun.error.is_(None))
            .group_by(CrawlRun.administration_code)
        )
    }
    last_failure = (
        select(
            CrawlRun.administration_code,
            CrawlRun.error,
            CrawlRun.finished_at,
            func.row_number()
            .over(
                partition_by=CrawlRun.administration_code,
                order_by=(CrawlRun.finished_at.desc(), CrawlRun.id.desc()),
            )
            .label("rank"),
        )
        .where(CrawlRun.error.is_not(None), CrawlRun.error != "interrupted")
        .subquery()
    )
    errors = {
        row.administration_code: (row.error, row.finished_at)
        for row in session.execute(select(last_failure).where(last_failure.c.rank == 1))
    }
    documents = _counts(session, select(Document.administration_code, func.count()))
    hits = _counts(
        session,
        select(Document.administration_code, func.count()).join(
            Hit, Hit.document_id == Document.id
        ),
    )
    notifications: dict[tuple[str, str], int] = {}
    for code, status, count in session.execute(
        select(Document.administration_code, Notification.status, func.count())
        .join(Hit, Hit.document_id == Document.id)
        .join(Notification, Notification.hit_id == Hit.id)
        .where(Notification.status.in_(["pending", "failed"]))
        .group_by(Document.administration_code, Notification.status)
    ):
        notifications[(code, status)] = count
    table = []
    for code, name in administrations:
        open_incidents = incidents.get(code, [])
        states = [KIND_STATE[incident.kind] for incident in open_incidents]
        error, error_at = errors.get(code, (None, None))
        table.append(
            AdministrationHealth(
                code=code,
                name=name,
                state=max(states, key=STATE_ORDER.index, default=State.OK),
                problems=tuple(incident.detail for incident in open_incidents),
                last_success=successes.get(code),
                last_error=error,
                last_error_at=error_at,
                documents=documents.get(code, 0),
                hits=hits.get(code, 0),
                pending_notifications=notifications.get((code, "pending"), 0),
                failed_notifications=notifications.get((code, "failed"), 0),
            )
        )
    table.sort(key=lambda row: (-STATE_ORDER.index(row.state), row.code))
    return table


def _counts(session: Session, statement: Select[tuple[str, int]]) -> dict[str, int]:
    rows = session.execute(statement.group_by(Document.administration_code))
    return {code: number for code, number in rows}
