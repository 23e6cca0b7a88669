"""The maximum number of cameras (and of aircraft) used at once, as the articles fix it.

« Le nombre maximal de caméras pouvant procéder simultanément aux traitements est fixé à trois »,
« … ne peut excéder quatre (4) », « au plus 2 caméras », « 4 caméras au maximum », « dans la limite
de deux aéronefs ». A number of cameras without such words (« au moyen d'une caméra installée
sur un hélicoptère ») is no maximum, and none is inferred from a number of aircraft.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from attrap.facts.dates import NUMBER_WORDS
from attrap.facts.text import Section, Sentence

_NUMBER = r"(?P<number>\d{1,4}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")\b"
_NOUNS = {
    "cameras": r"cam[eé]ras?|dispositifs? de captation|capteurs?",
    "aircraft": r"a[eé]ronefs?|drones?|h[eé]licopt[eè]res?",
}
_LIMIT_BEFORE = (
    r"(?:au plus|au maximum|jusqu['’ ]\s?[àa]|dans la limite d[eu'’]\s?|maximum de|"
    r"limit[eé]e? [àa]|pas plus de|n['’ ]\s?exc[eé]dant pas|ne d[eé]passant pas)\s*"
)
# Between a number and its noun: « trois (3) caméras », « une seule caméra ».
_COUNTED = r"\s*(?:\(\s*\w+\s*\)\s*)?(?:seule?s?\s+)?"
_LIMIT_AFTER = r"\s*(?:au maximum|au plus|maximum|simultan[eé]ment|en m[eê]me temps|[àa] la fois)\b"


def _patterns(noun: str) -> tuple[re.Pattern[str], ...]:
    flags = re.IGNORECASE
    return (
        # « Le nombre maximal de caméras … est fixé à trois », « … est de : 2 (deux) ».
        re.compile(
            rf"nombre\s+(?:maxim(?:al|um)|total|max\.?)?\s*(?:de\s+|d['’]\s?)(?:{noun})\b"
            r"[^.;]{0,160}?(?:est\s+(?:fix[eé]\s+)?(?:[àa]|de)|sont\s+(?:de|au nombre de)|"
            r"fix[eé]\s+[àa]|limit[eé]\s+[àa]|:|=|ne\s+(?:peut|pourra|doit)\s+(?:pas\s+)?"
            r"(?:exc[eé]der|d[eé]passer|[eê]tre\s+sup[eé]rieur\s+[àa]))\s*:?\s*" + _NUMBER,
            flags,
        ),
        # « le nombre maximal de trois caméras »
        re.compile(
            r"nombre\s+maxim(?:al|um)\s+(?:de\s+|d['’]\s?)" + _NUMBER + rf"{_COUNTED}(?:{noun})\b",
            flags,
        ),
        re.compile(_LIMIT_BEFORE + _NUMBER + rf"{_COUNTED}(?:{noun})\b", flags),
        re.compile(_NUMBER + rf"{_COUNTED}(?:{noun})\b[^.;]{{0,60}}?" + _LIMIT_AFTER, flags),
    )


_PATTERNS = {kind: _patterns(noun) for kind, noun in _NOUNS.items()}


def _value(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def maximum(sentences: Sequence[Sentence], kind: str) -> tuple[int, str] | None:
    """The maximum number of ``kind`` ("cameras" or "aircraft") and its sentence."""
    for section in (Section.OPERATIVE, Section.TITLE):
        for sentence in sentences:
            if sentence.section is not section:
                continue
            text = " ".join(sentence.text.split())
            for pattern in _PATTERNS[kind]:
                match = pattern.search(text)
                if match:
                    value = _value(match.group("number"))
                    if value > 0:
                        return value, sentence.text
    return None
