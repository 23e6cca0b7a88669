"""The result of reading a PDF: its pages' text and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PageSource = Literal["text-layer", "ocr", "failed"]


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based, as in a PDF viewer's #page=N
    text: str
    source: PageSource


@dataclass
class Extraction:
    """Every page of one document, in order, and the problems met (one line each, in English)."""

    pages: list[PageText] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.source == "ocr")
