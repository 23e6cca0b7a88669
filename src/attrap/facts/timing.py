"""How long before its start an order could first be read.

The moment of publication is the document's ``first_seen_at`` (when attrap first saw the
bulletin, 0–4 hours after it went online when crawling live) if it falls within two days of the
bulletin's ``published_on``; otherwise the start of ``published_on`` in the administration's time
zone, the earliest the bulletin can have been read (so a delay is never overstated). A bulletin
without a date is timed by ``first_seen_at`` only when that is within a week of the act's
signature: a bulletin found long after (a backfill) has no known publication moment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

FIRST_SEEN_WINDOW = dt.timedelta(hours=48)
UNDATED_WINDOW = dt.timedelta(days=7)
# The delays page's line between « in time » and « short notice ».
SHORT_NOTICE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Publication:
    at: dt.datetime  # UTC
    basis: str  # "first_seen_at" or "published_on"


def publication(
    *,
    published_on: dt.date | None,
    first_seen_at: dt.datetime | None,
    signed_on: dt.date | None,
    timezone: str,
) -> Publication | None:
    zone = ZoneInfo(timezone)
    if published_on is not None:
        day_start = dt.datetime.combine(published_on, dt.time(), zone)
        if first_seen_at is not None and day_start <= first_seen_at < day_start + FIRST_SEEN_WINDOW:
            return Publication(first_seen_at.astimezone(dt.UTC), "first_seen_at")
        return Publication(day_start.astimezone(dt.UTC), "published_on")
    if first_seen_at is None or signed_on is None:
        return None
    signature = dt.datetime.combine(signed_on, dt.time(), zone)
    if first_seen_at - signature > UNDATED_WINDOW:
        return None
    return Publication(first_seen_at.astimezone(dt.UTC), "first_seen_at")


def lead_time(first_start: dt.datetime, published: Publication) -> dt.timedelta:
    """Positive when the order could be read before the authorisation began."""
    return first_start - published.at
