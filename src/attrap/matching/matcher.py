"""Match an act against the rules: one hit per category whose score reaches its threshold.

Phrases match exactly on the folded text (see ``normalise``), tolerating a stray space between any
two characters (OCR) and singular/plural word endings; phrases long enough to be distinctive also
match fuzzily (rapidfuzz) so that « a6ronefs » still counts. Patterns are regexes on the folded
text. Occurrences inside « Vu … » citations count less: citing the drone decree is not authorising
a drone. The evidence (snippet, page) is the strongest signal's first occurrence in the act.

Legal references are attributed to the code or law they belong to, the way French legal citations
are written, within one clause (up to « ; », the end of a sentence or the next paragraph):
« l'article L. 242-5 du code de la sécurité intérieure » (the text named right after the article
list), « Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8 » (the
last text of the expected kind, code or law, named before it in the clause), « du même code »,
« dudit code » (the last code named before). An article of another text never counts; one whose
text is not said counts only when another signal of the category fired.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from attrap import french
from attrap.config import Settings
from attrap.documents.segment import ActSegment
from attrap.matching.normalise import Normalised, fold, normalise
from attrap.matching.rules import Category, Exclusion, LegalText, Rules, Signal, load_rules

# A paragraph of the act starts with one of these; citation paragraphs start with « Vu ».
_PARAGRAPH_START = re.compile(
    r"^(?:vu\b|considerant|article|art\.?\s*\d|arrete|arretent|decide|le prefet|la prefete|"
    r"sur (?:la )?proposition|fait (?:a|le)\b|annexe|pour le prefet)"
)
_CITATION = re.compile(r"^vu\b")
# A clause ends at « ; » or at a sentence end (« . » before a capitalised word, not « L. 242 »).
_CLAUSE_END = re.compile(r";|[.!?](?=\s+[A-ZÀ-Ý][a-zà-ÿ])")

# How legal texts are named, on folded text; ``kind`` lets « du même code » find its code
# (ordinances and EU regulations are filed with decrees: their articles are nobody's we look for).
_NAMED_TEXT = re.compile(
    r"\b(?P<code>codes? (?:de|du|des|d|general|rural|civil|penal|minier|forestier|electoral|"
    r"monetaire|international) |(?:csi|css|cgct|cch|cgi|cpp|ceseda|casf|cgppp)\b)"
    r"|\b(?P<loi>lois? (?:organique |constitutionnelle )?(?:n |no |numero )?\d{2,4} ?\d+"
    r"|lois? du \d)"
    r"|\b(?P<decret>(?:decret|ordonnance|reglement)s? (?:d execution |delegue )?(?:ue |ce )?"
    r"(?:n |no |numero )?(?:du )?\d)"
)
# « du même code », « dudit code », « de ladite loi », « du code précité ».
_SAME_TEXT = re.compile(
    r"\b(?:(?:du|au|de la|a la) meme|dudit|audit|de ladite|a ladite|de ce|a ce|de cette|a cette)"
    r" (?P<kind>code|loi|decret)\b"
    r"|\b(?:du|au|de la|a la) (?P<kind2>code|loi|decret) (?:precite|susvise|susmentionne)e?\b"
)
# What may sit between an article number and the text it belongs to: « L. 242-1 à L. 242-8 et
# R. 242-8 », « 10, alinéa 2 », « et suivants », then « du », « de la »…
_ARTICLE_LIST = re.compile(
    r"(?: (?:et|ou|a|aux?|articles?|alineas?|[lrd]|\d+|1er|premier|suivants|s)(?![a-z0-9]))*"
    r"(?P<preposition> (?:du|de la|de l|de|d|des|au|a la|a l)(?![a-z0-9]))?"
)


@dataclass(frozen=True)
class HitCandidate:
    """A category an act belongs to, with the evidence a reader checks."""

    category: str
    score: float
    terms: tuple[str, ...]
    snippet: str  # the original text around the strongest term
    page: int


# Phrases at least this long (letters) match inside glued words too (« decamérasinstallées
# surdesaéronefs »); shorter ones only as whole words (« drone » is not in « hippodrome »).
GLUED_MIN_LETTERS = 15


def phrase_regex(phrase: str) -> str:
    """A regex for a phrase on folded text: optional space between characters, plurals optional,
    whole words unless the phrase is long."""
    words = []
    folded = fold(phrase)
    for word in folded.split():
        if word.isalpha() and len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        body = " ?".join(re.escape(c) for c in word)
        words.append(body + ("(?: ?[sx])?" if word.isalpha() and len(word) >= 3 else ""))
    if len(folded.replace(" ", "")) >= GLUED_MIN_LETTERS:
        return " ?".join(words)
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
class _Mention:
    """A legal text named in the act (folded coordinates); « du même code » is resolved."""

    start: int
    kind: str  # "code", "loi" or "decret"
    named_at: int | None  # where the text is named by its name; None when nothing names it


@dataclass(frozen=True)
class _Fired:
    term: str
    weight: float
    occurrence: _Occurrence
    signal: str = ""


@dataclass(frozen=True)
class FiredSignal:
    """One signal that fired in an act, for ``attrap scan --explain``."""

    signal: str  # its name in the rules
    term: str  # what matched, as printed
    weight: float  # what it added to the score (citations discounted, fuzzy matches scaled)
    cited: bool  # found inside a « Vu … » citation
    page: int


@dataclass(frozen=True)
class CategoryExplanation:
    category: str
    score: float
    min_score: float
    signals: tuple[FiredSignal, ...]
    excluded_by: tuple[str, ...]  # exclusions that kept the act out of the category
    hit: HitCandidate | None


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
        self.clause_starts = self._clause_starts()
        self.mentions = self._mentions()

    def _citation_spans(self) -> list[tuple[int, int]]:
        """[start, end) spans of « Vu … » paragraphs, in folded coordinates."""
        spans: list[tuple[int, int]] = []
        original = self.normalised.original
        origin = self.normalised.origin
        position = 0
        open_at: int | None = None
        for line in original.splitlines(keepends=True):
            folded = french.fold(line)
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

    def _clause_starts(self) -> list[int]:
        """Folded positions where a clause starts: after « ; », a sentence end, a paragraph."""
        original = self.normalised.original
        starts = {0}
        position = 0
        for line in original.splitlines(keepends=True):
            folded = french.fold(line)
            if not folded or _PARAGRAPH_START.match(folded):
                starts.add(position)
            position += len(line)
        starts.update(end.end() for end in _CLAUSE_END.finditer(original))
        return sorted({bisect.bisect_left(self.normalised.origin, s) for s in starts})

    def _mentions(self) -> list[_Mention]:
        text = self.normalised.text
        named = [
            _Mention(m.start(), m.lastgroup or "", m.start()) for m in _NAMED_TEXT.finditer(text)
        ]
        mentions = list(named)
        for same in _SAME_TEXT.finditer(text):
            kind = same.group("kind") or same.group("kind2")
            before = [m for m in named if m.kind == kind and m.start < same.start()]
            mentions.append(_Mention(same.start(), kind, before[-1].start if before else None))
        return sorted(mentions, key=lambda m: m.start)

    def attribute(self, start: int, end: int, kind: str) -> _Mention | None:
        """The legal text an article reference at [start, end) belongs to, if the act says: the
        text named right after the article list, else the last text of ``kind`` named before it
        in its clause."""
        text = self.normalised.text
        following = _ARTICLE_LIST.match(text, end)
        if following is not None:
            # « du code … » starts after the preposition, « du même code » with it.
            candidates = {following.end() + 1}
            if following.group("preposition"):
                candidates.add(following.start("preposition") + 1)
            for mention in self.mentions:
                if mention.start in candidates:
                    return mention
        clause_start = self.clause_starts[bisect.bisect_right(self.clause_starts, start) - 1]
        preceding = [m for m in self.mentions if clause_start <= m.start < start and m.kind == kind]
        return preceding[-1] if preceding else None

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
        text = " ".join(french.rejoin_hyphenated(original[left:right]).split())
        return ("… " if left > 0 else "") + text + (" …" if right < len(original) else "")


class Matcher:
    """Compiled rules; ``match`` is pure and cheap enough to run on every act of every bulletin."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._compiled = [
            (
                category,
                [(signal, self._compile(signal, signal.fuzzy)) for signal in category.signals],
            )
            for category in rules.categories
        ]
        self._legal_texts = {
            key: self._compile(legal_text) for key, legal_text in rules.legal_texts.items()
        }
        self._exclusions = [
            (set(exclusion.categories), self._compile(exclusion, fuzzy=False))
            for exclusion in rules.exclusions
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

    def _compile(self, terms: LegalText | Signal | Exclusion, fuzzy: bool = True) -> list[_Term]:
        compiled = []
        for phrase in terms.phrases:
            folded = fold(phrase)
            long_enough = len(folded.replace(" ", "")) >= self.rules.fuzzy_min_length
            fuzzy_text = folded if fuzzy and long_enough else None
            compiled.append(_Term(phrase, re.compile(phrase_regex(phrase)), fuzzy_text))
        compiled.extend(_Term("", re.compile(pattern), None) for pattern in terms.patterns)
        return compiled

    def match(self, act: ActSegment) -> list[HitCandidate]:
        return [c.hit for c in self.explain(act) if c.hit is not None]

    def explain(self, act: ActSegment) -> list[CategoryExplanation]:
        """Every category's score for the act, with the signals that fired and the exclusions
        that applied; a category with a hit carries it."""
        text = _ActText(act)
        excluded: dict[str, list[str]] = {}
        for exclusion, (categories, terms) in zip(
            self.rules.exclusions, self._exclusions, strict=True
        ):
            if any(not o.cited for term in terms for o, _ in self._occurrences(term, text)):
                for excluded_id in categories:
                    excluded.setdefault(excluded_id, []).append(exclusion.name)
        explained = []
        for category, signals in self._compiled:
            fired, score, hit = self._match_category(category, signals, text)
            reasons = tuple(excluded.get(category.id, ()))
            explained.append(
                CategoryExplanation(
                    category=category.id,
                    score=round(score, 3),
                    min_score=category.min_score,
                    signals=tuple(
                        FiredSignal(
                            f.signal,
                            f.term,
                            round(f.weight, 3),
                            f.occurrence.cited,
                            text.page_of(f.occurrence.start),
                        )
                        for f in fired
                    ),
                    excluded_by=reasons,
                    hit=None if reasons else hit,
                )
            )
        return explained

    def _match_category(
        self, category: Category, signals: list[tuple[Signal, list[_Term]]], text: _ActText
    ) -> tuple[list[_Fired], float, HitCandidate | None]:
        fired = [
            f
            for s, terms in signals
            if s.article_of is None and (f := self._fire(s, terms, text)) is not None
        ]
        # An article reference whose text the act does not say needs another signal beside it.
        corroborated = any(f.weight > 0 for f in fired)
        fired += [
            f
            for s, terms in signals
            if s.article_of is not None
            and (f := self._fire(s, terms, text, corroborated)) is not None
        ]
        score = min(1.0, max(0.0, sum(f.weight for f in fired)))
        if score < category.min_score:
            return fired, score, None
        # The evidence shown: what the act itself says (not a citation), strongest first.
        positive = sorted(
            (f for f in fired if f.weight > 0),
            key=lambda f: (f.occurrence.cited, -f.weight, f.occurrence.start),
        )
        strongest = positive[0].occurrence
        return (
            fired,
            score,
            HitCandidate(
                category=category.id,
                score=round(score, 3),
                terms=tuple(dict.fromkeys(f.term for f in positive)),
                snippet=text.snippet(strongest, self.rules.snippet_chars),
                page=text.page_of(strongest.start),
            ),
        )

    def _fire(
        self, signal: Signal, terms: list[_Term], text: _ActText, corroborated: bool = False
    ) -> _Fired | None:
        """The signal's best occurrence (uncited beats cited, exact beats fuzzy), or None."""
        accept: Callable[[int, int], bool] | None = None
        if signal.article_of is not None:
            kind = self.rules.legal_texts[signal.article_of].kind
            legal_text = self._legal_texts[signal.article_of]

            def of_the_legal_text(start: int, end: int) -> bool:
                owner = text.attribute(start, end, kind)
                if owner is None or owner.named_at is None:
                    return corroborated
                return self._names(legal_text, text, owner.named_at)

            accept = of_the_legal_text

        best: _Fired | None = None
        for term in terms:
            for occurrence, matched in self._occurrences(term, text, accept):
                factor = 1.0
                if occurrence.cited and signal.citations == "discount":
                    factor = self.rules.citation_factor
                weight = signal.weight * factor * occurrence.similarity
                if best is None or abs(weight) > abs(best.weight):
                    best = _Fired(term.label or matched, weight, occurrence, signal.name)
        return best

    def _names(self, legal_text: list[_Term], text: _ActText, position: int) -> bool:
        """Whether the legal text named at ``position`` is this one (OCR damage tolerated)."""
        folded = text.normalised.text
        for term in legal_text:
            if term.regex.match(folded, position):
                return True
            if term.fuzzy_text is not None:
                printed = folded[position : position + len(term.fuzzy_text)]
                if fuzz.ratio(term.fuzzy_text, printed) >= self.rules.fuzzy_threshold:
                    return True
        return False

    def _occurrences(
        self, term: _Term, text: _ActText, accept: Callable[[int, int], bool] | None = None
    ) -> list[tuple[_Occurrence, str]]:
        """The first uncited and the first cited occurrence of a term (exact, else fuzzy) among
        those ``accept`` keeps."""
        found: dict[bool, tuple[_Occurrence, str]] = {}
        folded = text.normalised
        for m in term.regex.finditer(folded.text):
            if accept is not None and not accept(m.start(), m.end()):
                continue
            cited = text.cited(m.start())
            if cited not in found:
                start, end = folded.span_in_original(m.start(), m.end())
                matched = " ".join(french.rejoin_hyphenated(folded.original[start:end]).split())
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
