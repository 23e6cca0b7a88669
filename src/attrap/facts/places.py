"""Where an order applies: the communes it names, with their INSEE code, and its perimeter.

Communes are looked up in the Code officiel géographique (``communes.tsv.xz``, built by
``scripts/build_communes.py``), among those of the administration's territory only: « Saint-Denis »
is 93066 in a Seine-Saint-Denis order and 97411 in a Réunion one. A name counts where the act
says where it applies (title, reasons, articles), not in citations, the signature (« Fait à
Marseille »), the recourse clause (« tribunal administratif de Nice ») nor in street names
(« avenue de Paris »). « La commune de X » names a commune even outside the territory: it is kept
without a code.
"""

from __future__ import annotations

import lzma
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from attrap.facts.model import Commune
from attrap.facts.text import Section, Sentence, strip_article_heading
from attrap.matching.normalise import Normalised, fold, normalise

# The Préfecture de police acts in Paris and its inner suburbs.
POLICE_DEPARTMENTS = ("75", "92", "93", "94")
# Words after which a commune's name is the name of something else.
_NOT_THE_COMMUNE = re.compile(
    r"(?:\b(?:rue|avenue|av|boulevard|bd|route|rte|chemin|place|quai|cours|allee|impasse|voie|"
    r"porte|pont|gare|stade|parc|square|esplanade|autoroute|rocade|periph\w*|tribunal \w+|"
    r"cour \w+ d appel|prefet|prefete|prefecture|sous prefecture|sous prefet|diocese|academie|"
    r"universite|departement|canal|boulevard peripherique|bretelle|echangeur|sortie|rond point|"
    # A service's territory (« police nationale du Doubs »), not the commune Doubs.
    r"nationale|publique|departementale|frontieres|douanes|gendarmerie)"
    r"(?: (?:de|du|des|d|la|le|les|l))*) $"
)
_SKIPPED = re.compile(r"\brecours\b|\btribunal administratif\b|\bexecution\b|\bpublie au recueil")
_COMMUNE_OF = re.compile(
    r"\b[Cc]ommunes? (?:de |d'|d’)(?P<names>[A-ZÀ-Ý][\w'’-]+(?:(?:, | et )[A-ZÀ-Ý][\w'’-]+)*)"
)
_PERIMETER = re.compile(r"\bperimetre\b|\bzones? geographiques?\b|\bsecteurs? geographiques?\b")
MAX_PERIMETER_CHARS = 1500


@dataclass(frozen=True)
class _Entry:
    insee: str
    name: str
    department: str
    region: str


@cache
def _reference() -> tuple[_Entry, ...]:
    data = resources.files("attrap.facts").joinpath("communes.tsv.xz").read_bytes()
    rows = lzma.decompress(data).decode("utf-8").splitlines()
    return tuple(_Entry(*row.split("\t")) for row in rows)


def territory(code: str, department: str | None, kind: str) -> tuple[str, ...]:
    """The départements whose communes an administration's orders may name."""
    if kind == "region" and code.upper().startswith("R"):
        region = code[1:]
        return tuple(sorted({e.department for e in _reference() if e.region == region}))
    if kind == "police":
        return POLICE_DEPARTMENTS
    return (department,) if department else ()


def _variants(name: str) -> set[str]:
    """Folded spellings of a commune's name: « Saint-Denis » → « saint denis », « st denis »;
    « Le Havre » also « havre » after « au » or « du » (checked when matching)."""
    folded = fold(name)
    found = {folded}
    found |= {re.sub(r"\bsaint\b", "st", v) for v in list(found)}
    found |= {re.sub(r"\bsainte\b", "ste", v) for v in list(found)}
    return found


@dataclass(frozen=True)
class _Lookup:
    pattern: re.Pattern[str] | None
    by_name: dict[str, _Entry]


