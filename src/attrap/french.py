"""The text toolkit: French calendar words, shared by the stages that read dates (adapters,
segmentation, facts) and those that write them (notifications, web page); accent and case
folding; words hyphenated across line ends. Every stage folds and re-joins text with these, so
« Août », « AOUT » and « aout » read alike everywhere."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

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
# Folded month names and their usual abbreviations (« Juil. 2024 », « SEPT-2024 », « 3 fev »).
MONTHS = {
    **FOLDED_MONTHS,
    "janv": 1, "fevr": 2, "fev": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip


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


def strip_accents(text: str) -> str:
    """Case and accents folded, nothing else changed: NFKC first (ligatures such as « ﬁ »,
    superscripts), then case folding, then the combining marks NFKD separates are dropped."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str, *, ascii_only: bool = False) -> str:
    """Lower case without accents, typographic apostrophes straightened, single spaces: what
    line and title patterns read. ``ascii_only`` also drops what is left outside ASCII (dashes,
    quotes, « ° »), for patterns written in ASCII alone."""
    folded = strip_accents(text).replace("’", "'")
    if ascii_only:
        folded = folded.encode("ascii", "ignore").decode()
    return " ".join(folded.split())


# A hyphen (or soft hyphen, or « ¬ » as OCR reads it) ending a line between two letters, where a
# word was cut: « aéro-\nnefs ». A compound cut at its hyphen keeps it: before a capitalised word
# (« Saint-\nDenis ») the hyphen is the name's own.
LINE_END_HYPHEN = re.compile(
    r"(?<=[^\W\d_])[-\u00ad\u2010\u2011¬][ \t]*\r?\n[ \t]*(?=[^\W\d_])(?![A-ZÀ-Ý][a-zà-ÿ])"
)


def rejoin_hyphenated(text: str) -> str:
    """``text`` with the words hyphenated across line ends made whole again."""
    return LINE_END_HYPHEN.sub("", text)
