"""French calendar words, shared by the stages that read dates (adapters, segmentation) and those
that write them (notifications, web page)."""

from __future__ import annotations

import datetime as dt

MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# As parsers see them once accents are folded: "aout" → 8.
FOLDED_MONTHS = {
    name.replace("é", "e").replace("û", "u"): number
    for number, name in enumerate(MONTH_NAMES, start=1)
}


def long_date(day: dt.date) -> str:
    """``2024-07-01`` → ``1er juillet 2024``."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTH_NAMES[day.month - 1]} {day.year}"


WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def weekday_date(day: dt.date, *, year: bool = True) -> str:
    """``2025-05-01`` → ``jeudi 1er mai 2025`` (``jeudi 1er mai`` without the year)."""
    text = f"{WEEKDAY_NAMES[day.weekday()]} {long_date(day)}"
    return text if year else text.rsplit(" ", 1)[0]


def clock(moment: dt.time) -> str:
    """``09:00`` → ``9 h``, ``21:30`` → ``21 h 30``."""
    return f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")
