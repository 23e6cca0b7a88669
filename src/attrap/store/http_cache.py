"""The HTTP client's cache of listing pages: the last body and validators (``ETag``,
``Last-Modified``) of each page, one JSON file per URL under ``<data_dir>/http-cache``, each
written whole or not at all (``files.py``). The client revalidates a cached page and serves it
again on 304."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from attrap.config import Settings
from attrap.store import files


@dataclass(frozen=True)
class CachedPage:
    final_url: str
    text: str
    etag: str | None
    last_modified: str | None

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class PageCache:
    """Last body and validators of each listing page, one JSON file per URL."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def of(cls, settings: Settings) -> PageCache:
        return cls(settings.storage.data_dir / "http-cache")

    def _path(self, url: str) -> Path:
        return self.directory / f"{hashlib.sha256(url.encode()).hexdigest()}.json"

    def load(self, url: str) -> CachedPage | None:
        try:
            return CachedPage(**json.loads(self._path(url).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            # Missing or unreadable entry: fetch unconditionally, which rewrites it.
            return None

    def store(self, url: str, page: CachedPage) -> None:
        fd, temp = files.new_temporary(self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(page), handle, ensure_ascii=False)
            os.replace(temp, self._path(url))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def remove_stale_parts(self) -> int:
        """Remove what killed writers left behind (``files.remove_stale_parts``); how many."""
        return files.remove_stale_parts(self.directory)
