"""French wording and safe highlighting for the web page and the feeds."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from attrap.french import long_date, strip_accents
from attrap.matching.categories import catalogue

# Letters that PDF text writes with or without accents: a search for "video" finds "vidéo".
ACCENT_VARIANTS = {
    "a": "aàâä",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîï",
    "o": "oôö",
    "u": "uùûü",
    "y": "yÿ",
}


def category_label(category: str) -> str:
    return catalogue().label(category)


def category_colour(category: str) -> str:
    return catalogue().colour(category)


def french_date(value: dt.date | None) -> str:
    if value is None:
        return "date inconnue"
    return long_date(value)


def _pattern(phrase: str, *, prefix: bool) -> str:
    parts = []
    for char in strip_accents(phrase):
        if char.isspace():
            parts.append(r"\s+")
        elif char in ACCENT_VARIANTS:
            parts.append(f"[{ACCENT_VARIANTS[char]}]")
        else:
            parts.append(re.escape(char))
    # Whole words only: "drone" must not light up inside "hippodrome".
    return r"(?<!\w)" + "".join(parts) + (r"\w*" if prefix else r"(?!\w)")


def highlight(text: str, terms: Iterable[str] = (), words: Iterable[str] = ()) -> Markup:
    """``text`` escaped, with the matched ``terms`` (exact phrases) and query ``words``
    (prefixes) wrapped in ``<mark>``. Text from PDFs is untrusted: nothing of it is markup."""
    patterns = [_pattern(t, prefix=False) for t in terms if t.strip()]
    patterns += [_pattern(w, prefix=True) for w in words if w.strip()]
    if not patterns:
        return escape(text)
    # Longest first, so that a phrase wins over a word it contains.
    matcher = re.compile("|".join(sorted(patterns, key=len, reverse=True)), re.IGNORECASE)
    pieces: list[Markup] = []
    position = 0
    for match in matcher.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        pieces.append(Markup("<mark>{}</mark>").format(match.group()))
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)
