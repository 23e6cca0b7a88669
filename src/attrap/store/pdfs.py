"""The PDF files: one per content, ``<data_dir>/pdfs/<sha256>.pdf``, written whole or not at all.

The one owner of that layout: the HTTP client streams a download into ``PdfStore.writer()``,
document processing opens ``PdfStore.path(sha256)``. A writer hashes what it is given into a
temporary file of the same directory, fsyncs it and renames it to its content's name; any
failure before ``commit`` removes the temporary file (``files.py``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from attrap.config import Settings
from attrap.store import files


class PdfStore:
    """The PDF files under ``directory``; ``PdfStore.of(settings)`` is the configured one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def of(cls, settings: Settings) -> PdfStore:
        return cls(settings.storage.data_dir / "pdfs")

    def path(self, sha256: str) -> Path:
        """Where the PDF whose content hashes to ``sha256`` is (or would be) stored."""
        return self.directory / f"{sha256}.pdf"

    def writer(self) -> PdfWriter:
        """``with store.writer() as writer:`` ``writer.write(chunk)``…, then ``writer.commit()``."""
        return PdfWriter(self)

    def put(self, content: bytes) -> str:
        """Store ``content`` whole; its sha256."""
        with self.writer() as writer:
            writer.write(content)
            writer.commit()
        return writer.sha256

    def temporary_files(self) -> list[Path]:
        """PDFs being written, or left half-written by a killed process."""
        return files.temporary_files(self.directory)

    def remove_stale_parts(self) -> int:
        """Remove what killed writers left behind (``files.remove_stale_parts``); how many."""
        return files.remove_stale_parts(self.directory)


class PdfWriter:
    """One PDF being stored. Entering opens a temporary file in the store's directory (an
    ``OSError`` there is the store's problem, not the PDF's); ``write`` appends and hashes;
    ``commit`` fsyncs and renames it to ``<sha256>.pdf``. Leaving without a commit, or on any
    exception, removes the temporary file."""

    def __init__(self, store: PdfStore) -> None:
        self._store = store
        self._digest = hashlib.sha256()
        self._handle: BinaryIO | None = None
        self._temp: Path | None = None
        self.size = 0
        self.path: Path | None = None

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __enter__(self) -> PdfWriter:
        fd, self._temp = files.new_temporary(self._store.directory)
        self._handle = os.fdopen(fd, "wb")
        return self

    def write(self, chunk: bytes) -> None:
        assert self._handle is not None, "a PdfWriter writes inside its with block"
        self._digest.update(chunk)
        self._handle.write(chunk)
        self.size += len(chunk)

    def commit(self) -> Path:
        """Make the bytes written so far the stored PDF of their hash; its path."""
        assert self._handle is not None and self._temp is not None, "commit once, inside with"
        handle, self._handle = self._handle, None
        with handle:
            handle.flush()
            os.fsync(handle.fileno())
        path = self._store.path(self.sha256)
        os.replace(self._temp, path)
        self._temp, self.path = None, path
        return path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        handle, temp = self._handle, self._temp
        self._handle = self._temp = None
        try:
            if handle is not None:
                handle.close()
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
