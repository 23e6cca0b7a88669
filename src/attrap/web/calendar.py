"""iCalendar feed of the periods orders authorise: one event per period, in the administration's
time zone (with its VTIMEZONE), whole days as all-day events."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from attrap.facts.wording import communes_phrase, facts_line
from attrap.web.text import category_label

# Like the Atom entries' tag URIs: stable whatever host serves the feed.
EVENT_UID = "hit-{}-period-{}@attrap"


def _all_day(start: dt.datetime, end: dt.datetime | None) -> bool:
    return end is not None and start.time() == dt.time() == end.time()


def _event(hit: dict[str, Any], index: int, period: dict[str, Any]) -> Event:
    facts = hit["facts"]
    zone = ZoneInfo(facts["timezone"])
    start = dt.datetime.fromisoformat(period["start"]).astimezone(zone)
    end = dt.datetime.fromisoformat(period["end"]).astimezone(zone) if period["end"] else None
    event = Event()
    event.add("uid", EVENT_UID.format(hit["id"], index))
    event.add("dtstamp", dt.datetime.fromisoformat(hit["first_seen_at"]))
    if _all_day(start, end):
        assert end is not None
        event.add("dtstart", start.date())
        event.add("dtend", end.date())
    else:
        event.add("dtstart", start)
        if end is not None:
            event.add("dtend", end)
    label = category_label(hit["category"])
    where = communes_phrase(facts["communes"]) or hit["administration"]["name"]
    event.add("summary", f"{label} · {where}")
    if facts["communes"]:
        event.add("location", where)
    lines = [hit["act"]["title"], facts_line(facts), period["evidence"], hit["link"]]
    event.add("description", "\n\n".join(line for line in lines if line))
    event.add("url", hit["link"])
    event.add("categories", [label])
    return event


def periods_calendar(hits: list[dict[str, Any]], *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//attrap//periodes des arretes//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for hit in hits:
        for index, period in enumerate((hit["facts"] or {}).get("periods", [])):
            calendar.add_component(_event(hit, index, period))
    calendar.add_missing_timezones()
    return calendar.to_ical()
