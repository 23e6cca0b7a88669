"""How a failure is worded in ``documents.error`` and ``crawl_runs.error``."""

from __future__ import annotations

from attrap.documents.extract import ExtractionError
from attrap.fetching import FetchError

# Our own errors already carry a message written for the person reading the status table.
_WORDED = (FetchError, ExtractionError)


def describe_error(error: Exception) -> str:
    if isinstance(error, _WORDED):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
