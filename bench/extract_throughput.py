"""Pages per second: attrap's extraction against the Attrap-style pipeline, on the same files.

Attrap-style is what the Attrap project does with every bulletin: ``ocrmypdf --redo-ocr -l fra``
(rasterise and OCR every page) and then read the text of the result. attrap reads the text layer
and OCRs only the pages without one. Both run in this one process run, one after the other, on a
born-digital and a scanned bulletin built by bench.bulletins.

    python -m bench.extract_throughput [--born-digital-pages 100] [--scanned-acts 4]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium

from attrap.config import Settings
from attrap.documents.extract import extract_document
from bench.bulletins import Bulletin, build_bulletin, build_large_bulletin, load_corpus


def attrap_extract(path: Path) -> int:
    return len(extract_document(path, Settings()).pages)


def attrap_style_extract(path: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="attrap-style-") as scratch:
        ocred = Path(scratch, "out.pdf")
        subprocess.run(
            ["ocrmypdf", "--redo-ocr", "-l", "fra", "--quiet", str(path), str(ocred)], check=True
        )
        with pdfium.PdfDocument(ocred) as document:
            texts = [page.get_textpage().get_text_range() for page in document]
        return len(texts)


def timed(extract: Callable[[Path], int], path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    pages = extract(path)
    return pages, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--born-digital-pages", type=int, default=100)
    parser.add_argument("--scanned-acts", type=int, default=4, help="corpus acts, ~2 pages each")
    arguments = parser.parse_args()
    acts = load_corpus()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch:
        bulletins: list[Bulletin] = [
            build_large_bulletin(
                Path(scratch, "born-digital.pdf"), pages=arguments.born_digital_pages, acts=acts
            ),
            build_bulletin(
                acts[: arguments.scanned_acts], Path(scratch, "scanned.pdf"), scanned=True
            ),
        ]
        attrap_extract(bulletins[0].path)  # starts the worker server, as a long run has it warm
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        header = (
            f"{'bulletin':<14}{'pages':>6}{'attrap p/s':>12}{'Attrap-style p/s':>18}{'ratio':>8}"
        )
        print(header)
        print("-" * len(header))
        for bulletin in bulletins:
            pages, ours = timed(attrap_extract, bulletin.path)
            _, theirs = timed(attrap_style_extract, bulletin.path)
            print(
                f"{bulletin.kind:<14}{pages:>6}{pages / ours:>12.1f}{pages / theirs:>18.2f}"
                f"{theirs / ours:>7.1f}×"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
