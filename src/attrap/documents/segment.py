"""Split a bulletin's pages into its acts.

A bulletin (RAA) is a cover, a *sommaire* (table of contents), then acts one after another
(docs: shared BULLETINS.md describes the templates). Cover and sommaire are set aside, with the
reason, whatever their layout: a « Sommaire » (or « S O M M A I R E ») heading, page references, the
Préfecture de police's table, or leading pages that list titles without any act text.

Most State bulletins give each act a *separator page* (service, the bulletin's act id such as
``13-2024-07-10-00003``, the title as typed), and a footer « <service> - <act id> - <title> <page> »
on every page of the act. When a bulletin has separator pages, acts start there and only there,
whatever their title says, and the act's own heading (« Arrêté n°2024-00629 ») on the next page is
not a second act; ``number`` is the act id and ``title`` the separator's. Footers are no part of
titles nor of text. Without separators, an act starts with a header (« PRÉFET DES … », a number, a
title line « Arrêté … ») at the top of a page, or mid-page after the previous act's signature
(« Fait à Marseille, le 10 juillet 2024 »); its number is its own. Pages that follow an act without
a new start (annexes) belong to it. Without any recognisable structure the whole document is one
act, so no text is ever dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from attrap.documents.pages import PageText
from attrap.french import FOLDED_MONTHS, fold, rejoin_hyphenated

# ``13-2024-07-10-00003``: département, date, sequence. OCR may put spaces around the dashes.
_DASH = r"\s?[-–]\s?"
# Also « R03-… » (a region), « 2A-… », and 4-digit serials.
_STRUCTURED_NUMBER = re.compile(
    rf"(?<![\w-])(\d{{2,3}}|2[AB]|R\d\d){_DASH}(20\d\d){_DASH}([01]\d){_DASH}([0-3]\d)"
    rf"{_DASH}(\d{{4,5}})(?!\d)",
    re.IGNORECASE,
)
# « n° 2024/DDSP/123 », « N° 2024-00512 », OCR « n* », « nº », « no. », no sign: « n 2025-00631 ».
_LOCAL_NUMBER = re.compile(
    r"\bn(?:\s?[°º*o]\.?\s*|\s+(?=\d{4}))(?P<number>[A-Za-z0-9][\w/.\-]*\d[\w/.\-]*)",
    re.IGNORECASE,
)
_NUMBER_SIGN_AT_END = re.compile(r"\bn\s?[°º*o]\.?$")
_DATE = (
    r"(?P<day>1\s?er|ler|\d{1,2})\s*(?:°|er)?\s+"
    rf"(?P<month>{'|'.join(FOLDED_MONTHS)})\s+(?P<year>(?:19|20)\d\d)"
)
# On folded text. « Fait à Marseille, le 10 juillet 2024 », « Fait le 1er mars 2024 à Paris ».
_SIGNATURE_DATE = re.compile(r"\bfait\s+(?:a\s+[^\n]{1,80}?,?\s*)?le\s+" + _DATE)
_TITLE_DATE = re.compile(r"\bdu\s+" + _DATE)

# Line kinds, on folded lines.
# « PRÉFET DES BOUCHES-DU-RHÔNE », « Préfecture de police », « PRÉFÈTE » alone (logo block).
_AUTHORITY = re.compile(
    r"^(?:republique francaise$|(?:prefet|prefete|prefecture)(?P<of>\s?(?:de|des|du|d')\b.*)?$)"
)
_LETTERHEAD_JUNK = re.compile(r"^[^a-z]*(?:[a-z][^a-z]*)?(?=pref)")
_OPERATIVE = re.compile(
    r"^(?:arrete|arretent|arretons|decide|decident)\s*:?\s*(?:ce qui suit\s*:?)?$"
)
_TITLE = re.compile(
    r"^(?:arrete|decision|recepisse|subdelegation|delegation)s?\b"
    r"(?:\s+(?:prefectoral|interprefectoral|inter-prefectoral|conjoint|municipal))?\b"
)
_BODY = re.compile(
    r"^(?:vu\b|considerant|article|art\.?\s*\d|le prefet|la prefete|le prefet de police|"
    r"sur (?:la )?proposition|apres avis|fait (?:a|le)\b)"
)
# How an act's subject starts, after its title word: « portant … », « autorisant … ».
_SUBJECT = re.compile(
    r"^(?:portant|autorisant|relati(?:f|ve)|instituant|fixant|modifiant|abrogeant|prescrivant|"
    r"reglementant|accordant|approuvant|declarant|interdisant|creant|concernant|pris)\b"
)
_SIGNATORY = re.compile(r"^(?:le|la|les|chevalier|officier|commandeur)\b")
_SIGNATURE = re.compile(r"^fait\s+(?:a|le)\b|\bfait\s+a\s+\S.*\ble\s+(?:\d|1er|ler)")
# A sommaire entry ends with the act's page: « ……… 12 », « ……… Page 12 », « (2 pages) Page 12 ».
_TOC_LINE = re.compile(
    r"(?:(?:\.{4,}|…{2,}|(?:\.\s){3,}|_{4,})\s*(?:page\s*)?|\bpage\s*)(?P<page>\d+)\s*$"
)
_TOC_HEADING = re.compile(r"^(?:sommaire|table des matieres)\b")
# The Préfecture de police's sommaire is a table: « Arrêtés Date PREFECTURE DE POLICE Page ».
_TOC_TABLE = re.compile(r"^arretes?\s+date\b.*\bpage$")
_SPACED_LETTERS = re.compile(r"(?:[a-z] ){3,}[a-z]")  # « s o m m a i r e »
# « {signataire} »: a placeholder one prefecture leaves under the separator's title.
_PLACEHOLDER = re.compile(r"^\{[^}]*\}$")
_PAGE_NUMBER = re.compile(r"^\d{1,4}$")
_DASHES = " -–—"
_COVER_WORDS = re.compile(r"\brecueil\b|\bactes administratifs\b|\braa\b")

# Running headers and footers: lines repeated at the top or bottom of most pages.
FURNITURE_EDGE_LINES = 3
FURNITURE_MIN_PAGES = 3
FURNITURE_SHARE = 0.6
FURNITURE_SIMILARITY = 85  # OCR reads the same header a little differently on each page
FURNITURE_SAMPLE_PAGES = 25  # pages whose edge lines are compared with every page's
FOOTER_LINES = 5  # last lines of a page where an act's footer « … - <act id> - … » is looked for
SEPARATOR_MAX_LINES = 14  # a separator page: service, act id, title (wrapped), placeholder
SEPARATOR_MAX_CHARS = 900
HEAD_LINES = 15  # lines at the top of an act where its header and title are looked for
TITLE_LINES = 6
COVER_MAX_CHARS = 400


@dataclass(frozen=True)
class ActSegment:
    """One act: where it is in the bulletin and its text, page by page."""

    number: str | None
    title: str
    signed_on: dt.date | None
    page_start: int
    page_end: int
    pages: tuple[PageText, ...]
    # How its start was found, in French, for ``attrap scan --explain``.
    found_by: str = ""

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)


@dataclass(frozen=True)
class _Line:
    page: int  # index into the pages sequence
    text: str
    folded: str
    furniture: bool = False  # a running header or footer: kept in the text, never a landmark
    footer: bool = False  # an act's own footer (act id, title, page): dropped from the text


@dataclass(frozen=True)
class SetAside:
    """A page that belongs to no act (cover, sommaire), and why."""

    page: int  # the page's number
    reason: str  # in French, for ``attrap scan --explain``


@dataclass(frozen=True)
class Segmentation:
    acts: list[ActSegment]
    set_aside: list[SetAside]


def _is_authority(line: _Line) -> bool:
    """A short heading naming the prefecture (not « … publié à la préfecture. »), letterhead noise
    around it (« =mPREFETDE LA LOIRE-ATLANTIQUE », « PREFETDU NORDLibertéEgalitéFraternité »)."""
    found = _AUTHORITY.match(_LETTERHEAD_JUNK.sub("", line.folded))
    if not found or len(line.folded) > 70 or _COVER_WORDS.search(line.folded):
        return False
    return bool(found.group("of")) or line.text.strip().isupper()


def structured_number(text: str) -> str | None:
    found = _STRUCTURED_NUMBER.search(text)
    return "-".join(found.groups()).upper() if found else None


def _local_number(text: str) -> str | None:
    found = _LOCAL_NUMBER.search(text)
    return found.group("number").rstrip("./-") if found else None


def _date(match: re.Match[str]) -> dt.date | None:
    day = match.group("day")
    try:
        return dt.date(
            int(match.group("year")),
            FOLDED_MONTHS[match.group("month")],
            1 if not day.isdigit() else int(day),
        )
    except ValueError:
        return None


def signature_date(text: str) -> dt.date | None:
    """The date of « Fait à …, le 10 juillet 2024 » (first one), if any."""
    for found in _SIGNATURE_DATE.finditer(fold_line_keep_newlines(text)):
        date = _date(found)
        if date:
            return date
    return None


def fold_line_keep_newlines(text: str) -> str:
    return "\n".join(fold(line) for line in text.splitlines())


def _despaced(folded: str) -> str:
    return folded.replace(" ", "") if _SPACED_LETTERS.fullmatch(folded) else folded


def _toc_reason(lines: list[_Line]) -> str | None:
    """Why a page is a sommaire (in French), or None: a heading, a table of acts, entries pointing
    at increasing pages, or a page listing acts by number."""
    references = [int(m.group("page")) for x in lines if (m := _TOC_LINE.search(x.folded))]
    listed = sum(1 for line in lines if _starts_with_listed_number(line.folded))
    for line in lines[:HEAD_LINES]:
        if _TOC_HEADING.match(_despaced(line.folded)):
            return f"sommaire (titre « {line.text.strip()} »)"
        if _TOC_TABLE.match(line.folded):
            return "sommaire (tableau des arrêtés et de leurs pages)"
    if len(references) >= 3 and references == sorted(references):
        return f"sommaire ({len(references)} renvois à des pages)"
    if listed >= 3 and listed * 3 >= len(lines):
        return f"sommaire ({listed} actes listés par leur numéro)"
    return None


def _is_toc_page(lines: list[_Line]) -> bool:
    return _toc_reason(lines) is not None


def _has_act_text(lines: list[_Line]) -> bool:
    """« Vu … », « Considérant … », « Article … », « Arrête », « Fait à … »: only acts have them."""
    return any(_BODY.match(line.folded) or _OPERATIVE.match(line.folded) for line in lines)


def _listed_titles(lines: list[_Line]) -> int:
    """Lines that start like an act's title (« Arrêté … », « – Arrêté … »)."""
    return sum(1 for line in lines if _TITLE.match(line.folded.lstrip(_DASHES)))


