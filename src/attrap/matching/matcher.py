"""Match an act against the rules: one hit per category whose score reaches its threshold.

Phrases match exactly on the folded text (see ``normalise``), tolerating a stray space between any
two characters (OCR) and singular/plural word endings; phrases long enough to be distinctive also
match fuzzily (rapidfuzz) so that « a6ronefs » still counts. Patterns are regexes on the folded
text. Occurrences inside « Vu … » citations count less: citing the drone decree is not authorising
a drone. The evidence (snippet, page) is the strongest signal's first occurrence in the act.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from attrap.config import Settings
from attrap.documents.segment import ActSegment, fold_line
from attrap.matching.normalise import Normalised, fold, normalise
from attrap.matching.rules import Category, Rules, Signal, load_rules

# A paragraph of the act starts with one of these; citation paragraphs start with « Vu ».
_PARAGRAPH_START = re.compile(
    r"^(?:vu\b|considerant|article|art\.?\s*\d|arrete|arretent|decide|le prefet|la prefete|"
    r"sur (?:la )?proposition|fait (?:a|le)\b|annexe|pour le prefet)"
)
_CITATION = re.compile(r"^vu\b")
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\n[ \t]*(?=[^\W\d_])")


@dataclass(frozen=True)
class HitCandidate:
    """A category an act belongs to, with the evidence a reader checks."""

    category: str
    score: float
    terms: tuple[str, ...]
    snippet: str  # the original text around the strongest term
    page: int


def phrase_regex(phrase: str) -> str:
    """A regex for a phrase on folded text: optional space between characters, plurals optional."""
    words = []
    for word in fold(phrase).split():
        if word.isalpha() and len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        body = " ?".join(re.escape(c) for c in word)
        words.append(body + ("(?: ?[sx])?" if word.isalpha() and len(word) >= 3 else ""))
    return r"(?<![a-z0-9])" + " ?".join(words) + r"(?![a-z0-9])"


@dataclass(frozen=True)
class _Term:
    label: str  # what a reader sees in ``terms``; "" → the matched text itself
    regex: re.Pattern[str]
    fuzzy_text: str | None  # the folded phrase, when long enough for fuzzy matching


@dataclass(frozen=True)
class _Occurrence:
    start: int  # in folded text
    end: int
    cited: bool
    similarity: float  # 1.0 for exact matches


@dataclass(frozen=True)
class _Fired:
    term: str
    weight: float
    occurrence: _Occurrence


class _ActText:
    """An act's text joined across pages, folded, with its citation paragraphs located."""

    def __init__(self, act: ActSegment) -> None:
        self.page_numbers = [page.number for page in act.pages]
        self.page_offsets: list[int] = []
        parts: list[str] = []
        offset = 0
        for page in act.pages:
            self.page_offsets.append(offset)
            parts.append(page.text)
            offset += len(page.text) + 1
        self.normalised: Normalised = normalise("\n".join(parts))
        self.citations = self._citation_spans()

    def _citation_spans(self) -> list[tuple[int, int]]:
        """[start, end) spans of « Vu … » paragraphs, in folded coordinates."""
        spans: list[tuple[int, int]] = []
        original = self.normalised.original
        origin = self.normalised.origin
        position = 0
        open_at: int | None = None
        for line in original.splitlines(keepends=True):
            folded = fold_line(line)
            if _PARAGRAPH_START.match(folded) or not folded:
                if open_at is not None:
                    spans.append((open_at, position))
                    open_at = None
                if _CITATION.match(folded):
                    open_at = position
            position += len(line)
        if open_at is not None:
            spans.append((open_at, len(original)))
        return [(bisect.bisect_left(origin, s), bisect.bisect_left(origin, e)) for s, e in spans]

    def cited(self, position: int) -> bool:
        index = bisect.bisect_right(self.citations, (position, len(self.normalised.text))) - 1
        return index >= 0 and self.citations[index][0] <= position < self.citations[index][1]

    @cached_property
    def uncited_text(self) -> str:
        """The folded text with citations blanked out (same length, so offsets still hold)."""
        chars = list(self.normalised.text)
        for start, end in self.citations:
            chars[start:end] = " " * (end - start)
        return "".join(chars)

    def page_of(self, folded_position: int) -> int:
        original = self.normalised.origin[folded_position] if self.normalised.origin else 0
        return self.page_numbers[bisect.bisect_right(self.page_offsets, original) - 1]

    def snippet(self, occurrence: _Occurrence, width: int) -> str:
        original = self.normalised.original
        start, end = self.normalised.span_in_original(occurrence.start, occurrence.end)
        margin = max(20, (width - (end - start)) // 2)
        left, right = max(0, start - margin), min(len(original), end + margin)
        # Cut on word boundaries, never inside the matched words.
        if left > 0 and (space := re.search(r"\s", original[left:start])):
            left += space.end()
        if right < len(original) and (last := re.search(r"\s\S*$", original[end:right])):
            right = end + last.start()
        text = " ".join(_LINE_END_HYPHEN.sub("", original[left:right]).split())
        return ("… " if left > 0 else "") + text + (" …" if right < len(original) else "")


class Matcher:
    """Compiled rules; ``match`` is pure and cheap enough to run on every act of every bulletin."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._compiled = [
            (category, [(signal, self._compile(signal)) for signal in category.signals])
            for category in rules.categories
        ]

    @classmethod
    def from_settings(cls, settings: Settings) -> Matcher:
        return cls(load_rules(settings))

    @property
    def version(self) -> str:
        return self.rules.version

    @property
    def categories(self) -> list[str]:
        return [category.id for category in self.rules.categories]

    def _compile(self, signal: Signal) -> list[_Term]:
        terms = []
        for phrase in signal.phrases:
            folded = fold(phrase)
            long_enough = len(folded.replace(" ", "")) >= self.rules.fuzzy_min_length
            fuzzy_text = folded if signal.fuzzy and long_enough else None
            terms.append(_Term(phrase, re.compile(phrase_regex(phrase)), fuzzy_text))
        terms.extend(_Term("", re.compile(pattern), None) for pattern in signal.patterns)
        return terms

    def match(self, act: ActSegment) -> list[HitCandidate]:
        text = _ActText(act)
        hits = []
        for category, signals in self._compiled:
            hit = self._match_category(category, signals, text)
            if hit is not None:
                hits.append(hit)
        return hits

    def _match_category(
        self, category: Category, signals: list[tuple[Signal, list[_Term]]], text: _ActText
    ) -> HitCandidate | None:
        fired = [f for s, terms in signals if (f := self._fire(s, terms, text)) is not None]
        score = min(1.0, max(0.0, sum(f.weight for f in fired)))
        if score < category.min_score:
            return None
        # The evidence shown: what the act itself says (not a citation), strongest first.
        positive = sorted(
            (f for f in fired if f.weight > 0),
            key=lambda f: (f.occurrence.cited, -f.weight, f.occurrence.start),
        )
        strongest = positive[0].occurrence
        return HitCandidate(
            category=category.id,
            score=round(score, 3),
            terms=tuple(dict.fromkeys(f.term for f in positive)),
            snippet=text.snippet(strongest, self.rules.snippet_chars),
            page=text.page_of(strongest.start),
        )

    def _fire(self, signal: Signal, terms: list[_Term], text: _ActText) -> _Fired | None:
        """The signal's best occurrence (uncited beats cited, exact beats fuzzy), or None."""
        best: _Fired | None = None
        for term in terms:
            for occurrence, matched in self._occurrences(term, text):
                factor = 1.0
                if occurrence.cited and signal.citations == "discount":
                    factor = self.rules.citation_factor
                weight = signal.weight * factor * occurrence.similarity
                if best is None or abs(weight) > abs(best.weight):
                    best = _Fired(term.label or matched, weight, occurrence)
        return best

    def _occurrences(self, term: _Term, text: _ActText) -> list[tuple[_Occurrence, str]]:
        """The first uncited and the first cited occurrence of a term (exact, else fuzzy)."""
        found: dict[bool, tuple[_Occurrence, str]] = {}
        folded = text.normalised
        for m in term.regex.finditer(folded.text):
            cited = text.cited(m.start())
            if cited not in found:
                start, end = folded.span_in_original(m.start(), m.end())
                matched = " ".join(_LINE_END_HYPHEN.sub("", folded.original[start:end]).split())
                found[cited] = (_Occurrence(m.start(), m.end(), cited, 1.0), matched)
            if False in found:
                break
        if not found and term.fuzzy_text is not None:
            for haystack, cited in ((text.uncited_text, False), (folded.text, True)):
                aligned = fuzz.partial_ratio_alignment(
                    term.fuzzy_text, haystack, score_cutoff=self.rules.fuzzy_threshold
                )
                if aligned is not None:
                    occurrence = _Occurrence(
                        aligned.dest_start, aligned.dest_end, cited, aligned.score / 100
                    )
                    found[cited] = (occurrence, term.label)
                    break
        return list(found.values())
