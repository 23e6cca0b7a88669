"""``attrap scan``: the document stages on one bulletin, from a file or a URL, without a database.

A URL is fetched with one plain GET (timeout and size cap from ``[crawl]``): this is a user asking
for one file, not a crawl, so the crawler's politeness machinery is not involved.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from attrap.config import Settings
from attrap.documents.extract import ExtractionError, extract_document
from attrap.documents.segment import ActSegment, SetAside, segment_explained
from attrap.matching.matcher import CategoryExplanation, HitCandidate, Matcher
from attrap.matching.rules import RulesError

_CHUNK = 1 << 16


class ScanError(Exception):
    """The bulletin could not be scanned; the message is one line for the user."""


@dataclass(frozen=True)
class ScannedAct:
    act: ActSegment
    hits: list[HitCandidate]
    # Every category's score with the signals and exclusions behind it (``--explain``).
    explanation: list[CategoryExplanation] = field(default_factory=list)


@dataclass
class ScanResult:
    source: str  # what the user gave: links to pages are built on it
    pages: int
    ocr_pages: int
    acts: list[ScannedAct] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)  # cover, sommaire: and why
    warnings: list[str] = field(default_factory=list)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def scan(source: str, settings: Settings) -> ScanResult:
    """Extract, segment and match the bulletin at ``source`` (a path or an http(s) URL)."""
    try:
        matcher = Matcher.from_settings(settings)
    except RulesError as exc:
        raise ScanError(str(exc)) from exc
    if not is_url(source):
        path = Path(source)
        if not path.is_file():
            raise ScanError(f"{source} : fichier introuvable")
        return _scan_file(path, source, settings, matcher)
    with tempfile.TemporaryDirectory(prefix="attrap-scan-") as scratch:
        path = Path(scratch) / "bulletin.pdf"
        download(source, path, settings)
        return _scan_file(path, source, settings, matcher)


def download(url: str, path: Path, settings: Settings) -> None:
    """GET ``url`` into ``path``, refusing error statuses and files over ``max_pdf_mb``."""
    limit = int(settings.crawl.max_pdf_mb * 1024 * 1024)
    try:
        with (
            httpx.Client(
                timeout=settings.crawl.timeout_s,
                follow_redirects=True,
                headers={"User-Agent": settings.crawl.user_agent},
                proxy=settings.crawl.proxy or None,
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise ScanError(f"{url} : HTTP {response.status_code}")
            size = 0
            with path.open("wb") as file:
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ScanError(f"{url} : plus de {settings.crawl.max_pdf_mb:g} Mo")
                    file.write(chunk)
    except httpx.HTTPError as exc:
        raise ScanError(f"{url} : {type(exc).__name__}: {exc}") from exc


def _scan_file(path: Path, source: str, settings: Settings, matcher: Matcher) -> ScanResult:
    try:
        extraction = extract_document(path, settings)
    except ExtractionError as exc:
        raise ScanError(f"{source} : {exc}") from exc
    result = ScanResult(
        source=source,
        pages=len(extraction.pages),
        ocr_pages=extraction.ocr_pages,
        warnings=list(extraction.warnings),
    )
    segmentation = segment_explained(extraction.pages)
    result.set_aside = segmentation.set_aside
    for act in segmentation.acts:
        explanation = matcher.explain(act)
        hits = [c.hit for c in explanation if c.hit is not None]
        result.acts.append(ScannedAct(act, hits, explanation))
    return result


def act_to_json(act: ActSegment) -> dict[str, Any]:
    """The ``act`` object of DESIGN.md's JSON hit."""
    return {
        "number": act.number,
        "title": act.title,
        "signed_on": act.signed_on.isoformat() if act.signed_on else None,
        "page_start": act.page_start,
        "page_end": act.page_end,
    }


def _link(source: str, page: int) -> str:
    base = source if is_url(source) else Path(source).resolve().as_uri()
    return f"{base}#page={page}"


def explanation_to_json(scanned: ScannedAct) -> list[dict[str, Any]]:
    """The categories where a signal fired or an exclusion applied, with their evidence."""
    return [
        {
            "category": c.category,
            "score": c.score,
            "min_score": c.min_score,
            "hit": c.hit is not None,
            "excluded_by": list(c.excluded_by),
            "signals": [
                {
                    "signal": f.signal,
                    "term": f.term,
                    "weight": f.weight,
                    "cited": f.cited,
                    "page": f.page,
                }
                for f in c.signals
            ],
        }
        for c in scanned.explanation
        if c.signals or c.excluded_by
    ]


def scan_to_json(result: ScanResult, *, explain: bool = False) -> dict[str, Any]:
    """``{"pages", "ocr_pages", "acts", "hits"}``; hits as in DESIGN.md, without ids. With
    ``explain``, each act says how it was found and why it scored, and ``set_aside`` lists the
    pages that belong to no act."""
    hits = [
        {
            "category": hit.category,
            "score": hit.score,
            "act": act_to_json(scanned.act),
            "page": hit.page,
            "link": _link(result.source, hit.page),
            "terms": list(hit.terms),
            "snippet": hit.snippet,
        }
        for scanned in result.acts
        for hit in scanned.hits
    ]
    acts = []
    for scanned in result.acts:
        act = act_to_json(scanned.act)
        if explain:
            act.update(found_by=scanned.act.found_by, explain=explanation_to_json(scanned))
        acts.append(act)
    data = {"pages": result.pages, "ocr_pages": result.ocr_pages, "acts": acts, "hits": hits}
    if explain:
        data["set_aside"] = [{"page": s.page, "reason": s.reason} for s in result.set_aside]
    return data