def _starts_with_listed_number(folded: str) -> bool:
    """« 13-2024-07-10-00003 - Arrêté … »: how sommaires and running footers list an act."""
    found = _STRUCTURED_NUMBER.match(folded)
    return found is not None and bool(re.match(r"\s*[-–—]\s*\S", folded[found.end() :]))


def _is_header_candidate(line: _Line) -> bool:
    folded = line.folded
    if line.furniture or line.footer or _OPERATIVE.match(folded):
        return False
    return bool(
        _is_authority(line)
        or _TITLE.match(folded)
        or (_STRUCTURED_NUMBER.search(folded) and not _BODY.match(folded))
    )


def _head(lines: list[_Line], start: int) -> list[_Line]:
    """The header block from ``start``: its page's lines up to the first body line (« Vu » …)."""
    return lines[start : _head_end(lines, start)]


def _head_end(lines: list[_Line], start: int) -> int:
    end = start
    while end < len(lines) and end - start < HEAD_LINES and lines[end].page == lines[start].page:
        line = lines[end]
        if end > start and (_BODY.match(line.folded) or _OPERATIVE.match(line.folded)):
            break
        end += 1
    return end


def _block_number(block: list[_Line]) -> str | None:
    for line in block:
        number = structured_number(line.text)
        if number:
            return number
    for position, line in enumerate(block):
        if _TITLE.match(line.folded) or line.folded.startswith("n"):
            number = _local_number(line.text)
            following = block[position + 1] if position + 1 < len(block) else None
            if number is None and following is not None and _NUMBER_SIGN_AT_END.search(line.folded):
                # « ARRETE N° » at the end of the line, the number on the next one.
                number = _local_number(f"n° {following.text.strip()}")
            if number:
                return number
    return None


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", ";", ":", "!", "?", "»"))


