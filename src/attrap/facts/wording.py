"""Facts said in French, in one line: « Lyon, Villeurbanne · jeudi 1er mai, 9 h–22 h · DIPN du
Rhône · 4 caméras · publié 14 h avant le début ». Shared by the notifications, the web page, the
feeds and the command line; it reads the facts as the hit JSON carries them."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from attrap.french import clock, weekday_date

MAX_COMMUNES = 3
# A day then the next morning (« samedi 21 juin, 18 h–3 h ») is one evening, not two days.
_ONE_SITTING = dt.timedelta(hours=24)


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _is_midnight(moment: dt.datetime) -> bool:
    return moment.time() == dt.time()


def _day(day: dt.date, reference_year: int | None) -> str:
    return weekday_date(day, year=day.year != reference_year)


def one_period(period: dict[str, Any], reference_year: int | None = None) -> str:
    start = _moment(period["start"])
    end = _moment(period["end"]) if period.get("end") else None
    if end is None:
        hours = "" if _is_midnight(start) else f", {clock(start.time())}"
        return f"à partir du {_day(start.date(), reference_year)}{hours}"
    if _is_midnight(start) and _is_midnight(end):
        last = end.date() - dt.timedelta(days=1)
        if last == start.date():
            return _day(start.date(), reference_year)
        return f"du {_day(start.date(), reference_year)} au {_day(last, reference_year)}"
    if end - start <= _ONE_SITTING and (end.date() == start.date() or end.time() <= start.time()):
        return f"{_day(start.date(), reference_year)}, {clock(start.time())}–{clock(end.time())}"
    return (
        f"du {_day(start.date(), reference_year)} {clock(start.time())} "
        f"au {_day(end.date(), reference_year)} {clock(end.time())}"
    )


def period_phrase(periods: Sequence[dict[str, Any]], reference_year: int | None = None) -> str:
    """The periods in a few words; ``reference_year`` is left out of the dates."""
    if not periods:
        return ""
    first = one_period(periods[0], reference_year)
    if len(periods) == 1:
        return first
    starts = [_moment(p["start"]) for p in periods]
    ends = [_moment(p["end"]) if p.get("end") else None for p in periods]
    windows = {(s.time(), e.time()) if e else None for s, e in zip(starts, ends, strict=True)}
    daily = all((b.date() - a.date()).days == 1 for a, b in itertools.pairwise(starts))
    hours = next(iter(windows))
    if len(windows) == 1 and hours is not None and daily:
        return (
            f"du {_day(starts[0].date(), reference_year)} au "
            f"{_day(starts[-1].date(), reference_year)}, "
            f"{clock(hours[0])}–{clock(hours[1])} chaque jour"
        )
    others = len(periods) - 1
    return (
        f"{first} et {others} autre{'s' if others > 1 else ''} période{'s' if others > 1 else ''}"
    )


def _duration(seconds: float) -> str:
    hours = abs(seconds) / 3600
    if hours < 1:
        return f"{round(abs(seconds) / 60)} min"
    if hours < 48:
        return f"{round(hours)} h"
    return f"{round(hours / 24)} jours"


def lead_phrase(publication: dict[str, Any] | None) -> str:
    """« publié 14 h avant le début », « publié 3 h après le début »; from the bulletin's date
    alone the delay is an upper bound: « publié au plus 33 h avant le début »."""
    if not publication or publication.get("lead_hours") is None:
        return ""
    seconds = publication["lead_hours"] * 3600
    bound = "au plus " if publication.get("basis") == "published_on" and seconds >= 0 else ""
    if publication.get("late"):
        return f"publié {_duration(seconds)} après le début"
    return f"publié {bound}{_duration(seconds)} avant le début"


def communes_phrase(communes: Sequence[dict[str, Any]]) -> str:
    names = [c["name"] for c in communes]
    if len(names) > MAX_COMMUNES:
        return ", ".join(names[:MAX_COMMUNES]) + f" et {len(names) - MAX_COMMUNES} autres"
    return ", ".join(names)


def cameras_phrase(count: int | None) -> str:
    if not count:
        return ""
    return f"{count} caméra{'s' if count > 1 else ''}"


def facts_line(
    facts: dict[str, Any] | None, label: str = "", reference_year: int | None = None
) -> str:
    """« Drones · Lyon, Villeurbanne · jeudi 1er mai, 9 h–22 h · DIPN du Rhône · 4 caméras ·
    publié 14 h avant le début »: what is known, in that order; "" without facts."""
    if not facts:
        return ""
    operator = facts.get("operator")
    parts = [
        label,
        communes_phrase(facts.get("communes", [])),
        period_phrase(facts.get("periods", []), reference_year),
        operator["name"] if operator else "",
        cameras_phrase(facts.get("max_cameras")),
        lead_phrase(facts.get("publication")),
    ]
    known = [part for part in parts if part]
    return " · ".join(known) if len(known) > (1 if label else 0) else ""
