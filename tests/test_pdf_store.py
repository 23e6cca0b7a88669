"""The PDF store: content-addressed files written whole or not at all, and what killed writers
leave behind removed (``attrap.store.pdfs``, ``attrap.store.files``)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attrap.config import Settings
from attrap.store import files
from attrap.store.pdfs import PdfStore

CONTENT = b"%PDF-1.4 RAA 13-2024-123"


def everything(store: PdfStore) -> list[str]:
    """Every file of the store's directory, hidden temporary files included."""
    return sorted(p.name for p in store.directory.iterdir()) if store.directory.exists() else []


def test_the_configured_store_is_under_data_dir(tmp_path: Path):
    store = PdfStore.of(Settings.model_validate({"storage": {"data_dir": str(tmp_path)}}))
    assert store.directory == tmp_path / "pdfs"
    assert store.path("ab" * 32) == tmp_path / "pdfs" / f"{'ab' * 32}.pdf"


def test_a_pdf_is_stored_under_its_sha256(tmp_path: Path):
    store = PdfStore(tmp_path / "pdfs")
    digest = hashlib.sha256(CONTENT).hexdigest()
    with store.writer() as writer:
        for start in range(0, len(CONTENT), 5):
            writer.write(CONTENT[start : start + 5])
        path = writer.commit()
    assert (path, writer.sha256, writer.size) == (store.path(digest), digest, len(CONTENT))
    assert path.read_bytes() == CONTENT
    assert everything(store) == [f"{digest}.pdf"]
    assert store.put(CONTENT) == digest  # the same bytes again: the same file
    assert everything(store) == [f"{digest}.pdf"]


def test_the_temporary_file_is_in_the_store_and_names_its_writer(tmp_path: Path):
    store = PdfStore(tmp_path / "pdfs")
    with store.writer() as writer:
        writer.write(CONTENT)
        (temporary,) = store.temporary_files()
        assert temporary.parent == store.directory  # renamed within one file system
        assert temporary.name.startswith(f".{socket.gethostname()}~{os.getpid()}~")
        writer.commit()
    assert store.temporary_files() == []


def test_commit_fsyncs_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(source: str | Path, target: str | Path) -> None:
        calls.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    PdfStore(tmp_path / "pdfs").put(CONTENT)
    assert calls == ["fsync", "replace"]


class Interrupted(Exception):
    pass


def test_a_failure_or_no_commit_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = PdfStore(tmp_path / "pdfs")
    with pytest.raises(Interrupted), store.writer() as writer:
        writer.write(CONTENT)
        raise Interrupted
    with store.writer() as writer:
        writer.write(CONTENT)  # left without a commit: not a stored PDF
    assert everything(store) == []

    def full(source: str | Path, target: str | Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space left"), store.writer() as writer:
        writer.write(CONTENT)
        writer.commit()
    assert everything(store) == []


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_parts_are_removed_and_live_ones_kept(tmp_path: Path):
    store = PdfStore(tmp_path / "pdfs")
    store.directory.mkdir()
    host = socket.gethostname()
    two_hours_ago = time.time() - 2 * 3600
    parts = {
        "dead writer here": f".{host}~{dead_pid()}~x1.part",
        "live writer here": f".{host}~{os.getpid()}~x2.part",
        "other machine": f".elsewhere~{os.getpid()}~x3.part",
        "other machine, old": f".elsewhere~{os.getpid()}~x4.part",
    }
    for name, part in parts.items():
        (store.directory / part).write_bytes(b"%PDF-1.4 partial")
        if name.endswith("old"):
            os.utime(store.directory / part, (two_hours_ago, two_hours_ago))
    stored = store.put(CONTENT)
    os.utime(store.path(stored), (two_hours_ago, two_hours_ago))  # an old PDF is no temporary

    assert store.remove_stale_parts() == 2
    assert everything(store) == sorted(
        [parts["live writer here"], parts["other machine"], store.path(stored).name]
    )
    assert files.remove_stale_parts(store.directory, older_than_s=0) == 2
    assert everything(store) == [store.path(stored).name]