@dataclass
class _Start:
    line: int  # index into the flat list of lines
    number: str | None
    found_by: str = ""
    title: str | None = None  # a separator page's; otherwise read from the act's head


def _find_starts(lines: list[_Line], content_pages: set[int]) -> list[_Start]:
    starts: list[_Start] = []
    signed = False
    previous_text = ""
    first_line_of_page: dict[int, int] = {}
    for index, line in enumerate(lines):
        first_line_of_page.setdefault(line.page, index)
    pages_seen: set[int] = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.page not in content_pages or line.furniture or line.footer or not line.folded:
            index += 1
            continue
        page_top = line.page not in pages_seen
        pages_seen.add(line.page)
        start = _start_at(lines, index, page_top, signed, previous_text, starts)
        if start is not None:
            index = _head_end(lines, index)
            if page_top:
                # The whole page belongs to the new act, running header included.
                start.line = first_line_of_page[line.page]
            starts.append(start)
            signed = False
            previous_text = lines[index - 1].text
            continue
        if _SIGNATURE.search(line.folded):
            signed = True
        previous_text = line.text
        index += 1
    return starts


def _start_at(
    lines: list[_Line],
    index: int,
    page_top: bool,
    signed: bool,
    previous_text: str,
    starts: list[_Start],
) -> _Start | None:
    """A new act starting at ``lines[index]``, or None.

    At a page top, the header block is searched; mid-page, only right after a signature. A header
    carrying the current act's own number is a running header, not a new act.
    """
    current = starts[-1].number if starts else None
    if page_top:
        block = _head(lines, index)
        candidates = [line for line in block if _is_header_candidate(line)]
        if not candidates:
            return None
        strong = any(_is_authority(c) or structured_number(c.text) for c in candidates)
        # A page opening on « Arrêté … » in the middle of a sentence is a wrapped citation.
        if not strong and starts and not signed and not _ends_sentence(previous_text):
            return None
    elif not signed or not _is_header_candidate(lines[index]):
        return None
    number = _block_number(_head(lines, index)) or _listed_number(lines, index)
    if starts and number is not None and number == current:
        return None
    if page_top:
        return _Start(index, number, "en-tête d'acte en haut de page")
    return _Start(index, number, "en-tête d'acte après la signature de l'acte précédent")


