"""Text of every page of a PDF: its text layer, and OCR for the pages that have none.

The text layer is read with pypdfium2 (pdfminer.six as a fallback for files pdfium rejects) in a
child process limited in time and memory: a document that cannot be read raises ExtractionError
with one readable line, and never takes the caller down. Pages whose text layer is empty or thin
while they carry an image (a scan) go to OCR (see ocr.py).
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from pebble import ProcessExpired

from attrap.config import Settings
from attrap.documents.isolation import limited_pool
from attrap.documents.ocr import ocr_pages
from attrap.documents.pages import Extraction, PageText

# pdfium wants the "%PDF-" header in the first kilobyte, pdfminer.six anywhere: files with some
# junk before it still reach the fallback; files without one in this window are not PDFs.
_HEADER_WINDOW = 64 * 1024


class ExtractionError(Exception):
    """A whole document could not be read; the message is one line for the user."""


class OcrNeeded(Exception):
    """More pages need OCR than the caller allows (``max_ocr_pages``): a job for the OCR lane."""

    def __init__(self, pages: int) -> None:
        super().__init__(f"{pages} pages need OCR")
        self.pages = pages


@dataclass(frozen=True)
class LayerPage:
    text: str
    has_image: bool


@dataclass
class TextLayer:
    pages: list[LayerPage]
    warnings: list[str] = field(default_factory=list)


def extract_document(
    path: Path, settings: Settings, *, max_ocr_pages: int | None = None
) -> Extraction:
    """Every page's text, in order; OCR only where a page has an image but (almost) no text.

    Raises ExtractionError when the file is not a readable PDF (empty, truncated, not a PDF,
    encrypted, too slow or too large to parse within ``settings.extract`` limits), and OcrNeeded,
    before any OCR, when more than ``max_ocr_pages`` pages would need it.
    """
    layer = read_text_layer(path, settings)
    needing_ocr = [
        number
        for number, page in enumerate(layer.pages, start=1)
        if page.has_image and _visible_chars(page.text) < settings.ocr.min_chars
    ]
    if max_ocr_pages is not None and settings.ocr.enabled and len(needing_ocr) > max_ocr_pages:
        raise OcrNeeded(len(needing_ocr))
    outcome = ocr_pages(path, needing_ocr, settings)
    pages = []
    for number, page in enumerate(layer.pages, start=1):
        if number in outcome.texts:
            pages.append(PageText(number, outcome.texts[number], "ocr"))
        elif number in needing_ocr:
            pages.append(PageText(number, page.text, "failed"))
        else:
            pages.append(PageText(number, page.text, "text-layer"))
    return Extraction(pages=pages, warnings=layer.warnings + outcome.warnings)


def read_text_layer(path: Path, settings: Settings) -> TextLayer:
    """The text layer of each page, parsed in a limited child process."""
    _check_looks_like_pdf(path)
    limits = settings.extract
    with limited_pool(1, limits.max_memory_mb) as pool:
        future = pool.schedule(
            _read_layer_in_child, args=(str(path), limits.fallback), timeout=limits.timeout_s
        )
        try:
            layer: TextLayer = future.result()
        except concurrent.futures.TimeoutError:
            raise ExtractionError(
                f"lecture du PDF abandonnée après {limits.timeout_s:g} s"
            ) from None
        except MemoryError:
            raise ExtractionError(
                f"lecture du PDF abandonnée : plus de {limits.max_memory_mb} Mo de mémoire"
            ) from None
        except ProcessExpired as exc:
            raise ExtractionError(
                f"le lecteur de PDF s'est arrêté sur ce fichier (code de sortie {exc.exitcode}) ; "
                f"il a peut-être dépassé ses {limits.max_memory_mb} Mo"
            ) from None
        except ExtractionError:
            raise
        except Exception as exc:  # the parsers raise many types on malformed input
            raise ExtractionError(f"PDF illisible : {type(exc).__name__}: {exc}") from None
    if not layer.pages:
        raise ExtractionError("le PDF n'a aucune page")
    return layer


def _check_looks_like_pdf(path: Path) -> None:
    # Cheap checks in the parent give the clearest messages for the commonest failures.
    try:
        with path.open("rb") as file:
            head = file.read(_HEADER_WINDOW)
    except OSError as exc:
        raise ExtractionError(f"impossible d'ouvrir le fichier : {exc.strerror}") from None
    if not head:
        raise ExtractionError("fichier vide (0 octet)")
    if b"%PDF-" not in head:
        start = head[:40].decode("utf-8", errors="replace").strip()
        raise ExtractionError(f"pas un fichier PDF : il commence par {start!r}")


def _visible_chars(text: str) -> int:
    return sum(1 for char in text if not char.isspace())


def _read_layer_in_child(path: str, fallback: str) -> TextLayer:
    try:
        return TextLayer(_pages_with_pdfium(path))
    except pdfium.PdfiumError as pdfium_error:
        reason = str(pdfium_error).rstrip(".")
        if fallback == "none":
            raise ExtractionError(f"pdfium ne peut pas lire le PDF : {reason}") from None
        try:
            pages = _pages_with_pdfminer(path)
        except MemoryError:
            raise
        except Exception as exc:  # pdfminer raises many types on malformed input
            raise ExtractionError(
                f"PDF illisible : pdfium : {reason} ; pdfminer.six : {type(exc).__name__}: {exc}"
            ) from None
        return TextLayer(
            pages, [f"pdfium ne peut pas lire le PDF ({reason}) ; lu avec pdfminer.six"]
        )


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pages_with_pdfium(path: str) -> list[LayerPage]:
    pages = []
    with pdfium.PdfDocument(path) as document:
        for page in document:
            textpage = page.get_textpage()
            text = _normalise(textpage.get_text_range())
            has_image = any(
                True for _ in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=4)
            )
            textpage.close()
            page.close()
            pages.append(LayerPage(text, has_image))
    return pages


def _pages_with_pdfminer(path: str) -> list[LayerPage]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTContainer, LTImage, LTTextContainer

    def has_image(container: LTContainer) -> bool:  # type: ignore[type-arg]
        return any(
            isinstance(item, LTImage) or (isinstance(item, LTContainer) and has_image(item))
            for item in container
        )

    return [
        LayerPage(
            _normalise("".join(e.get_text() for e in page if isinstance(e, LTTextContainer))),
            has_image(page),
        )
        for page in extract_pages(path)
    ]
