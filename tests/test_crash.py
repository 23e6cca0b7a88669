"""Crash consistency, for real: ``attrap daemon`` runs as a child process (real processing lanes,
real tesseract, a prefecture site on 127.0.0.1, aiosmtpd, a Mastodon stand-in that honours
Idempotency-Key, a webhook receiver) and is killed with SIGKILL at one point of the pass —
during a download, during extraction, during OCR, between storing hits and dispatching them,
during dispatch. It is restarted, and then every document is processed once, every hit exists
once, every notification is delivered once, and no partial file remains.

Each kill waits on observable state (the server's request log, files, database rows, the peers)
with generous bounds; nothing depends on timing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select, text

from attrap.config import Settings, load_settings
from attrap.notify.channel import hit_key
from attrap.scan import scan
from attrap.store.db import Database, open_database
from attrap.store.models import Document, Hit, Notification
from attrap.store.pdfs import PdfStore
from attrap.store.queries import hit_to_json
from bench.bulletins import build_bulletin, load_corpus
from conftest import POSTGRES_URL, reset_postgres
from local_server import LocalServer, Reply, html, make_pdf, pdf
from notify_peers import FakeMastodon, SmtpServer, WebhookReceiver

pytestmark = pytest.mark.slow

LISTING_PATH = "/Publications/RAA-et-Archives"
TOKEN = "crash-test-token"
BOUND_S = 180.0  # every wait's upper bound: generous, for a loaded CI machine
# Documents of the site: path → (title, date)
BORN = "/contenu/telechargement/1/file/RAA-13-2024-178.pdf"  # born-digital, hits
MIXED = "/contenu/telechargement/2/file/RAA-13-2024-179.pdf"  # three scanned pages: fast lane
SCAN = "/contenu/telechargement/3/file/RAA-13-2024-180.pdf"  # scanned: the OCR lane
SLOW = "/contenu/telechargement/4/file/RAA-13-2024-181.pdf"  # small, sent slowly the first time
DOCUMENTS = {
    BORN: ("RAA spécial n°13-2024-178", "11/07/2024"),
    MIXED: ("RAA spécial n°13-2024-179", "12/07/2024"),
    SCAN: ("RAA spécial n°13-2024-180", "13/07/2024"),
    SLOW: ("RAA n°13-2024-181", "14/07/2024"),
}


def listing() -> str:
    items = "".join(
        f'<li><a class="fr-link fr-link--download" href="{href}">{title}'
        f'<span class="fr-link__detail">PDF - 1,2 Mb - {date}</span></a></li>'
        for href, (title, date) in DOCUMENTS.items()
    )
    return (
        "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
        f'<div class="fr-downloads-group"><ul>{items}</ul></div></main></body></html>'
    )


@pytest.fixture(scope="session")
def bulletins(tmp_path_factory: pytest.TempPathFactory, bulletin: bytes) -> dict[str, bytes]:
    corpus = load_corpus()
    drone = [act for act in corpus if "drone" in act.categories]
    out = tmp_path_factory.mktemp("crash-bulletins")
    mixed = build_bulletin(corpus[:6], out / "mixed.pdf", number="13-2024-179", scanned=[2, 3, 4])
    scanned = build_bulletin(
        [*drone[:2], *corpus[:3]], out / "scan.pdf", number="13-2024-180", scanned=True
    )
    return {
        BORN: bulletin,
        MIXED: mixed.path.read_bytes(),
        SCAN: scanned.path.read_bytes(),
        SLOW: make_pdf("Recueil sans acte"),
    }


@dataclass
class Peers:
    mastodon: FakeMastodon
    webhook: WebhookReceiver
    smtp: SmtpServer


@pytest.fixture
def peers() -> Iterator[Peers]:
    found = Peers(FakeMastodon(TOKEN), WebhookReceiver(), SmtpServer())
    yield found
    found.mastodon.close()
    found.webhook.close()
    found.smtp.close()


class Site:
    def __init__(self, server: LocalServer, bulletins: dict[str, bytes]) -> None:
        self.server = server
        self.bulletins = bulletins
        server.route(LISTING_PATH, html(listing()))
        for path, content in bulletins.items():
            server.route(path, pdf(content))

    def slow_download(self) -> None:
        """The next download of SLOW trickles for minutes: a kill catches it half-written."""
        body = self.bulletins[SLOW] + b"%" + b"0" * 400_000
        slow = Reply(
            body=body,
            headers={"Content-Type": "application/pdf"},
            chunked=True,
            chunk_bytes=8192,
            chunk_pause_s=1.0,
        )
        served: list[int] = []

        def handle(_request: object) -> Reply:
            served.append(1)
            return slow if len(served) == 1 else pdf(self.bulletins[SLOW])

        self.server.route(SLOW, handle)


@pytest.fixture
def site(bulletins: dict[str, bytes]) -> Iterator[Site]:
    with LocalServer().running() as server:
        yield Site(server, bulletins)


def write_config(
    tmp_path: Path, url: str, site: Site, peers: Peers, *, cycle_s: float, daily: bool = False
) -> Path:
    config = tmp_path / f"attrap-{cycle_s:g}.toml"
    every = "every_minutes = 1440\n" if daily else ""
    config.write_text(
        f"""