def _listed_number(lines: list[_Line], start: int) -> str | None:
    """A number given only in a running footer « 13-2024-… - Arrêté … » of the act's first page."""
    for line in lines[start:]:
        if line.page != lines[start].page:
            break
        if _starts_with_listed_number(line.folded):
            return structured_number(line.text)
    return None


def _title(block: list[_Line], number: str | None) -> str:
    """The act's title: its « Arrêté … » line and the lines continuing it, without the number."""
    lines = _title_lines([line for line in block if not line.footer], number)
    return " ".join(_without_number(_join_title([x.text.strip() for x in lines]), number).split())


def _title_lines(block: list[_Line], number: str | None) -> list[_Line]:
    for position, line in enumerate(block):
        if not _TITLE.match(line.folded):
            continue
        lines = [line]
        after = block[position + 1 : position + 1 + TITLE_LINES]
        for at, following in enumerate(after):
            stripped = following.text.strip()
            if following.furniture:
                continue
            if not stripped:
                # « ARRÊTÉ PRÉFECTORAL N° … » or « Arrêté du 10 juin 2025 », a blank line (OCR
                # puts one between blocks), then its subject « portant … ».
                subject = _without_number(" ".join(x.folded for x in lines), number)
                upcoming = next((x for x in after[at:] if x.folded), None)
                if _TITLE.fullmatch(subject.strip()) or (
                    upcoming is not None and _SUBJECT.match(upcoming.folded)
                ):
                    continue
                break
            if _is_authority(following) or _ends_capital_title(lines[-1], following):
                break  # « LE PRÉFET DU MORBIHAN », « CHEVALIER DE LA LÉGION D'HONNEUR »
            lines.append(following)
        return lines
    for line in block:
        if _starts_with_listed_number(line.folded):
            listed = _STRUCTURED_NUMBER.match(line.text.strip())
            if listed:
                return [replace(line, text=line.text.strip()[listed.end() :].strip(" -–—"))]
    substantial = [
        line
        for line in block
        if len(line.text.strip()) >= 20 and not line.furniture and not _is_authority(line)
    ]
    return substantial[:1]


