"""What fetching a page yields and how fetching fails: the value types the HTTP client
(``http.py``) and the engines (``adapters/``) share, so that neither imports the other. Engines
see the client only through ``adapters.base.PageFetcher``, a protocol ``http.HttpClient``
satisfies structurally."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HtmlPage:
    """A listing page as the engine sees it: the final URL (after redirects) and its text."""

    url: str
    text: str


class FetchError(Exception):
    """A page or a PDF that could not be fetched; ``reason`` is short and meant for humans."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        # The HTTP status that refused the request, when one did (404: the page is gone).
        self.status = status
