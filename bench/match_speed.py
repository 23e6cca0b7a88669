"""Speed of segmentation and matching on a large born-digital bulletin (text already extracted).

    python -m bench.match_speed [--pages 600] [--repeat 3]

Prints pages per second for ``segment`` and for ``Matcher.match`` over every act (best of
``--repeat`` runs), so that rules changes that make matching slow show up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from attrap.config import Settings
from attrap.documents.extract import extract_document
from attrap.documents.segment import segment
from attrap.matching.matcher import Matcher
from bench.bulletins import build_large_bulletin


def best_of(repeat: int, run: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args(argv)
    settings = Settings()
    matcher = Matcher.from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="attrap-match-speed-") as scratch:
        bulletin = build_large_bulletin(Path(scratch, "large.pdf"), pages=arguments.pages)
        pages = extract_document(bulletin.path, settings).pages
    acts = segment(pages)
    hits = sum(len(matcher.match(act)) for act in acts)
    segmenting = best_of(arguments.repeat, lambda: segment(pages))
    matching = best_of(arguments.repeat, lambda: [matcher.match(act) for act in acts])
    characters = sum(len(page.text) for page in pages)
    print(
        f"{len(pages)} pages, {characters} characters, {len(acts)} acts "
        f"({len(bulletin.acts)} placed), {hits} hits, rules {matcher.version}"
    )
    print(f"segment: {segmenting:.3f} s = {len(pages) / segmenting:.0f} pages/s")
    print(
        f"match:   {matching:.3f} s = {len(pages) / matching:.0f} pages/s, "
        f"{len(acts) / matching:.0f} acts/s"
    )


if __name__ == "__main__":
    main()