def _ends_capital_title(previous: _Line, following: _Line) -> bool:
    """A short line in capitals after the title is the signatory's, unless the title itself is in
    capitals and goes on (« AUTORISANT LA CAPTATION … » / « AU MOYEN DE CAMERAS … »)."""
    stripped = following.text.strip()
    if not stripped.isupper() or len(stripped) >= 60:
        return False
    continued = previous.text.strip().isupper() and not _ends_sentence(previous.text)
    return not continued or bool(_SIGNATORY.match(following.folded))


def _without_number(title: str, number: str | None) -> str:
    if not number:
        return title
    return re.sub(
        r"\s*(?:\bn(?:\s?[°º*o]\.?)?\s*)?" + re.escape(number).replace(r"\-", _DASH),
        "",
        title,
        count=1,
        flags=re.IGNORECASE,
    )


def _act_date(text: str, title: str, number: str | None) -> dt.date | None:
    signed = signature_date(text)
    if signed:
        return signed
    in_title = _TITLE_DATE.search(fold(title))
    if in_title and _date(in_title):
        return _date(in_title)
    found = _STRUCTURED_NUMBER.fullmatch(number or "")
    if found:
        try:
            return dt.date(int(found.group(2)), int(found.group(3)), int(found.group(4)))
        except ValueError:
            return None
    return None


def _build(pages: Sequence[PageText], act_lines: list[_Line], start: _Start) -> ActSegment:
    by_page: dict[int, list[str]] = {}
    for line in act_lines:
        texts = by_page.setdefault(line.page, [])
        if not line.footer:
            texts.append(line.text)
    act_pages = tuple(
        PageText(pages[p].number, "\n".join(texts), pages[p].source) for p, texts in by_page.items()
    )
    number = start.number
    title = start.title if start.title is not None else _title(_head(act_lines, 0), number)
    text = "\n".join(page.text for page in act_pages)
    return ActSegment(
        number=number,
        title=title,
        signed_on=_act_date(text, title, number),
        page_start=act_pages[0].number,
        page_end=act_pages[-1].number,
        pages=act_pages,
        found_by=start.found_by,
    )


