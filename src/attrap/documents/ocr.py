"""OCR of the pages that have no text layer: one single-threaded tesseract per core.

Each worker opens the PDF, renders one page with pdfium and hands it to tesseract, so at most one
rendered page per worker is ever in memory. tesseract's own threading is off
(OMP_THREAD_LIMIT=1): on 2 cores a page takes 1.2 s that way against 2.7 s threaded, and a pool
of single-threaded processes keeps every core busy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pytesseract
from pebble import ProcessExpired

from attrap.config import Settings
from attrap.documents.isolation import limited_pool

# A worker stuck in rendering is killed this long after the page timeout; tesseract itself is
# stopped at the timeout by pytesseract, so it is never left orphaned.
_KILL_GRACE_S = 10.0
_SINGLE_THREADED = {"OMP_THREAD_LIMIT": "1"}


@dataclass
class OcrOutcome:
    texts: dict[int, str] = field(default_factory=dict)  # page number (1-based) → text
    warnings: list[str] = field(default_factory=list)


def ocr_pages(path: Path, numbers: Sequence[int], settings: Settings) -> OcrOutcome:
    """Read the given pages (1-based) of a PDF with tesseract.

    Pages that cannot be read are absent from ``texts`` and named in ``warnings``; nothing is
    raised for them. When OCR is disabled or tesseract is unusable, every page is reported so.
    """
    if not numbers:
        return OcrOutcome()
    ocr = settings.ocr
    problem = (
        "OCR désactivée (ocr.enabled = false)" if not ocr.enabled else tesseract_problem(settings)
    )
    if problem:
        return OcrOutcome(
            warnings=[
                f"{_pages_label(numbers)} non lue{'s' if len(numbers) > 1 else ''} : {problem}"
            ]
        )

    workers = min(ocr.workers or os.cpu_count() or 1, len(numbers))
    outcome = OcrOutcome()
    with limited_pool(workers, settings.extract.max_memory_mb, _SINGLE_THREADED) as pool:
        futures = {
            number: pool.schedule(
                _ocr_page_in_child,
                args=(
                    str(path),
                    number - 1,
                    ocr.dpi,
                    ocr.language,
                    ocr.tesseract,
                    ocr.page_timeout_s,
                ),
                timeout=ocr.page_timeout_s + _KILL_GRACE_S,
            )
            for number in numbers
        }
        for number, future in futures.items():
            try:
                outcome.texts[number] = future.result()
                continue
            except TimeoutError:  # the pool's kill, or tesseract stopped by pytesseract
                reason = f"plus de {ocr.page_timeout_s:g} s"
            except MemoryError:
                reason = f"plus de {settings.extract.max_memory_mb} Mo de mémoire"
            except ProcessExpired as exc:
                reason = f"le processus d'OCR s'est arrêté (code de sortie {exc.exitcode})"
            except Exception as exc:  # pdfium and tesseract fail in many ways on one bad page
                reason = f"{type(exc).__name__}: {exc}".strip()
            outcome.warnings.append(f"page {number} : échec de l'OCR : {reason}")
    return outcome


def tesseract_problem(settings: Settings) -> str | None:
    """Why tesseract cannot OCR with these settings, or None when it can."""
    command = settings.ocr.tesseract
    if shutil.which(command) is None:
        return f"commande tesseract {command!r} introuvable"
    try:
        listing = subprocess.run(
            [command, "--list-langs"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"tesseract {command!r} ne démarre pas : {exc}"
    installed = {line.strip() for line in listing.splitlines()[1:]}
    missing = [lang for lang in settings.ocr.language.split("+") if lang not in installed]
    if missing:
        return f"données de langue de tesseract non installées : {', '.join(missing)}"
    return None


def _pages_label(numbers: Sequence[int]) -> str:
    """'page 3' or 'pages 1-4, 7' for a warning."""
    ranges: list[str] = []
    ordered = sorted(numbers)
    start = previous = ordered[0]
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return f"page{'s' if len(ordered) > 1 else ''} {', '.join(ranges)}"


def _ocr_page_in_child(
    path: str, index: int, dpi: int, language: str, tesseract: str, timeout_s: float
) -> str:
    started = time.monotonic()
    with pdfium.PdfDocument(path) as document:
        page = document[index]
        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
        page.close()
    pytesseract.pytesseract.tesseract_cmd = tesseract
    with tempfile.TemporaryDirectory(prefix="attrap-ocr-") as scratch:
        # Uncompressed PGM: ten times faster to write than the PNG pytesseract would encode.
        image_path = Path(scratch, "page.pgm")
        image.save(image_path, format="PPM")
        del image
        # pytesseract reads a timeout of 0 as "none".
        remaining = max(timeout_s - (time.monotonic() - started), 0.01)
        try:
            text: str = pytesseract.image_to_string(
                str(image_path), lang=language, timeout=remaining
            )
        except RuntimeError as exc:
            if str(exc) == "Tesseract process timeout":  # pytesseract's only signal for it
                raise TimeoutError from None
            raise
    return text
