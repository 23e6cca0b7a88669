"""What fetching a page yields and how fetching fails: the value types the HTTP client
(``http.py``) and the engines (``adapters/``) share, so that neither imports the other. Engines
see the client only through ``adapters.base.PageFetcher``, a protocol ``http.HttpClient``
satisfies structurally."""

from __future__ import annotations

import datetime as dt
import email.utils
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


def retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """When a ``Retry-After`` header (seconds or HTTP date) says we may try again, or None when
    absent or unreadable. The one reading of it, for the crawler and the notification channels."""
    value = (value or "").strip()
    if value.isdigit():
        return now + dt.timedelta(seconds=int(value))
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds from now (never negative), or None when absent or unreadable."""
    now = now or dt.datetime.now(dt.UTC)
    when = retry_after(value, now)
    return None if when is None else max(0.0, (when - now).total_seconds())