def _mark_furniture(page_lines: list[list[_Line]]) -> list[list[_Line]]:
    """Flag running headers and footers: edge lines found (digits aside) on most pages."""
    edges: dict[tuple[int, int], str] = {}
    for p, own in enumerate(page_lines):
        real = [i for i, line in enumerate(own) if line.folded]
        for i in real[:FURNITURE_EDGE_LINES] + real[-FURNITURE_EDGE_LINES:]:
            edges[(p, i)] = re.sub(r"\d+", "#", own[i].folded)
    step = max(1, len(page_lines) // FURNITURE_SAMPLE_PAGES)
    sample = list(dict.fromkeys(key for (p, _), key in edges.items() if p % step == 0))
    pages_with: dict[int, set[int]] = {}
    matched: dict[tuple[int, int], int] = {}
    for (p, i), key in edges.items():
        best = process.extractOne(key, sample, scorer=fuzz.ratio, score_cutoff=FURNITURE_SIMILARITY)
        if best is not None:
            pages_with.setdefault(best[2], set()).add(p)
            matched[(p, i)] = best[2]
    needed = max(FURNITURE_MIN_PAGES, FURNITURE_SHARE * len(page_lines))
    return [
        [
            replace(line, furniture=len(pages_with.get(matched.get((p, i), -1), ())) >= needed)
            for i, line in enumerate(own)
        ]
        for p, own in enumerate(page_lines)
    ]


def _is_front_matter(lines: list[_Line]) -> bool:
    """A cover page: short or naming the bulletin, and no act on it (no title, no « Vu »)."""
    if any(_TITLE.match(line.folded) or _BODY.match(line.folded) for line in lines):
        return False
    text = " ".join(line.folded for line in lines)
    return len(text) < COVER_MAX_CHARS or bool(_COVER_WORDS.search(text))


def _front_reason(lines: list[_Line], index: int, in_sommaire: bool) -> str | None:
    """Why a page before the first act is set aside, or None when the acts start there."""
    if toc := _toc_reason(lines):
        return toc
    if in_sommaire:
        return "suite du sommaire (aucun texte d'acte)"
    if _listed_titles(lines) >= 2:
        return f"sommaire ({_listed_titles(lines)} titres d'actes sans texte d'acte)"
    if _is_front_matter(lines):
        words = _COVER_WORDS.search(" ".join(line.folded for line in lines))
        if words:
            return f"couverture (« {words.group()} », aucun texte d'acte)"
        return (
            "couverture (page courte sans texte d'acte)" if index == 0 else "page sans texte d'acte"
        )
    return None


def _set_aside(
    non_empty: list[list[_Line]], separators: dict[int, tuple[int, str]]
) -> dict[int, str]:
    """Cover and sommaire pages with their reason: the leading pages without act text, and
    sommaire pages anywhere. When no page has act text, only what is clearly a sommaire."""
    acts_somewhere = bool(separators) or any(_has_act_text(own) for own in non_empty)
    reasons: dict[int, str] = {}
    in_sommaire = False
    for p, own in enumerate(non_empty):
        if p in separators or _has_act_text(own) or not acts_somewhere:
            break
        reason = _front_reason(own, p, in_sommaire)
        if reason is None:
            break
        reasons[p] = reason
        in_sommaire = in_sommaire or reason.startswith("sommaire")
    for p, own in enumerate(non_empty):
        if p not in reasons and p not in separators and (toc := _toc_reason(own)):
            reasons[p] = toc
    if not acts_somewhere:
        for p, own in enumerate(non_empty):
            if p in reasons or not _is_front_matter(own):
                break
            reasons[p] = _front_reason(own, p, False) or "couverture"
    return reasons


def _mark_footers(page_lines: list[list[_Line]]) -> list[list[_Line]]:
    """Flag each page's act footer « <service> - <act id> - <title> <page> » (wrapped over the
    page's last lines), and a page number alone on the last line."""
    marked = []
    for own in page_lines:
        real = [i for i, line in enumerate(own) if line.folded]
        first: int | None = None
        for i in real[-FOOTER_LINES:]:
            if _is_footer_line(own[i].text) and i != real[0]:
                first = i
                break
        if first is not None:
            before = [i for i in real if i < first]
            # « Direction départementale … - » wrapped before the act id.
            if before and own[before[-1]].text.rstrip().endswith(("-", "–")):
                first = before[-1]
        elif real and len(real) > 1 and _PAGE_NUMBER.match(own[real[-1]].folded):
            first = real[-1]
        marked.append(
            [replace(line, footer=first is not None and i >= first) for i, line in enumerate(own)]
        )
    return marked


def _is_footer_line(text: str) -> bool:
    found = _STRUCTURED_NUMBER.search(text)
    if not found:
        return False
    before, after = text[: found.start()], text[found.end() :]
    dash_after = bool(re.match(r"\s*[-–—]\s*\S", after))
    # « Cabinet - 13-2024-… - Arrêté … » or, at the start of the line, « 13-2024-… - Arrêté … ».
    return dash_after and (not before.strip() or bool(re.search(r"\S\s*[-–—]\s*$", before)))


def _separator(lines: list[_Line]) -> tuple[int, str] | None:
    """(position of the act id among the lines, act id) when the page is an act's separator page:
    a few lines giving the service, the act id and the title, and nothing of an act's text."""
    content = [line for line in lines if line.folded and not line.footer]
    if not content or len(content) > SEPARATOR_MAX_LINES:
        return None
    if sum(len(line.folded) for line in content) > SEPARATOR_MAX_CHARS or _has_act_text(content):
        return None
    if _is_toc_page(content) or any(_TOC_LINE.search(line.folded) for line in content):
        return None
    for position, line in enumerate(content):
        found = _STRUCTURED_NUMBER.search(line.text)
        if found and not line.text[: found.start()].strip(_DASHES + " "):
            return position, "-".join(found.groups()).upper()
    return None


def _separator_title(lines: list[_Line], position: int) -> str:
    """The title as typed under the act id: every line after it, the placeholder aside."""
    content = [line for line in lines if line.folded and not line.footer]
    first = content[position].text.strip()
    found = _STRUCTURED_NUMBER.search(first)
    rest = first[found.end() :].strip(_DASHES) if found else ""
    texts = [rest] + [line.text.strip() for line in content[position + 1 :]]
    return _join_title([t for t in texts if t and not _PLACEHOLDER.match(t)])


def _join_title(texts: list[str]) -> str:
    text = "\n".join(texts)
    # A dash ending a line stays a dash (« Marseille -\nStade Brestois »); a word hyphenated
    # over two lines is re-joined; a compound keeps its hyphen.
    text = re.sub(r"(?<=\s)-\n", "- ", text)
    text = rejoin_hyphenated(text)
    text = re.sub(r"-\n", "-", text)
    return " ".join(text.split())


def segment(pages: Sequence[PageText]) -> list[ActSegment]:
    """The acts of a bulletin, in order; cover and sommaire pages belong to none."""
    return segment_explained(pages).acts


def segment_explained(pages: Sequence[PageText]) -> Segmentation:
    """The acts of a bulletin, and the pages set aside (cover, sommaire) with the reason."""
    if not pages:
        return Segmentation([], [])
    page_lines = [
        # An empty page keeps one empty line so that it still belongs to an act.
        [_Line(p, text, fold(text)) for text in page.text.splitlines()] or [_Line(p, "", "")]
        for p, page in enumerate(pages)
    ]
    page_lines = _mark_footers(_mark_furniture(page_lines))
    lines = [line for own in page_lines for line in own]
    non_empty = [[line for line in own if line.folded and not line.furniture] for own in page_lines]
    separators = {p: found for p, own in enumerate(page_lines) if (found := _separator(own))}
    reasons = _set_aside(non_empty, separators)
    if len(reasons) == len(pages):
        if any(reason.startswith("sommaire") for reason in reasons.values()):
            # A sommaire published alone: its titles are no acts (never a hit from a sommaire).
            return Segmentation(
                [], [SetAside(pages[p].number, r) for p, r in sorted(reasons.items())]
            )
        reasons = {}  # blank or unreadable pages: one act, so that no text is dropped
    set_aside = [SetAside(pages[p].number, reason) for p, reason in sorted(reasons.items())]
    content_pages = set(range(len(pages))) - set(reasons)
    separators = {p: found for p, found in separators.items() if p in content_pages}
    if separators:
        starts = _separator_starts(lines, page_lines, separators)
    else:
        starts = _find_starts(lines, content_pages)
    if not starts:
        whole = [line for line in lines if line.page in content_pages]
        found_by = "aucun début d'acte reconnu : le document entier est un acte"
        return Segmentation([_build(pages, whole, _Start(0, None, found_by))], set_aside)
    acts: list[ActSegment] = []
    # Text before the first recognised act that is neither cover nor sommaire is an act too.
    front = [line for line in lines[: starts[0].line] if line.page in content_pages]
    if any(line.folded and not line.footer for line in front):
        acts.append(_build(pages, front, _Start(0, None, "texte avant le premier acte reconnu")))
    boundaries = [s.line for s in starts] + [len(lines)]
    for start, end in zip(starts, boundaries[1:], strict=True):
        act_lines = [line for line in lines[start.line : end] if line.page in content_pages]
        acts.append(_build(pages, act_lines, start))
    return Segmentation(acts, set_aside)


def _separator_starts(
    lines: list[_Line], page_lines: list[list[_Line]], separators: dict[int, tuple[int, str]]
) -> list[_Start]:
    first_line_of_page: dict[int, int] = {}
    for index, line in enumerate(lines):
        first_line_of_page.setdefault(line.page, index)
    starts = []
    for p, (position, number) in sorted(separators.items()):
        # The act's own number (« Arrêté n°2024-00629 ») heads the page after its separator.
        own = (
            _block_number(_head(lines, first_line_of_page[p + 1]))
            if p + 1 in first_line_of_page
            else None
        )
        found_by = f"page séparatrice (n° {number})"
        if own and own != number:
            found_by += f", numéro propre de l'acte : {own}"
        starts.append(
            _Start(
                first_line_of_page[p], number, found_by, _separator_title(page_lines[p], position)
            )
        )
    return starts
