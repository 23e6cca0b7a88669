"""Peak memory of extract_document on a 600-page bulletin: the whole process tree.

The extraction runs in a fresh Python process (so that building the bulletin does not count);
this script polls that process and all its descendants (forkserver, parsing and OCR workers,
tesseract) every 10 ms with psutil and reports the largest sums of their resident set sizes (RSS,
an upper bound: pages shared between processes, libraries and copy-on-write, count once per
process) and of their proportional set sizes (PSS: shared pages split between their users).
Two bulletins: born-digital, and the same with every 30th page scanned (OCR pool busy).

    python -m bench.peak_memory [--pages 600] [--scanned-every 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.bulletins import build_large_bulletin, load_corpus

_MIB = 1024 * 1024


def tree_memory(root: psutil.Process) -> tuple[int, int]:
    """Summed RSS and PSS (shared pages split between their users) of root and descendants."""
    rss = pss = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            memory = process.memory_full_info()
        except psutil.NoSuchProcess:  # ended between listing and reading
            continue
        rss += memory.rss
        pss += memory.pss
    return rss, pss


# A -c program has no main file for the worker processes to re-import.
_EXTRACT = """
import sys
from pathlib import Path
from attrap.config import Settings
from attrap.documents.extract import extract_document
extraction = extract_document(Path(sys.argv[1]), Settings())
print(f"{len(extraction.pages)} pages, {extraction.ocr_pages} OCR'd")
"""


def measure(pdf: Path) -> tuple[int, int, float, str]:
    """Peak tree RSS and PSS, wall time and the child's report, for one extraction of pdf."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _EXTRACT, str(pdf)], stdout=subprocess.PIPE, text=True
    )
    root = psutil.Process(child.pid)
    peak_rss = peak_pss = 0
    while child.poll() is None:
        try:
            rss, pss = tree_memory(root)
        except psutil.NoSuchProcess:
            break
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.01)
    report = child.communicate()[0].strip()
    if child.returncode != 0:
        raise SystemExit(f"extraction of {pdf} failed")
    return peak_rss, peak_pss, time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--scanned-every", type=int, default=30)
    arguments = parser.parse_args()
    acts = load_corpus()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        bulletins = [
            build_large_bulletin(
                Path(scratch, "born-digital.pdf"), pages=arguments.pages, acts=acts
            ),
            build_large_bulletin(
                Path(scratch, "mixed.pdf"),
                pages=arguments.pages,
                acts=acts,
                scanned_every=arguments.scanned_every,
            ),
        ]
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        for bulletin in bulletins:
            size = bulletin.path.stat().st_size / _MIB
            rss, pss, seconds, report = measure(bulletin.path)
            print(
                f"{bulletin.kind:<13} {size:5.1f} MB file  {report:<25} peak of the process tree: "
                f"RSS {rss / _MIB:4.0f} MB, PSS {pss / _MIB:4.0f} MB  ({seconds:.1f} s)"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