@cache
def _lookup(departments: tuple[str, ...]) -> _Lookup:
    by_name: dict[str, _Entry] = {}
    for entry in _reference():
        if entry.department not in departments:
            continue
        for variant in _variants(entry.name):
            by_name.setdefault(variant, entry)
            # « au Havre », « aux Sables-d'Olonne », « du Lamentin »: the article merged.
            bare = re.sub(r"^(?:le|la|les|l) ", "", variant)
            if bare != variant and len(bare) >= 3:
                by_name.setdefault("@" + bare, entry)
    names = sorted((n for n in by_name if not n.startswith("@")), key=len, reverse=True)
    bare_names = sorted((n[1:] for n in by_name if n.startswith("@")), key=len, reverse=True)
    if not names:
        return _Lookup(None, by_name)
    alternatives = [re.escape(n) for n in names]
    if bare_names:
        merged = "|".join(re.escape(n) for n in bare_names)
        alternatives.insert(0, rf"(?:au|aux|du|des) (?P<bare>{merged})")
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")
    return _Lookup(pattern, by_name)


def _is_name_in_original(normalised: Normalised, start: int, end: int) -> bool:
    """Written like a place name: capitalised (unless the sentence is in capitals) and not part
    of a longer hyphenated name (« Saint-Denis » in « Saint-Denis-de-Pile »)."""
    begin, finish = normalised.span_in_original(start, end)
    original = normalised.original
    written = original[begin:finish]
    letters = [c for c in original if c.isalpha()]
    shouting = bool(letters) and sum(c.isupper() for c in letters) > 0.6 * len(letters)
    if not shouting and not written[:1].isupper():
        return False
    before = original[begin - 1] if begin > 0 else " "
    after = original[finish : finish + 2]
    # « Paris La Défense Arena », « Lyon Part-Dieu »: a longer proper name.
    longer_name = not shouting and bool(re.match(r" [A-ZÀ-Ý]", after))
    return before != "-" and not re.match(r"-\w", after) and not longer_name


def _place_sentences(sentences: Sequence[Sentence]) -> list[Sentence]:
    return [
        s
        for s in sentences
        if s.section in (Section.TITLE, Section.REASON, Section.OPERATIVE)
        and not _SKIPPED.search(s.folded)
    ]


def communes(
    sentences: Sequence[Sentence], departments: tuple[str, ...]
) -> tuple[list[Commune], str | None]:
    """The communes named where the act says where it applies, in order of first mention, and
    the first sentence naming one."""
    lookup = _lookup(tuple(sorted(departments)))
    found: dict[str, Commune] = {}
    evidence: str | None = None
    for sentence in _place_sentences(sentences):
        known = len(found)
        normalised = normalise(sentence.text)
        if lookup.pattern is not None:
            for match in lookup.pattern.finditer(normalised.text):
                bare = match.groupdict().get("bare")
                start, end = match.span("bare") if bare else match.span()
                name = normalised.text[start:end]
                entry = lookup.by_name["@" + name if bare else name]
                preceding = normalised.text[:start]
                if (len(name) < 3 and not preceding.endswith(("commune de ", "commune d "))) or (
                    _NOT_THE_COMMUNE.search(preceding)
                ):
                    continue
                if not _is_name_in_original(normalised, start, end):
                    continue
                found.setdefault(entry.insee, Commune(entry.name, entry.insee))
        for match in _COMMUNE_OF.finditer(sentence.text):
            for name in re.split(r", | et ", match.group("names")):
                key = fold(name)
                if key not in lookup.by_name:
                    found.setdefault("?" + key, Commune(name.strip(), None))
        if evidence is None and len(found) > known:
            evidence = sentence.text
    return list(found.values()), evidence


def perimeter(sentences: Sequence[Sentence]) -> str | None:
    """The operative sentence that draws the perimeter, as written, with the list that follows
    it in the same article (« … est le suivant : », then streets or communes)."""
    operative = [s for s in sentences if s.section is Section.OPERATIVE]
    for index, sentence in enumerate(operative):
        if not _PERIMETER.search(sentence.folded) or _SKIPPED.search(sentence.folded):
            continue
        parts = [strip_article_heading(sentence.text)]
        if sentence.text.rstrip().endswith(":"):
            for following in operative[index + 1 :]:
                if following.article != sentence.article:
                    break
                parts.append(following.text)
        text = " ".join(parts)
        return text if len(text) <= MAX_PERIMETER_CHARS else text[: MAX_PERIMETER_CHARS - 1] + "…"
    return None
