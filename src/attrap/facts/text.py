"""An act's text as sentences, each tagged with the part of the act it belongs to.

Orders follow one plan: a heading and title, citations (« Vu … »), reasons (« Considérant … »),
the operative part (« ARRÊTE », « Article 1er … »), the signature (« Fait à …, le … ») and annexes.
What a sentence may tell depends on where it is: the period comes from the operative part (a
« Vu la demande du 8 juillet » is no period), the requesting service often from a « Vu la
demande … ». Lines are re-joined (line breaks inside sentences, words hyphenated at line ends) and
the text is cut into sentences at « ; », at sentence ends, at list items and at article headings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from attrap.french import fold, rejoin_hyphenated


class Section(StrEnum):
    TITLE = "title"
    CITATION = "citation"  # « Vu … »
    REASON = "reason"  # « Considérant … »
    OPERATIVE = "operative"  # « Article … »
    CLOSING = "closing"  # « Fait à … » and what follows (signature, annexes)


@dataclass(frozen=True)
class Sentence:
    text: str  # as printed, on one line
    folded: str  # fold(text): lower case, no accents, single spaces
    section: Section
    article: int  # index of the operative article it belongs to (0 outside articles)


_CITATION = re.compile(r"^vu\b")
_REASON = re.compile(r"^considerant\b")
# « ARRÊTE », « Arrête : », glued to the first article by OCR (« ARRETEArticle 1 »); not a title
# « Arrêté n° … autorisant … ».
_OPERATIVE_MARK = re.compile(r"^(?:arrete|arretent|arretons|decide|decident)\s*:?\s*(?:$|article)")
_ARTICLE = re.compile(r"^(?:article|art\.?)\s*(?:\d+|1\s?er|premier|unique|ler)\b", re.IGNORECASE)
_CLOSING = re.compile(r"^fait\s+(?:a|au|le)\b")
_LIST_ITEM = re.compile(r"^[-–—•*▪·]\s*")
# A sentence ends at « ; », or at « . ! ? » before a capital, a digit or a quote — not after
# an abbreviation or an initial (« L. 242-5 », « M. Dupont », « n°. 3 »).
_SENTENCE_END = re.compile(r"(?<=[;])\s+|(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Ý0-9«\"(])")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Za-z]|\bart|\bn°?|\bno|\bcf|\betc|\bMme|\bMM|\bSt|\bSte|\bav|\bbd|\bch)\.$"
)


# Lines at a page's top or bottom that recur on the act's other pages (digits aside) are running
# headers and footers; a sentence broken by a page turn is read without them.
EDGE_LINES = 3
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?$", re.IGNORECASE)


def _edges(lines: list[str]) -> list[int]:
    real = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(real[:EDGE_LINES] + real[-EDGE_LINES:]))


def join_pages(pages: Sequence[str]) -> str:
    """The act's text with page furniture (running headers, footers, page numbers) left out."""
    split = [page.split("\n") for page in pages]
    masked = [{i: re.sub(r"\d+", "#", fold(lines[i])) for i in _edges(lines)} for lines in split]
    recurring = {
        key
        for number, edges in enumerate(masked)
        for key in edges.values()
        if any(key in other.values() for n, other in enumerate(masked) if n != number)
    }
    kept = []
    for lines, edges in zip(split, masked, strict=True):
        kept.append(
            "\n".join(
                line
                for i, line in enumerate(lines)
                if not (i in edges and (edges[i] in recurring or _PAGE_NUMBER.match(line.strip())))
            )
        )
    return "\n".join(kept)


def _line_section(folded: str, current: Section) -> Section:
    if current is Section.CLOSING:
        return current
    if _CLOSING.match(folded):
        return Section.CLOSING
    if _ARTICLE.match(folded) or _OPERATIVE_MARK.match(folded):
        return Section.OPERATIVE
    if current is Section.OPERATIVE:
        return current
    if _CITATION.match(folded):
        return Section.CITATION
    if _REASON.match(folded):
        return Section.REASON
    return current


def _starts_sentence(folded: str) -> bool:
    return bool(
        _CITATION.match(folded)
        or _REASON.match(folded)
        or _ARTICLE.match(folded)
        or _OPERATIVE_MARK.match(folded)
        or _CLOSING.match(folded)
        or _LIST_ITEM.match(folded)
    )


def _split(block: str) -> list[str]:
    pieces: list[str] = []
    position = 0
    for end in _SENTENCE_END.finditer(block):
        candidate = block[position : end.start()]
        if _ABBREVIATION.search(candidate):
            continue
        pieces.append(candidate)
        position = end.end()
    pieces.append(block[position:])
    return [piece.strip() for piece in pieces if piece.strip()]


def sentences(text: str) -> list[Sentence]:
    """The act's sentences in reading order, with their section and article."""
    text = rejoin_hyphenated(text.replace("\r", ""))
    blocks: list[tuple[list[str], Section, int]] = []
    section = Section.TITLE
    article = 0
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            if blocks and blocks[-1][0]:
                blocks.append(([], section, article))
            continue
        folded = fold(line)
        new_section = _line_section(folded, section)
        starts_article = new_section is Section.OPERATIVE and bool(_ARTICLE.match(folded))
        if starts_article:
            article += 1
        if not blocks or new_section is not section or _starts_sentence(folded) or starts_article:
            blocks.append(([], new_section, article))
        section = new_section
        blocks[-1][0].append(line)
    found: list[Sentence] = []
    for lines, block_section, block_article in blocks:
        for piece in _split(" ".join(lines)):
            found.append(Sentence(piece, fold(piece), block_section, block_article))
    return found


def strip_article_heading(text: str) -> str:
    """« Article 3 : Le périmètre … » → « Le périmètre … »."""
    return re.sub(
        r"^(?:article|art\.?)\s*(?:\d+|1\s?er|premier|unique|ler)\s*(?:er)?\s*[:.–—-]?\s*",
        "",
        text,
        flags=re.IGNORECASE,
    ).strip()
