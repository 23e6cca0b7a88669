"""Hostile PDFs through ``attrap scan`` and a whole ``attrap run``: the memory of the whole
process tree stays under 1 GB, time is bounded, a file that cannot be read is one line on screen
(never a traceback) and a ``failed`` document, the run goes on, and later runs retry it a bounded
number of times."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from attrap.store.db import open_database
from attrap.store.models import Document
from hostile_pdfs import HOSTILE, READABLE
from local_server import LocalServer, html, pdf, write_run_config

GIGABYTE = 1024**3
# Files no reader can open: each must fail, with its reason.
UNREADABLE = {
    "zero-bytes": ("0 octet", "réponse vide"),  # read from disk by scan, downloaded by run
    "truncated": ("PDF illisible",),
    "encrypted": ("password",),
    "cyclic": ("aucune page",),
}


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for name, build in HOSTILE.items():
        files[name] = folder / f"{name}.pdf"
        build(files[name])
    return files


class TreeMemory:
    """The peak resident memory of a process and all its descendants, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.is_set():
            total = 0
            with contextlib.suppress(psutil.Error):
                for process in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):  # it may have ended meanwhile
                        total += process.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.02)

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def attrap(*args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], int, float]:
    """Run the CLI in its own process; its output, peak tree memory and duration."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", "from attrap.cli import app; app()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = TreeMemory(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        peak = memory.stop()
        process.kill()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return result, peak, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HOSTILE))
def test_scan_of_a_hostile_pdf(hostile: dict[str, Path], name: str, tmp_path: Path):
    config = tmp_path / "attrap.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path}"\n[extract]\ntimeout_s = 60\n')
    result, peak, seconds = attrap("scan", str(hostile[name]), "-c", str(config), timeout=300)
    output = result.stdout + result.stderr
    assert peak < GIGABYTE, f"{name}: {peak / 2**20:.0f} MB"
    assert "Traceback" not in output
    if name in READABLE or result.returncode == 0:
        assert result.returncode == 0, output
        assert "Actes du bulletin" in result.stdout
    else:
        assert result.returncode == 1
        lines = output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("erreur :"), output
    if name in UNREADABLE:
        assert any(reason in output for reason in UNREADABLE[name]), output
    if name in ("encrypted-empty-password", "javascript-and-forms"):
        assert "Drones" in result.stdout
    print(f"{name}: {peak / 2**20:.0f} MB, {seconds:.1f} s, exit {result.returncode}")


def _listing(names: list[str]) -> str:
    links = "".join(
        f'<li><a class="fr-link fr-link--download" href="/raa/{name}.pdf">RAA n°13-2024-{n} '
        f'<span class="fr-link__detail">PDF - 1 Mb - 11/07/2024</span></a></li>'
        for n, name in enumerate(names, start=100)
    )
    return (
        "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
        f'<div class="fr-downloads-group"><ul>{links}</ul></div></main></body></html>'
    )


@pytest.fixture
def hostile_site(hostile: dict[str, Path], bulletin: bytes) -> Iterator[LocalServer]:
    names = [*hostile, "bulletin"]
    with LocalServer().running() as server:
        server.route("/Publications/RAA-et-Archives", html(_listing(names)))
        for name, path in hostile.items():
            server.route(f"/raa/{name}.pdf", pdf(path.read_bytes()))
        server.route("/raa/bulletin.pdf", pdf(bulletin))
        yield server


@pytest.mark.slow
def test_run_over_hostile_pdfs(hostile_site: LocalServer, tmp_path: Path, database_url: str):
    config = write_run_config(
        tmp_path,
        database_url,
        f"""[extract]
timeout_s = 60
[processing]
max_attempts = 2
[adapters.overrides."13"]
start_urls = ["{hostile_site.url("/Publications/RAA-et-Archives")}"]
""",
    )
    first, peak, seconds = attrap("run", "13", "--no-notify", "-c", str(config), timeout=900)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert peak < GIGABYTE, f"{peak / 2**20:.0f} MB"
    print(f"attrap run over {len(HOSTILE) + 1} files: {peak / 2**20:.0f} MB, {seconds:.0f} s")

    database = open_database(database_url)
    with database.session() as session:
        documents = {d.url.rsplit("/", 1)[1]: d for d in session.scalars(select(Document))}
    failed = {name: d for name, d in documents.items() if d.status == "failed"}
    assert documents["bulletin.pdf"].status == "matched"
    for name in READABLE:
        assert documents[f"{name}.pdf"].status == "matched", documents[f"{name}.pdf"].error
    for name, reasons in UNREADABLE.items():
        error = failed[f"{name}.pdf"].error or ""
        assert any(reason in error for reason in reasons) and "\n" not in error, (name, error)
    # One line on screen per failure, naming the document; the details are in the log file.
    warnings = [line for line in first.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == len(failed), first.stderr
    assert all("failed" in line for line in warnings)
    assert len(first.stderr.strip().splitlines()) == len(warnings), first.stderr
    assert (tmp_path / "data" / "attrap.log").read_text(encoding="utf-8").count("failed") >= len(
        failed
    )

    # Later runs try the files that failed processing again, at most processing.max_attempts.
    second, _, _ = attrap("run", "13", "--no-notify", "-c", str(config), timeout=900)
    third, _, _ = attrap("run", "13", "--no-notify", "-c", str(config), timeout=900)
    assert "Traceback" not in second.stderr + third.stderr
    with database.session() as session:
        after = {d.url.rsplit("/", 1)[1]: d for d in session.scalars(select(Document))}
    database.engine.dispose()
    for name, document in failed.items():
        if document.sha256:  # downloaded, then failed to be read
            assert after[name].status == "failed"
            assert after[name].process_attempts == 2, name

    def unreadable(result: subprocess.CompletedProcess[str]) -> int:
        return result.stderr.count("attrap.pipeline.document: document")

    assert unreadable(first) == unreadable(second) > 0 and unreadable(third) == 0
