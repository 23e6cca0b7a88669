"""Periods an order authorises, read from French date and time phrases.

A sentence is folded, its dates (« 1er mai 2025 », « 01/05/2025 », « les 12, 13 et 14 juillet »)
and times (« 9 h », « 9h30 », « 21 heures », « midi », « minuit ») become tokens, and a small
grammar over the tokens reads:

- ranges: « du 1er mai 2025 à 9 heures au 2 mai 2025 à 2 heures », « du 6 au 8 juin 2025 »,
  « à compter du 1er octobre 2025 et jusqu'au 31 décembre 2025 », with daily windows
  (« du 6 au 8 juin 2025, de 8 h à 20 h » is three periods);
- durations: « pour une durée d'un mois à compter du 13 octobre 2025 », « à compter du … pour
  une durée de trois jours », « … à compter de sa publication » (from the bulletin's date);
- dates with windows: « le 21 juin 2025 de 18h à 3h » (ends the next day), « le 1er mai de 9 h à
  12 h et de 14 h à 18 h », « de 9 h à 22 h le 1er mai », « les 14 et 15 juillet » (whole days).

A day without hours covers the whole day: [00:00, next day 00:00). Periods that touch or overlap
are merged. Dates that refer to something else are skipped: those of other texts (« l'arrêté du
2 mai 2025 », « la demande en date du … »), deadlines (« avant le … »), and sentences of articles
that say nothing of an authorisation. A year left out (« le samedi 12 avril ») is the one that
puts the date nearest the act's signature; with no such date the phrase is skipped.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from rapidfuzz.distance import Levenshtein

from attrap.facts.model import ActContext, Period
from attrap.facts.text import Section, Sentence
from attrap.french import FOLDED_MONTHS, MONTHS

# Misspelt month names are recognised between a day and a year (« 28 aovt 2023 »), or without
# the year when the name is long enough to be unmistakable.
_FUZZY_MONTHS = [name for name in FOLDED_MONTHS if len(name) >= 4]
NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "soixante": 60,
}
WEEKDAYS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}
# Words of an article that speak of the authorisation itself: its dates are the period's.
_CUES = re.compile(
    r"\b(?:autoris\w*|delivr\w*|valab\w*|validite|period\w*|duree|vigueur|accord\w*|journees?|"
    r"applicable|oeuvre|captation|survol\w*|traitement|emploi|utilis\w*|deploi\w*|deploy\w*|"
    r"engag\w*|employ\w*|dates?|horaires?|mise|mis|institu\w*|instaur\w*)\b"
)
# What a date belongs to when one of these precedes it: another text, a request, a deadline.
_REFERENCES = {
    "arrete",
    "arretes",
    "decret",
    "loi",
    "demande",
    "courrier",
    "lettre",
    "courriel",
    "mail",
    "saisine",
    "circulaire",
    "deliberation",
    "convention",
    "jugement",
    "ordonnance",
    "avis",
    "signe",
    "signee",
    "publie",
    "publiee",
    "notifie",
    "instruction",
    "requete",
    "note",
    "recepisse",
    "dossier",
    "decision",
    "reunion",
    "protocole",
    "message",
    "avant",
    "apres",
    "tard",
}
_SKIPPED_SENTENCES = re.compile(r"\babroge|\brecours\b|\btribunal administratif\b|\bexecution\b")

_DAY = r"(?:[0-3]?\d)"
_DATE = re.compile(
    rf"(?<![\d,./])(?P<days>{_DAY}(?:(?: ?, ?| et | & ){_DAY})*) ?"
    rf"(?P<month>{'|'.join(sorted(MONTHS, key=len, reverse=True))})\b\.?"
    r"(?: ?(?P<year>(?:19|20)\d\d)(?!\d))?"
)
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.])(?P<day>[0-3]?\d) ?[/.] ?(?P<month>[01]?\d) ?[/.] ?(?P<year>20\d\d|\d\d)(?![\d/.])"
)
_TIME = re.compile(
    r"(?<![\d,.:/])(?P<hour>[01]?\d|2[0-4]) ?(?:h|heures?)"
    r"(?: ?(?P<minute>[0-5]\d)(?: ?(?:min|mn|minutes?))?)?(?![a-z\d])"
    r"|(?<![\d,.:/])(?P<hour2>[01]?\d|2[0-3]) ?: ?(?P<minute2>[0-5]\d)(?!\d)"
    r"|\b(?P<word>midi|minuit)\b"
)
_FIRST = re.compile(r"(?<![a-z\d])(?:1 ?er|l ?er|1 ?°|1 ?\*|premier)(?![a-z])")
# « jeud i »: OCR splits words, weekday names included.
_SPLIT_WEEKDAY = re.compile(
    "|".join(rf"\b{' ?'.join(day)}(?![a-z])" for day in sorted(WEEKDAYS, key=len, reverse=True))
)
_ROUND_THE_CLOCK = re.compile(r"\b24 ?h? ?(?:/|sur) ?24\b|\b7 ?j(?:ours)? ?(?:/|sur) ?7\b")


@dataclass(frozen=True)
class _Date:
    days: tuple[int, ...]
    month: int | None
    year: int | None


@dataclass(frozen=True)
class _Time:
    hour: int  # 24 for « minuit » / « 24 h »: the end of the day
    minute: int


@dataclass(frozen=True)
class _Token:
    kind: str  # "D" date, "T" time, "N" bare number, "W" word, ":" colon
    text: str
    date: _Date | None = None
    time: _Time | None = None
    number: int | None = None


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def _fix_month_words(text: str) -> str:
    """« 28 aovt 2023 » → « 28 aout 2023 »: one OCR error in a month name after a day."""

    def fix(match: re.Match[str]) -> str:
        word = match.group("word")
        if word in MONTHS:
            return match.group()
        with_year = bool(match.group("year"))
        for name in _FUZZY_MONTHS:
            if (with_year or len(name) >= 6) and Levenshtein.distance(word, name) <= 1:
                return match.group().replace(word, name, 1)
        return match.group()

    return re.sub(r"(?<=\d )(?P<word>[a-z]{4,10})(?= ?\.? ?(?P<year>(?:19|20)\d\d)?)", fix, text)


def _prepare(folded: str) -> str:
    text = re.sub(r"['’`´\u25a1]", " ", folded)
    text = _FIRST.sub("1 ", text)
    text = re.sub(r"(?<!\d)2[0o][0-9o]{2}(?!\d)", lambda m: m.group().replace("o", "0"), text)
    text = _SPLIT_WEEKDAY.sub(lambda m: m.group().replace(" ", ""), text)
    text = re.sub(r"(?<=\dh) ?oo\b", "00", text)
    text = _ROUND_THE_CLOCK.sub(" ", text)
    # Letters glued to digits where OCR lost a space: « du1 mai », « 2025a9 heures ».
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d{4})(?=[a-z])", " ", text)
    return _fix_month_words(" ".join(text.split()))


def _tokens(folded: str) -> list[_Token]:
    text = _prepare(folded)
    found: list[tuple[int, int, _Token]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for match in _NUMERIC_DATE.finditer(text):
        year = int(match.group("year"))
        date = _Date((int(match.group("day")),), int(match.group("month")), 2000 + year % 100)
        found.append((match.start(), match.end(), _Token("D", match.group(), date=date)))
        taken.append(match.span())
    for match in _DATE.finditer(text):
        if not free(*match.span()):
            continue
        days = tuple(int(d) for d in re.findall(r"\d+", match.group("days")))
        stated_year = int(match.group("year")) if match.group("year") else None
        date = _Date(days, MONTHS[match.group("month")], stated_year)
        found.append((match.start(), match.end(), _Token("D", match.group(), date=date)))
        taken.append(match.span())
    for match in _TIME.finditer(text):
        if not free(*match.span()):
            continue
        if match.group("word"):
            time = _Time(12, 0) if match.group("word") == "midi" else _Time(24, 0)
        else:
            hour = match.group("hour") or match.group("hour2")
            minute = match.group("minute") or match.group("minute2") or "0"
            time = _Time(int(hour), int(minute))
            if time.hour == 24 and time.minute:
                continue
        found.append((match.start(), match.end(), _Token("T", match.group(), time=time)))
        taken.append(match.span())
    position = 0
    tokens: list[_Token] = []
    for start, end, token in sorted(found, key=lambda item: item[0]):
        tokens.extend(_plain_tokens(text[position:start]))
        tokens.append(token)
        position = end
    tokens.extend(_plain_tokens(text[position:]))
    return tokens


def _plain_tokens(text: str) -> Iterable[_Token]:
    for piece in re.findall(r"[a-z]+|\d+|:", text):
        if piece in WEEKDAYS:
            continue
        if piece == ":":
            yield _Token(":", piece)
        elif piece.isdigit():
            yield _Token("N", piece, number=int(piece))
        else:
            yield _Token("W", piece)


# ---------------------------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    start: _Time
    end: _Time | None  # None: « à partir de 18 heures »


@dataclass(frozen=True)
class _Range:
    start: _Date | None  # None: from the publication
    start_time: _Time | None
    end: _Date
    end_time: _Time | None
    windows: tuple[_Window, ...]


@dataclass(frozen=True)
class _Duration:
    start: _Date | None  # None: from the publication
    start_time: _Time | None
    amount: int
    unit: str  # days, weeks, months, years, hours


@dataclass(frozen=True)
class _Days:
    dates: tuple[_Date, ...]
    windows: tuple[_Window, ...]


_Spec = _Range | _Duration | _Days

_RANGE_OPENERS = (
    ("du",),
    ("prend", "effet", "le"),
    ("prendra", "effet", "le"),
    ("depuis", "le"),
    ("a", "compter", "du"),
    ("a", "partir", "du"),
    ("a", "dater", "du"),
    ("entre", "le"),
    ("de", "la", "journee", "du"),
    ("le",),
    ("des", "le"),
)
_RANGE_LINKS = (
    ("au",),
    ("jusqu", "au"),
    ("et", "jusqu", "au"),
    ("jusqu", "a"),
    ("et", "le"),
    ("et", "prend", "fin", "le"),
    ("et", "prendra", "fin", "le"),
    ("et", "expire", "le"),
)
_START_TIME_WORDS = (("a", "partir", "de"), ("a", "compter", "de"), ("a",), ("des",), ("vers",))
_END_TIME_WORDS = (("jusqu", "a"), ("a",), ("vers",))
_DAY_OPENERS = (
    ("pour", "la", "journee", "du"),
    ("la", "journee", "du"),
    ("les", "journees", "des"),
    ("les", "journees", "du"),
    ("le",),
    ("les",),
    ("ce",),
)
_DAILY = (("chaque", "jour"), ("tous", "les", "jours"), ("quotidiennement",), ("par", "jour"))
_WINDOW_OPENERS = (("a", "partir", "de"), ("de",), ("entre",), ("des",))
_WINDOW_LINKS = (("et", "jusqu", "a"), ("jusqu", "a"), ("a",), ("et",))
# A window with a start only: « à partir de 18 heures ».
_OPEN_WINDOW_OPENERS = (("a", "partir", "de"), ("des",))
_DURATION_OPENERS = (
    ("pour", "une", "duree", "de"),
    ("pour", "une", "duree", "d"),
    ("pour", "une", "periode", "de"),
    ("pour", "une", "periode", "d"),
    ("pendant", "une", "duree", "de"),
    ("pendant", "une", "duree", "d"),
    ("pendant",),
    ("pour",),
    ("durant",),
)
_DURATION_UNITS = {
    "jour": "days",
    "jours": "days",
    "semaine": "weeks",
    "semaines": "weeks",
    "mois": "months",
    "an": "years",
    "ans": "years",
    "annee": "years",
    "annees": "years",
    "heure": "hours",
    "heures": "hours",
}
_FROM_WORDS = (("a", "compter", "du"), ("a", "partir", "du"), ("a", "dater", "du"), ("des", "le"))
_PUBLICATION_OF = (
    ("du", "present", "arrete", "au", "recueil", "des", "actes", "administratifs"),
    ("au", "recueil", "des", "actes", "administratifs"),
    ("du", "present", "arrete"),
)
_FROM_PUBLICATION = (
    ("a", "compter", "de", "sa", "publication"),
    ("a", "compter", "de", "la", "publication"),
    ("a", "compter", "de", "la", "date", "de", "publication"),
    ("a", "partir", "de", "sa", "publication"),
    ("des", "sa", "publication"),
)


class _Grammar:
    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = tokens

    def kind(self, i: int) -> str:
        return self.tokens[i].kind if i < len(self.tokens) else ""

    def words(self, i: int, options: Sequence[tuple[str, ...]]) -> int | None:
        """The index after the first option whose words are at ``i``."""
        for option in options:
            end = i + len(option)
            if end <= len(self.tokens) and all(
                self.tokens[i + k].kind == "W" and self.tokens[i + k].text == word
                for k, word in enumerate(option)
            ):
                return end
        return None

    def optional(self, i: int, options: Sequence[tuple[str, ...]]) -> int:
        found = self.words(i, options)
        return i if found is None else found

    def time_after(self, i: int, prepositions: Sequence[tuple[str, ...]]) -> tuple[int, _Time]:
        j = self.optional(i, prepositions)
        if self.kind(j) == "T":
            time = self.tokens[j].time
            assert time is not None
            return j + 1, time
        raise LookupError

    def windows(self, i: int) -> tuple[int, tuple[_Window, ...]]:
        """« de 9 h à 12 h et de 14 h à 18 h », « à partir de 18 heures »."""
        found: list[_Window] = []
        j = self.optional(i, _DAILY)
        while True:
            k = self.words(j, _WINDOW_OPENERS)
            if k is None and self.kind(j) == "T" and self.kind(j + 1) == "T":
                k = j
            if k is None or self.kind(k) != "T":
                break
            start = self.tokens[k].time
            assert start is not None
            link = self.words(k + 1, _WINDOW_LINKS)
            if link is None and self.kind(k + 1) == "T":
                link = k + 1  # « 21h30 - 02h00 »: the dash is gone
            if link is not None and self.kind(link) == "T":
                found.append(_Window(start, self.tokens[link].time))
                j = link + 1
            elif self.words(j, _OPEN_WINDOW_OPENERS) is not None:
                found.append(_Window(start, None))
                j = k + 1
            else:
                break
            after = self.words(j, (("et",), ("puis",)))
            if after is None or self.words(after, _WINDOW_OPENERS) is None:
                break
            j = after
        if not found:
            return i, ()
        return self.optional(j, _DAILY), tuple(found)

    def range(self, i: int) -> tuple[int, _Range] | None:
        start: _Date | None
        start_time = None
        publication = self.words(i, _FROM_PUBLICATION)
        if publication is not None:
            start, j = None, self.optional(publication, _PUBLICATION_OF)
        else:
            opened = self.words(i, _RANGE_OPENERS)
            if opened is None or self.kind(opened) not in ("D", "N"):
                return None
            j = opened
            start_token = self.tokens[j]
            start = start_token.date or _Date((start_token.number or 0,), None, None)
            j += 1
            with contextlib.suppress(LookupError):
                j, start_time = self.time_after(j, _START_TIME_WORDS)
        link = self.words(j, _RANGE_LINKS)
        if link is None:
            return None
        link = self.optional(link, (("le",), ("la", "journee", "du")))
        if self.kind(link) != "D":
            return None
        end = self.tokens[link].date
        assert end is not None
        j = link + 1
        end_time = None
        with contextlib.suppress(LookupError):
            j, end_time = self.time_after(j, _END_TIME_WORDS)
        windows: tuple[_Window, ...] = ()
        if start_time is None and end_time is None:
            j, windows = self.windows(j)
        return j, _Range(start, start_time, end, end_time, windows)

    def amount(self, i: int) -> tuple[int, int, str] | None:
        """« un mois », « trois (3) jours », « 48 heures » → (next index, amount, unit)."""
        token = self.tokens[i] if i < len(self.tokens) else None
        if token is None:
            return None
        if token.kind == "T" and token.time and token.time.minute == 0:
            return i + 1, token.time.hour, "hours"
        if token.kind == "N":
            amount = token.number or 0
        elif token.kind == "W" and token.text in NUMBER_WORDS:
            amount = NUMBER_WORDS[token.text]
        else:
            return None
        j = i + 1
        if self.kind(j) == "N" or (self.kind(j) == "W" and self.tokens[j].text in NUMBER_WORDS):
            j += 1  # « trois (3) », « 3 (trois) »
        unit_token = self.tokens[j] if j < len(self.tokens) else None
        if unit_token is None or unit_token.text not in _DURATION_UNITS:
            return None
        j = self.optional(j + 1, (("consecutifs",), ("consecutives",), ("pleins",)))
        return j, amount, _DURATION_UNITS[unit_token.text]

    def start_point(self, i: int) -> tuple[int, _Date | None, _Time | None] | None:
        publication = self.words(i, _FROM_PUBLICATION)
        if publication is not None:
            return publication, None, None
        j = self.words(i, _FROM_WORDS)
        if j is None or self.kind(j) != "D":
            return None
        date = self.tokens[j].date
        try:
            k, time = self.time_after(j + 1, _START_TIME_WORDS)
        except LookupError:
            return j + 1, date, None
        return k, date, time

    def duration(self, i: int) -> tuple[int, _Duration] | None:
        j = self.words(i, _DURATION_OPENERS)
        if j is not None and (found := self.amount(j)) is not None:
            j, amount, unit = found
            start = self.start_point(j)
            if start is not None:
                end, date, time = start
                return end, _Duration(date, time, amount, unit)
        start = self.start_point(i)
        if start is None:
            return None
        j, date, time = start
        j = self.optional(j, (("et",),))
        k = self.words(j, _DURATION_OPENERS)
        if k is None or (found := self.amount(k)) is None:
            return None
        end, amount, unit = found
        return end, _Duration(date, time, amount, unit)

    def days(self, i: int, leading: tuple[_Window, ...]) -> tuple[int, list[_Days]] | None:
        """« le 1er mai 2025 de 9 h à 22 h et le 2 mai de 10 h à 18 h », « les 14 et 15 juillet »:
        each date with its own windows, or those written before the dates."""
        j = self.optional(i, _DAY_OPENERS)
        if j == i and not leading and i > 0 and self.kind(i - 1) != ":":
            return None  # a bare date (« la manifestation du 1er mai ») is no period
        bare: list[int] = []
        while self.kind(j) == "N" and (self.tokens[j].number or 0) <= 31:
            bare.append(self.tokens[j].number or 0)
            j = self.optional(j + 1, (("et", "le"), ("et",), ("le",)))
        if self.kind(j) != "D":
            return None
        date = self.tokens[j].date
        assert date is not None
        j, windows = self.windows(j + 1)
        found = [_Days((_Date((*bare, *date.days), date.month, date.year),), windows or leading)]
        while (k := self.words(j, (("et",), ("puis",), ("ainsi", "que")))) is not None:
            k = self.optional(k, _DAY_OPENERS)
            if self.kind(k) != "D":
                break
            date = self.tokens[k].date
            assert date is not None
            j, more = self.windows(k + 1)
            found.append(_Days((date,), more or windows or leading))
        return j, found


def _specs(tokens: Sequence[_Token]) -> list[tuple[int, _Spec]]:
    grammar = _Grammar(tokens)
    found: list[tuple[int, _Spec]] = []
    i = 0
    while i < len(tokens):
        start = i
        for rule in (grammar.range, grammar.duration):
            result = rule(i)
            if result is not None:
                i, spec = result
                found.append((start, spec))
                break
        else:
            after_windows, leading = grammar.windows(i)
            days = grammar.days(after_windows, leading)
            ranged = grammar.range(after_windows) if leading and days is None else None
            if days is not None:
                i, listed = days
                found.extend((start, spec_days) for spec_days in listed)
            elif ranged is not None:
                # « de 6 heures à 22 heures, du 10 au 12 octobre »: the hours of every day.
                i, spec_range = ranged
                if not (spec_range.start_time or spec_range.end_time or spec_range.windows):
                    spec_range = replace(spec_range, windows=leading)
                found.append((start, spec_range))
            else:
                i += 1
    return found


def _refers_elsewhere(tokens: Sequence[_Token], start: int) -> bool:
    """The phrase at ``start`` dates another text or a deadline (« arrêté n° 12 du … »)."""
    if [t.text for t in tokens[max(0, start - 2) : start]] == ["en", "date"]:
        return True
    for token in reversed(tokens[max(0, start - 7) : start]):
        if token.kind != "W":
            continue
        if _CUES.fullmatch(token.text):
            return False
        if token.text in _REFERENCES:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# From phrases to periods
# ---------------------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Resolver:
    def __init__(self, context: ActContext) -> None:
        self.zone = ZoneInfo(context.timezone)
        self.reference = context.signed_on or context.published_on
        self.published_on = context.published_on

    def at(self, day: dt.date, time: _Time | None, *, end: bool = False) -> dt.datetime:
        """``day`` at ``time``; no time (or « minuit ») is the day's start, or its end."""
        if time is None or time.hour == 24:
            midnight = day + dt.timedelta(days=1 if end else 0)
            return dt.datetime.combine(midnight, dt.time(), self.zone)
        return dt.datetime.combine(day, dt.time(time.hour, time.minute), self.zone)

    def year_of(self, month: int, day: int, known: int | None) -> int | None:
        if known is not None:
            return known
        if self.reference is None:
            return None
        # The year that puts the date nearest the signature, a little earlier allowed.
        candidates = [self.reference.year - 1, self.reference.year, self.reference.year + 1]
        valid = []
        for year in candidates:
            try:
                valid.append((abs((dt.date(year, month, day) - self.reference).days), year))
            except ValueError:
                continue
        return min(valid)[1] if valid else None

    def days_of(self, date: _Date, fallback: _Date | None = None) -> list[dt.date]:
        month = date.month or (fallback.month if fallback else None)
        if month is None:
            return []
        year = date.year if date.year is not None else (fallback.year if fallback else None)
        found = []
        for day in date.days:
            resolved_year = self.year_of(month, day, year)
            if resolved_year is None:
                continue
            try:
                found.append(dt.date(resolved_year, month, day))
            except ValueError:
                continue
        return found

    def windowed(
        self, days: Iterable[dt.date], windows: Sequence[_Window]
    ) -> list[tuple[dt.datetime, dt.datetime | None]]:
        found: list[tuple[dt.datetime, dt.datetime | None]] = []
        for day in days:
            if not windows:
                found.append((self.at(day, None), self.at(day, None, end=True)))
                continue
            for window in windows:
                start = self.at(day, window.start if window.start.hour < 24 else _Time(0, 0))
                if window.end is None:
                    found.append((start, None))
                    continue
                end = self.at(day, window.end, end=window.end.hour == 24)
                if end <= start:
                    end = self.at(day + dt.timedelta(days=1), window.end)
                found.append((start, end))
        return found

    def periods(self, spec: _Spec) -> list[tuple[dt.datetime, dt.datetime | None]]:
        if isinstance(spec, _Range):
            ends = self.days_of(spec.end)
            fallback = _Date((), spec.end.month, ends[-1].year if ends else spec.end.year)
            if spec.start is None:
                starts = [self.published_on] if self.published_on else []
            else:
                starts = self.days_of(spec.start, fallback)
            if not starts or not ends:
                return []
            first, last = starts[0], ends[-1]
            if first > last and spec.start is not None and spec.start.year is None:
                first = first.replace(year=first.year - 1)
            if first > last:
                return []
            if spec.windows:
                count = (last - first).days + 1
                return self.windowed(
                    (first + dt.timedelta(days=n) for n in range(count)), spec.windows
                )
            start = self.at(first, spec.start_time)
            end = self.at(last, spec.end_time, end=True)
            return [(start, end)] if end > start else []
        if isinstance(spec, _Duration):
            if spec.start is None:
                if self.published_on is None:
                    return []
                first = self.published_on
            else:
                days = self.days_of(spec.start)
                if not days:
                    return []
                first = days[0]
            start = self.at(first, spec.start_time)
            if spec.unit == "hours":
                end = start + dt.timedelta(hours=spec.amount)
            elif spec.unit in ("days", "weeks"):
                length = spec.amount * (7 if spec.unit == "weeks" else 1)
                end = self.at(first + dt.timedelta(days=length), spec.start_time)
            else:
                months = spec.amount * (12 if spec.unit == "years" else 1)
                end = self.at(_add_months(first, months), spec.start_time)
            return [(start, end)]
        days_found = [day for date in spec.dates for day in self.days_of(date)]
        return self.windowed(days_found, spec.windows)


