"""Text normalisation for matching, with a map back to the original text.

Matching runs on a folded form of an act's text: NFKC (ligatures, superscripts), case and accent
folding, « œ » → « oe », words hyphenated across line ends re-joined, and every run of punctuation
or whitespace reduced to one space. « L.242-5 », « L 242-5 » and « L. 242-5 » all become
« l 242 5 ». ``Normalised.origin`` maps each folded character back to its index in the original, so
snippets are cut from the text as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from attrap.french import LINE_END_HYPHEN, strip_accents

# « l' » read as « I' » or « |' » by OCR (« I'enregistrement », « I' Etat »): same length, so the
# map back to the original text holds.
_L_READ_AS_I = re.compile(r"(?<![^\W\d_])[I|](?=['’\u25a1] ?[^\W\d_])")
# Letters NFKD does not decompose.
_EXTRA_FOLDS = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i"}


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One original character → its folded letters/digits, or " " for a separator."""
    if char == "\u00ad":  # soft hyphen: invisible, never a word break
        return ""
    out = []
    for c in strip_accents(char):
        c = _EXTRA_FOLDS.get(c, c)
        out.append(c if c.isalnum() else " ")
    return "".join(out)


@dataclass(frozen=True)
class Normalised:
    """Folded text; ``origin[i]`` is the index in the original text of folded character ``i``."""

    text: str
    origin: tuple[int, ...]
    original: str

    def span_in_original(self, start: int, end: int) -> tuple[int, int]:
        """The original text's [start, end) covering folded characters [start, end)."""
        if start >= end:
            position = self.origin[start] if start < len(self.origin) else len(self.original)
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    original = text
    text = _L_READ_AS_I.sub("l", text)
    dropped: set[int] = set()
    for hyphen in LINE_END_HYPHEN.finditer(text):
        dropped.update(range(hyphen.start(), hyphen.end()))
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if index in dropped:
            continue
        for folded in _fold_char(char):
            if folded == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(folded)
            origin.append(index)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return Normalised("".join(chars), tuple(origin), original)


def fold(text: str) -> str:
    """The folded form alone, for patterns and comparisons."""
    return normalise(text).text
