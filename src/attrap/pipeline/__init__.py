"""Orchestrates the stages: ``crawl`` (discover → fetch, per administration) and ``document``
(extract → segment → match → store, per document)."""

from attrap.pipeline.crawl import (
    CrawlOutcome,
    CrawlProgress,
    DocumentProcessor,
    EngineLookup,
    crawl_administration,
    run_crawl,
)
from attrap.pipeline.document import NewHitsHook, ReprocessSummary, process_document, reprocess

__all__ = [
    "CrawlOutcome",
    "CrawlProgress",
    "DocumentProcessor",
    "EngineLookup",
    "NewHitsHook",
    "ReprocessSummary",
    "crawl_administration",
    "process_document",
    "reprocess",
    "run_crawl",
]
