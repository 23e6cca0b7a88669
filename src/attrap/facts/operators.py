"""Who asked for the authorisation or uses it: the service, as the act names it, made short.

« la direction interdépartementale de la police nationale du Rhône » → « DIPN du Rhône »
(kind ``police-nationale``); the gendarmerie, the police aux frontières, customs, the armed forces,
RATP, SNCF, a city. The service authorised by the articles wins (« X est autorisé(e) à … »,
« … par X »), then the one whose request is cited (« Vu la demande du directeur … »), then one the
title names. The services charged with executing the order are not its operator.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from attrap.facts.model import Operator
from attrap.facts.text import Section, Sentence

_LOCALITY = (
    r"(?:\s*\((?:[A-Z]{2,6}(?:\s?\d{1,3}[AB]?)?)\))?"  # « (DIPN) », « (DDSP 13) »
    r"(?P<locality>\s+(?i:du|de\s+la|de\s+l['’]\s?|des|de|d['’]\s?|pour(?:\s+l['’]|\s+la)?)\s*"
    r"[A-ZÀ-Ý][\w'’-]*(?:\s+(?:et\s+(?:de\s+la\s+|du\s+|des\s+)?|de\s+|du\s+)?[A-ZÀ-Ý][\w'’-]*){0,3}"
    r"|\s+(?:Sud|Nord|Est|Ouest|Sud-Est|Sud-Ouest|Nord-Est|Nord-Ouest)\b)?"
)


@dataclass(frozen=True)
class _Service:
    pattern: re.Pattern[str]
    short: str  # the short name, before the locality
    kind: str


def _service(words: str, short: str, kind: str) -> _Service:
    # On the printed text: accents optional, any run of spaces, « directeur »/« direction ».
    pattern = words.replace(" ", r"\s+")
    # Case-insensitive words; the locality keeps its capitals (« du Rhône », not « du matin »).
    return _Service(re.compile(f"(?i:{pattern})" + _LOCALITY), short, kind)


_DIRECTION = r"(?:direct(?:ion|eur|rice))"
_E = "[eéè]"
SERVICES = (
    _service(
        rf"{_DIRECTION} interd{_E}partementale? de la police nationale", "DIPN", "police-nationale"
    ),
    _service(
        rf"{_DIRECTION} d{_E}partementale? de la s{_E}curit{_E} publique",
        "DDSP",
        "police-nationale",
    ),
    _service(
        rf"{_DIRECTION} d{_E}partementale? de la police nationale", "DDPN", "police-nationale"
    ),
    _service(rf"{_DIRECTION} territoriale? de la police nationale", "DTPN", "police-nationale"),
    _service(
        rf"{_DIRECTION} zonale? de la police aux fronti{_E}res", "DZPAF", "police-aux-frontieres"
    ),
    _service(
        rf"{_DIRECTION} interd{_E}partementale? de la police aux fronti{_E}res",
        "DIPAF",
        "police-aux-frontieres",
    ),
    _service(
        rf"{_DIRECTION} d{_E}partementale? de la police aux fronti{_E}res",
        "DDPAF",
        "police-aux-frontieres",
    ),
    _service(rf"police aux fronti{_E}res", "PAF", "police-aux-frontieres"),
    _service(
        rf"{_DIRECTION} de l['’]\s?ordre public et de la circulation", "DOPC", "police-nationale"
    ),
    _service(
        rf"{_DIRECTION} de la s{_E}curit{_E} de proximit{_E} "
        rf"de l['’]\s?agglom{_E}ration parisienne",
        "DSPAP",
        "police-nationale",
    ),
    _service(r"compagnies? r[eé]publicaines? de s[eé]curit[eé]", "CRS", "police-nationale"),
    _service(
        rf"groupement de gendarmerie d{_E}partementale?", "Groupement de gendarmerie", "gendarmerie"
    ),
    _service(r"r[eé]gion de gendarmerie", "Région de gendarmerie", "gendarmerie"),
    _service(r"commandement de la gendarmerie", "Commandement de la gendarmerie", "gendarmerie"),
    _service(
        r"section a[eé]rienne de (?:la )?gendarmerie",
        "Section aérienne de gendarmerie",
        "gendarmerie",
    ),
    _service(r"gendarmerie nationale", "Gendarmerie nationale", "gendarmerie"),
    _service(
        rf"{_DIRECTION} (?:inter)?r{_E}gionale? des douanes(?: et droits indirects)?",
        "Direction régionale des douanes",
        "douane",
    ),
    _service(r"(?:services? des )?douanes?", "Douane", "douane"),
    _service(
        r"arm[eé]e de l['’]\s?air(?: et de l['’]\s?espace)?", "Armée de l'air", "forces-armees"
    ),
    _service(r"marine nationale", "Marine nationale", "forces-armees"),
    _service(r"forces arm[eé]es", "Forces armées", "forces-armees"),
    _service(r"r[eé]gie autonome des transports parisiens", "RATP", "ratp"),
    _service(r"soci[eé]t[eé] nationale des chemins de fer fran[cç]ais", "SNCF", "sncf"),
    _service(r"police municipale", "Police municipale", "commune"),
)
# Acronyms written as such: « la DIPN 69 », « la DDSP du Nord », « SNCF Voyageurs ».
ACRONYMS = {
    "DIPN": "police-nationale",
    "DDSP": "police-nationale",
    "DDPN": "police-nationale",
    "DZPAF": "police-aux-frontieres",
    "DIPAF": "police-aux-frontieres",
    "DDPAF": "police-aux-frontieres",
    "PAF": "police-aux-frontieres",
    "DOPC": "police-nationale",
    "DSPAP": "police-nationale",
    "RATP": "ratp",
    "SNCF": "sncf",
}
_ACRONYM = re.compile(
    r"(?<![\w-])(?P<acronym>" + "|".join(sorted(ACRONYMS, key=len, reverse=True)) + r")"
    r"(?P<number>\s\d{2,3}[AB]?\b)?(?![\w-])" + _LOCALITY
)
_CITY = re.compile(
    r"\b(?:la\s+)?(?P<word>[Vv]ille|[Cc]ommune|[Mm]airie)\s+(?:de\s+|d['’]\s?)(?P<name>[A-ZÀ-Ý][\w'’-]+)"
)
# Where the authorised service is named: subject of « est autorisé(e) », after « par » / « au
# profit de » / « à la demande de », in « Vu la demande … ».
_AUTHORISED = re.compile(
    r"\b(?:est|sont)\s+autoris[eé]e?s?\b|\bpar\s+(?:la|le|les|l['’])|\bau\s+(?:profit|b[eé]n[eé]fice)\s+d"
    r"|\b(?:[àa]\s+la\s+)?demande\b|\bsollicit|\bmise?\s+en\s+[œo]e?uvre\s+par",
    re.IGNORECASE,
)
_EXECUTION = re.compile(r"\bexecution\b|\bcharges?\b.*\bexecution|\bdirecteur de cabinet\b")


_NOT_IN_NAMES = {"est", "sont", "a", "à", "pour", "sur", "dans", "en", "qui", "aux", "au", "par"}
_SMALL_WORDS = {"du", "de", "des", "la", "le", "les", "et", "sur", "en", "d", "l"}


def _title_case(words: str) -> str:
    """« DU BAS-RHIN » → « du Bas-Rhin », « DES BOUCHES-DU-RHÔNE » → « des Bouches-du-Rhône »."""

    def word(part: str) -> str:
        return part.lower() if part.lower() in _SMALL_WORDS else part.capitalize()

    pieces = re.split(r"([\s'-])", words.lower())
    text = "".join(word(piece) if index else piece for index, piece in enumerate(pieces))
    # The first word is a preposition, always in lower case.
    return text[:1].lower() + text[1:]


def _locality(match: re.Match[str]) -> str:
    locality = " ".join((match.group("locality") or "").replace("’", "'").split())
    locality = locality.replace("' ", "'")
    letters = [c for c in locality if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        # In capitals every word looks like a name: the locality ends at the sentence's verb.
        words = locality.split(" ")
        kept = words[:1] + list(
            itertools.takewhile(lambda w: w.lower() not in _NOT_IN_NAMES, words[1:])
        )
        locality = _title_case(" ".join(kept))
    return locality


def _found_in(text: str) -> list[tuple[int, Operator]]:
    found: list[tuple[int, Operator]] = []
    for service in SERVICES:
        for match in service.pattern.finditer(text):
            name = f"{service.short} {_locality(match)}".strip()
            if service.kind == "commune" and not _locality(match):
                continue
            found.append((match.start(), Operator(name, service.kind)))
    for match in _ACRONYM.finditer(text):
        acronym = match.group("acronym")
        suffix = _locality(match) or (match.group("number") or "").strip()
        found.append((match.start(), Operator(f"{acronym} {suffix}".strip(), ACRONYMS[acronym])))
    for match in _CITY.finditer(text):
        found.append((match.start(), Operator(f"Ville de {match.group('name')}", "commune")))
    # The longest name at a position wins (« DIPAF » over « PAF » inside it); then by position.
    found.sort(key=lambda item: (item[0], -len(item[1].name)))
    unique: list[tuple[int, Operator]] = []
    for position, operator in found:
        if unique and position < unique[-1][0] + len(unique[-1][1].name) // 2:
            continue
        unique.append((position, operator))
    return unique


def operator(sentences: Sequence[Sentence]) -> tuple[Operator, str] | None:
    """The operator and the sentence naming it, by the priority of the module's docstring."""
    operative = [
        s for s in sentences if s.section is Section.OPERATIVE and not _EXECUTION.search(s.folded)
    ]
    requests = [s for s in sentences if s.section in (Section.CITATION, Section.REASON)]
    title = [s for s in sentences if s.section is Section.TITLE]
    searches = ((operative, True), (requests, True), (title, False), (operative, False))
    for group, needs_cue in searches:
        for sentence in group:
            if needs_cue and not _AUTHORISED.search(sentence.text):
                continue
            found = _found_in(sentence.text)
            if found:
                return found[0][1], sentence.text
    return None
