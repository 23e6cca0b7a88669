"""Orchestrates the stages: ``crawl`` (discover → fetch, per administration), ``document``
(extract → segment → match → store, per document) and ``lanes`` (documents processed in worker
processes, by cost)."""

from attrap.pipeline.crawl import (
    CrawlOutcome,
    CrawlProgress,
    DocumentProcessor,
    EngineLookup,
    ProgressCallback,
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
    "ProgressCallback",
    "ReprocessSummary",
    "crawl_administration",
    "process_document",
    "reprocess",
    "run_crawl",
]