def _merge(found: list[Period]) -> list[Period]:
    """Sorted, without duplicates, touching or overlapping periods joined."""
    merged: list[Period] = []
    for period in sorted(found, key=lambda p: (p.start, p.end or p.start)):
        if merged:
            last = merged[-1]
            if last.end is not None and period.start <= last.end:
                end = last.end if period.end is None else max(last.end, period.end)
                evidence = last.evidence
                if period.evidence not in evidence:
                    evidence = f"{evidence} … {period.evidence}"
                merged[-1] = Period(last.start, end, evidence)
                continue
            if last.end is None and period.start == last.start:
                merged[-1] = period
                continue
        merged.append(period)
    return merged


def _sentence_periods(sentence: Sentence, resolver: _Resolver) -> list[Period]:
    tokens = _tokens(sentence.folded)
    found: list[Period] = []
    specs = _specs(tokens)
    for start, spec in specs:
        if _refers_elsewhere(tokens, start):
            continue
        for begin, end in resolver.periods(spec):
            found.append(Period(begin, end, sentence.text))
    return found


def periods(sentences: Sequence[Sentence], context: ActContext) -> list[Period]:
    """The periods the act authorises, read from its articles (else its title)."""
    resolver = _Resolver(context)
    operative = [s for s in sentences if s.section is Section.OPERATIVE]
    if not operative:
        # OCR can lose « ARRÊTE » and the article headings: read what is not a citation.
        operative = [s for s in sentences if s.section is Section.TITLE]
    articles_with_cues = {s.article for s in operative if _CUES.search(s.folded)}
    found: list[Period] = []
    for sentence in operative:
        if sentence.article not in articles_with_cues or _SKIPPED_SENTENCES.search(sentence.folded):
            continue
        found.extend(_sentence_periods(sentence, resolver))
    if not found:
        for sentence in sentences:
            if sentence.section is Section.TITLE and not _SKIPPED_SENTENCES.search(sentence.folded):
                found.extend(_sentence_periods(sentence, resolver))
    return _merge(found)
