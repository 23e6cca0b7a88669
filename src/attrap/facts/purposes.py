"""What an order is for: the purposes (finalités) of CSI L. 242-5, the events a VSA processing
detects (décret n° 2023-828, art. 3), and the occasion (« à l'occasion du match … »).

Purposes are read from the operative part (else the title): the reasons (« Considérant le risque
d'actes de terrorisme … ») motivate an order, they do not say what it authorises.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from attrap.facts.text import Section, Sentence, strip_article_heading
from attrap.matching.matcher import phrase_regex
from attrap.matching.normalise import fold


@dataclass(frozen=True)
class Purpose:
    code: str
    label: str  # French, for the web page and the notifications
    phrases: tuple[str, ...]


PURPOSES = (
    # CSI L. 242-5, I (police nationale, gendarmerie), 1° to 6°.
    Purpose(
        "atteintes-personnes-biens",
        "prévention des atteintes à la sécurité des personnes et des biens",
        (
            "prévention des atteintes à la sécurité des personnes et des biens",
            "protection des bâtiments et installations publics",
            "risques d'agression, de vol ou de trafic",
        ),
    ),
    Purpose(
        "securite-rassemblements",
        "sécurité des rassemblements de personnes",
        (
            "sécurité des rassemblements de personnes",
            "rassemblements de personnes sur la voie publique",
            "appui des personnels au sol",
        ),
    ),
    Purpose("prevention-terrorisme", "prévention d'actes de terrorisme", ("actes de terrorisme",)),
    Purpose(
        "regulation-flux",
        "régulation des flux de transport",
        ("régulation des flux de transport", "régulation des flux"),
    ),
    Purpose(
        "surveillance-frontieres",
        "surveillance des frontières",
        ("surveillance des frontières", "franchissement irrégulier"),
    ),
    Purpose("secours-personnes", "secours aux personnes", ("secours aux personnes",)),
    # Décret n° 2023-828, art. 3: the events a VSA processing may detect.
    Purpose("objets-abandonnes", "objets abandonnés", ("objets abandonnés", "objet abandonné")),
    Purpose(
        "armes",
        "présence ou utilisation d'armes",
        ("présence ou utilisation d'armes", "utilisation d'armes"),
    ),
    Purpose(
        "sens-circulation",
        "non-respect du sens de circulation",
        ("sens de circulation", "non-respect par une personne ou un véhicule du sens"),
    ),
    Purpose(
        "zone-interdite",
        "franchissement ou présence dans une zone interdite ou sensible",
        ("zone interdite ou sensible", "zone interdite", "zone sensible"),
    ),
    Purpose("personne-au-sol", "personne au sol", ("personne au sol",)),
    Purpose("mouvement-foule", "mouvement de foule", ("mouvement de foule", "mouvements de foule")),
    Purpose(
        "densite",
        "densité trop importante de personnes",
        ("densité trop importante de personnes", "densité trop importante"),
    ),
    Purpose("departs-feux", "départs de feux", ("départs de feux", "départ de feu")),
)
PURPOSE_LABELS = {purpose.code: purpose.label for purpose in PURPOSES}
_EXACT = {p.code: [re.compile(phrase_regex(phrase)) for phrase in p.phrases] for p in PURPOSES}
# Long phrases also match fuzzily, so that « secunte des rassemblements » still counts.
_FUZZY_MIN_CHARS = 24
FUZZY_SCORE = 90

_OCCASION = re.compile(
    r"\b(?:[àa]\s+l['’]\s?occasion|lors|dans\s+le\s+cadre|pour\s+la\s+s[ée]curisation|"
    r"afin\s+de\s+s[ée]curiser|pour\s+s[ée]curiser)\s+"
    r"(?P<article>de\s+la\s+|de\s+l['’]\s?|du\s+|des\s+|d['’]\s?une?\s+|d['’]\s?|de\s+|la\s+|le\s+|les\s+|"
    r"l['’]\s?)"
    r"(?P<event>[^,;:.()«»]{3,200})",
    re.IGNORECASE,
)
# Where the occasion's name ends: a date, a place, a relative clause.
_EVENT_END = re.compile(
    r"\s+(?:(?:le|les|du|au|des)\s+(?:\d|1er|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
    r"|qui\s|se\s+d[ée]roulant|organis[ée]e?s?\b|pr[ée]vue?s?\b|sur\s+(?:le|la|les|l['’])\s|dans\s|"
    r"[àa]\s+compter|[àa]\s+partir|[àa]\s+(?=(?-i:[A-ZÀ-Ý]))|aux?\s+(?=[a-zà-ÿ])|"
    r"de\s+\d|et\s+(?:la|le|les|l['’])\s+(?:captation|transmission)|"
    r"(?:accueill|rassembl|attir|constitu|doi[tv]|devr|aur[ao]|a\s+lieu|se\s+tien|est|sont)\w*\b)",
    re.IGNORECASE,
)
# Without « à l'occasion de »: an occasion named by its kind (« le Festival interceltique de
# Lorient accueille … »).
_NAMED_OCCASION = re.compile(
    r"\b(?P<event>(?:[Ff]estival|[Mm]atch|[Cc]oncerts?|[Mm]anifestations?|"
    r"[Mm]arch[ée] de [Nn]o[ëe]l|[Ss]alon|[Ss]ommet|[Tt]our de France|[Ff][êe]te|[Cc]arnaval|"
    r"[Cc]hampionnat|[Cc]oupe|[Jj]eux|"
    r"[Gg]rand [Pp]rix|[Rr]allye|[Mm]arathon|[Cc][ée]r[ée]monie|[Ff]estivit[ée]s|[Cc]ourse|"
    r"[Rr]encontre|[Vv]isite|[Rr][ée]veillon|[Ff]eux? d['’]artifice)\b[^,;:.()«»]{0,120})"
)
_DANGLING_WORDS = re.compile(
    r"(?:\s+(?:et|ou|des|de|du|la|le|les|l['’]|d['’]))+\s*$", re.IGNORECASE
)
_NOT_AN_EVENT = re.compile(
    r"^(?:pr[ée]sente?|captation|mise\s+en|demande|proc[ée]dure|missions?|article|code|loi|"
    r"d[ée]cret|arr[êe]t[ée]|cadre)\b",
    re.IGNORECASE,
)


def _matches(purpose: Purpose, folded: str) -> bool:
    if any(pattern.search(folded) for pattern in _EXACT[purpose.code]):
        return True
    return any(
        len(phrase) >= _FUZZY_MIN_CHARS and fuzz.partial_ratio(fold(phrase), folded) >= FUZZY_SCORE
        for phrase in purpose.phrases
    )


def purposes(sentences: Sequence[Sentence]) -> tuple[tuple[str, ...], str | None]:
    """The purposes' codes in the order of ``PURPOSES``, and the first sentence naming one."""
    for section in (Section.OPERATIVE, Section.TITLE):
        found: list[str] = []
        evidence: str | None = None
        for sentence in sentences:
            if sentence.section is not section:
                continue
            folded = fold(sentence.text)
            for purpose in PURPOSES:
                if purpose.code not in found and _matches(purpose, folded):
                    found.append(purpose.code)
                    evidence = evidence or sentence.text
        if found:
            order = [p.code for p in PURPOSES]
            return tuple(sorted(found, key=order.index)), evidence
    return (), None


def _occasion_name(raw: str) -> str | None:
    name = " ".join(raw.split())
    end = _EVENT_END.search(name)
    if end:
        name = name[: end.start()]
    # A name cut before a clause keeps no dangling « et des », « de la ».
    name = _DANGLING_WORDS.sub("", name).strip(" -–")
    return name if len(name) >= 3 and not _NOT_AN_EVENT.match(name) else None


def event(sentences: Sequence[Sentence]) -> tuple[str, str] | None:
    """The occasion the order names (« match de football OM-PSG »), and its sentence."""
    sections = (Section.TITLE, Section.OPERATIVE, Section.REASON)
    for pattern in (_OCCASION, _NAMED_OCCASION):
        for section in sections:
            for sentence in sentences:
                if sentence.section is not section:
                    continue
                for match in pattern.finditer(strip_article_heading(sentence.text)):
                    name = _occasion_name(match.group("event"))
                    if name:
                        return name, sentence.text
    return None
