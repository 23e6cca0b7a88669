"""When to crawl an administration next: often in the hours it publishes, rarely otherwise.

The busy hours of an administration are the hours of the week (its local time) of the office
hours on weekdays by default (``schedule.office_hours``, ``schedule.office_days``), plus those in
which its history shows it publishes: an hour is busy when it and the hours either side of it
hold at least ``schedule.busy_sightings`` of the bulletins a routine crawl found within three
days of their publication date (a backfill's first sightings say nothing about the hour; a
single odd sighting does not make an hour busy). A prefecture that
posts Friday-evening orders for the weekend's events thus gets Friday evenings watched.

During busy hours the crawls are ``schedule.busy_every_minutes`` apart, otherwise
``schedule.every_minutes``; a quiet wait never runs past the start of a busy hour.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from attrap.config import ScheduleSettings
from attrap.store.db import Database
from attrap.store.models import Administration, Document

HOURS_PER_WEEK = 7 * 24
# A bulletin first seen this long after its publication date was found by a backfill.
PROMPT_DAYS = 3
HISTORY_LIMIT = 500


def hour_of_week(moment: dt.datetime, zone: ZoneInfo) -> int:
    local = moment.astimezone(zone)
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True)
class Rhythm:
    zone: ZoneInfo
    busy_hours: frozenset[int]

    def busy(self, moment: dt.datetime) -> bool:
        return hour_of_week(moment, self.zone) in self.busy_hours

    def next_crawl(self, now: dt.datetime, schedule: ScheduleSettings) -> dt.datetime:
        """When to crawl after one that ended ``now``."""
        if self.busy(now):
            return now + dt.timedelta(minutes=schedule.busy_every_minutes)
        due = now + dt.timedelta(minutes=schedule.every_minutes)
        hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        while hour < due:
            if self.busy(hour):
                return hour
            hour += dt.timedelta(hours=1)
        return due


def office_hours(schedule: ScheduleSettings) -> set[int]:
    start, end = schedule.office_hours
    return {day * 24 + hour for day in schedule.office_days for hour in range(start, end)}


def learn_rhythm(
    first_seen: Iterable[dt.datetime], schedule: ScheduleSettings, zone: ZoneInfo
) -> Rhythm:
    """The busy hours from when bulletins were first seen (routine crawls only)."""
    counts = Counter(hour_of_week(moment, zone) for moment in first_seen)
    busy = office_hours(schedule)
    for hour in range(HOURS_PER_WEEK):
        around = sum(counts[(hour + shift) % HOURS_PER_WEEK] for shift in (-1, 0, 1))
        if around >= schedule.busy_sightings:
            busy.add(hour)
    return Rhythm(zone, frozenset(busy))


def administration_rhythm(database: Database, code: str, schedule: ScheduleSettings) -> Rhythm:
    """Learn one administration's rhythm from its stored documents."""
    with database.session() as session:
        timezone = session.scalar(
            select(Administration.timezone).where(Administration.code == code)
        )
        rows = session.execute(
            select(Document.first_seen_at, Document.published_on)
            .where(Document.administration_code == code, Document.published_on.is_not(None))
            .order_by(Document.first_seen_at.desc())
            .limit(HISTORY_LIMIT)
        ).all()
    prompt = [
        seen
        for seen, published in rows
        if dt.timedelta(0) <= seen.date() - published <= dt.timedelta(days=PROMPT_DAYS)
    ]
    return learn_rhythm(prompt, schedule, ZoneInfo(timezone or "Europe/Paris"))