[storage]
data_dir = "{tmp_path / "data"}"
[database]
url = "{url}"
[crawl]
min_delay_s = 0
max_attempts = 1
not_before = 2024-07-01
[processing]
fast_lane_ocr_pages = 3
[schedule]
jitter_s = 0
cycle_s = {cycle_s}
{every}[adapters]
enabled = ["13"]
[adapters.overrides."13"]
start_urls = ["{site.server.url(LISTING_PATH)}"]
[notify]
lease_s = 1
[notify.mastodon]
instance = "{peers.mastodon.url}"
token_env = "ATTRAP_TEST_MASTODON_TOKEN"
digest_threshold = 100
[notify.email]
host = "127.0.0.1"
port = {peers.smtp.port}
starttls = false
sender = "veille@attrap.test"
to = ["alertes@attrap.test"]
digest_threshold = 100
[notify.webhook]
url = "{peers.webhook.url}/hook"
digest_threshold = 100
""",
        encoding="utf-8",
    )
    return config


class DaemonProcess:
    """``attrap daemon`` in a child process of its own."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from attrap.cli import app; app()",
                "daemon",
                "-c",
                str(config),
            ],
            stdout=self.log,
            stderr=self.log,
            env={**os.environ, "ATTRAP_TEST_MASTODON_TOKEN": TOKEN},
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the daemon alone, as the OOM killer would: nothing of it runs after, and
        its processing workers follow it (they die with their parent)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.log.close()
        deadline = time.monotonic() + BOUND_S
        while session_processes(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not session_processes(self.process.pid), "processes outlived the killed daemon"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


def session_processes(session_id: int) -> list[int]:
    """The live processes of a session (the daemon was its leader)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session; zombies are dead already.
        if fields[0] != "Z" and int(fields[3]) == session_id:
            found.append(int(stat.parent.name))
    return found


def wait_for(condition: Callable[[], bool], what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        if condition():
            return
        if daemon.process.poll() is not None:
            pytest.fail(f"the daemon exited ({daemon.process.returncode}) before {what}")
        time.sleep(0.02)
    pytest.fail(f"not within {BOUND_S:g} s: {what}")


def documents(url: str) -> dict[str, tuple[str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT url, status, process_attempts FROM documents")
            ).all()
    except Exception:
        return {}  # the schema is being created
    finally:
        engine.dispose()
    return {row.url: (row.status, row.process_attempts) for row in rows}


def count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar() or 0)
    except Exception:
        return 0
    finally:
        engine.dispose()


def in_progress(url: str, path: str) -> Callable[[], bool]:
    """The document's processing has begun (an attempt is counted) and has not ended."""

    def check() -> bool:
        status, attempts = documents(url).get(path, ("", 0))
        return status in ("fetched", "extracted") and attempts >= 1

    return check


@dataclass
class Scenario:
    tmp_path: Path
    url: str
    site: Site
    peers: Peers

    config: Path = Path()

    def start(self, *, cycle_s: float = 3600.0) -> DaemonProcess:
        self.config = write_config(self.tmp_path, self.url, self.site, self.peers, cycle_s=cycle_s)
        return DaemonProcess(self.config, self.tmp_path / "daemon.log")

    def doc_url(self, path: str) -> str:
        return self.site.server.url(path)


@pytest.fixture(scope="session")
def expected_hits(
    bulletins: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> Counter[tuple[str, int, str]]:
    """What each bulletin yields read on its own (``attrap scan``): (path, page, category)."""
    folder = tmp_path_factory.mktemp("expected")
    settings = Settings.model_validate({"storage": {"data_dir": str(folder)}})
    found: Counter[tuple[str, int, str]] = Counter()
    for path, content in bulletins.items():
        store = PdfStore(folder)
        file = store.path(store.put(content))
        for act in scan(str(file), settings).acts:
            for hit in act.hits:
                found[(path, act.act.page_start, hit.category)] += 1
    assert found, "the bulletins must yield hits"
    return found


def assert_consistent(
    scenario: Scenario, bulletins: dict[str, bytes], expected: Counter[tuple[str, int, str]]
) -> None:
    settings = load_settings(scenario.config)
    database: Database = open_database(scenario.url)
    with database.session() as session:
        docs = list(session.scalars(select(Document)))
        assert {d.url: d.status for d in docs} == {
            scenario.doc_url(p): "matched" for p in bulletins
        }
        assert all(d.process_attempts <= settings.processing.max_attempts for d in docs)
        hits = list(session.scalars(select(Hit)))
        stored = Counter(
            (urlsplit(h.document.url).path, h.act.page_start, h.category) for h in hits
        )
        assert stored == expected
        assert all(n == 1 for n in stored.values())
        notifications = list(session.scalars(select(Notification)))
        assert {n.status for n in notifications} == {"sent"}
        routed = {
            channel: {
                hit_key(channel, hit_to_json(n.hit)) for n in notifications if n.channel == channel
            }
            for channel in ("mastodon", "email", "webhook")
        }
    database.engine.dispose()
    assert routed["webhook"] and routed["mastodon"] and routed["email"]
    peers = scenario.peers
    # Mastodon: repeats carry the same Idempotency-Key and create no second status.
    assert set(peers.mastodon.statuses) == routed["mastodon"]
    # Webhook and email: a repeat carries the same delivery id / Message-ID; each id once.
    assert set(peers.webhook.deliveries) == routed["webhook"]
    message_ids = {
        m["Message-ID"].strip("<>").split("@")[0] for _, m in peers.smtp.mailbox.messages
    }
    assert message_ids == routed["email"]
    # No partial file, and every stored PDF is whole.
    store = PdfStore.of(settings)
    assert store.temporary_files() == []
    for stored_pdf in store.directory.glob("*.pdf"):
        assert stored_pdf == store.path(hashlib.sha256(stored_pdf.read_bytes()).hexdigest())


def delivered_everything(scenario: Scenario) -> Callable[[], bool]:
    def check() -> bool:
        # Documents first: a document matched after the count would bring new pending rows.
        docs = documents(scenario.url)
        if len(docs) != len(DOCUMENTS) or any(status != "matched" for status, _ in docs.values()):
            return False
        unsent = "SELECT count(*) FROM notifications WHERE status <> 'sent'"
        return count(scenario.url, "SELECT count(*) FROM notifications") > 0 and not count(
            scenario.url, unsent
        )

    return check


def kill_during_download(scenario: Scenario, daemon: DaemonProcess) -> None:
    store = PdfStore.of(load_settings(scenario.config))
    wait_for(
        lambda: bool(scenario.site.server.requests_to(SLOW)) and bool(store.temporary_files()),
        "the slow download has begun writing",
        daemon,
    )


def kill_during_extraction(scenario: Scenario, daemon: DaemonProcess) -> None:
    # The mixed bulletin's few scanned pages are read in the fast lane: its extraction.
    wait_for(
        in_progress(scenario.url, scenario.doc_url(MIXED)),
        "the mixed bulletin's extraction",
        daemon,
    )


def kill_during_ocr(scenario: Scenario, daemon: DaemonProcess) -> None:
    wait_for(in_progress(scenario.url, scenario.doc_url(SCAN)), "the scan's OCR", daemon)


def kill_before_dispatch(scenario: Scenario, daemon: DaemonProcess) -> None:
    def stored() -> bool:
        docs = documents(scenario.url)
        return len(docs) == len(DOCUMENTS) and all(s == "matched" for s, _ in docs.values())

    wait_for(stored, "every hit stored, none dispatched yet", daemon)
    assert count(scenario.url, "SELECT count(*) FROM notifications WHERE status = 'pending'") > 0


def kill_during_dispatch(scenario: Scenario, daemon: DaemonProcess) -> None:
    wait_for(scenario.peers.webhook.accepted.is_set, "the webhook receiving a delivery", daemon)


KILL_POINTS = {
    "download": kill_during_download,
    "extraction": kill_during_extraction,
    "ocr": kill_during_ocr,
    "before-dispatch": kill_before_dispatch,
    "dispatch": kill_during_dispatch,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkilled_daemon_resumes_with_everything_once(
    point: str,
    tmp_path: Path,
    site: Site,
    peers: Peers,
    bulletins: dict[str, bytes],
    expected_hits: Counter[tuple[str, int, str]],
):
    scenario = Scenario(tmp_path, f"sqlite:///{tmp_path / 'attrap.db'}", site, peers)
    if point == "download":
        site.slow_download()
    if point == "dispatch":
        peers.webhook.hold = True
    # The first life delivers only when the kill is during dispatch: otherwise its cycle would
    # run at start, before any hit exists, and not again before the kill.
    first = scenario.start(cycle_s=1 if point == "dispatch" else 3600)
    try:
        KILL_POINTS[point](scenario, first)
    finally:
        first.kill()
    peers.webhook.release.set()
    if point == "before-dispatch":
        assert not peers.mastodon.statuses and not peers.webhook.deliveries
    second = scenario.start(cycle_s=1)
    try:
        wait_for(delivered_everything(scenario), "every document and notification done", second)
    finally:
        second.stop()
    assert_consistent(scenario, bulletins, expected_hits)


class WorkerProcess(DaemonProcess):
    """``attrap worker`` in a child process of its own."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from attrap.cli import app; app()",
                "worker",
                "-c",
                str(config),
            ],
            stdout=self.log,
            stderr=self.log,
            env={**os.environ, "ATTRAP_TEST_MASTODON_TOKEN": TOKEN},
            start_new_session=True,
        )

    def running_tesseract(self) -> bool:
        for pid in session_processes(self.process.pid):
            try:
                if b"tesseract" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                    return True
            except OSError:
                continue
        return False


def test_two_workers_on_postgresql_one_killed_during_ocr(
    tmp_path: Path,
    site: Site,
    peers: Peers,
    bulletins: dict[str, bytes],
    expected_hits: Counter[tuple[str, int, str]],
):
    if not POSTGRES_URL:
        pytest.skip("ATTRAP_TEST_DATABASE_URL not set")
    reset_postgres(POSTGRES_URL)
    scenario = Scenario(tmp_path, POSTGRES_URL, site, peers)
    # Daily crawls: the first worker to start defers today's crawl of 13 at once.
    scenario.config = write_config(tmp_path, POSTGRES_URL, site, peers, cycle_s=60, daily=True)
    workers = [WorkerProcess(scenario.config, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    survivor = None
    try:
        scan_in_progress = in_progress(POSTGRES_URL, scenario.doc_url(SCAN))

        def only_the_scan_left() -> bool:
            docs = documents(POSTGRES_URL)
            others = [status for url, (status, _) in docs.items() if url != scenario.doc_url(SCAN)]
            return len(others) == len(DOCUMENTS) - 1 and set(others) == {"matched"}

        # Only the scan is left, so the worker running tesseract is the one reading it.
        wait_for(
            lambda: (
                only_the_scan_left()
                and scan_in_progress()
                and any(w.running_tesseract() for w in workers)
            ),
            "a worker running the scan's OCR",
            workers[0],
        )
        victim = next(w for w in workers if w.running_tesseract())
        survivor = next(w for w in workers if w is not victim)
        victim.kill()
        # The survivor re-queues the dead worker's job once its heartbeats stop, processes the
        # scan (a second attempt) and delivers everything.
        wait_for(delivered_everything(scenario), "every document and notification done", survivor)
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.stop()
    assert_consistent(scenario, bulletins, expected_hits)
    status, attempts = documents(POSTGRES_URL)[scenario.doc_url(SCAN)]
    assert (status, attempts) == ("matched", 2)
