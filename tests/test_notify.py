"""The notification outbox against real peers: a Mastodon-like HTTP server, a webhook receiver and
an SMTP server on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import os
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlalchemy import select
from typer.testing import CliRunner

from attrap.cli import app
from attrap.config import Settings
from attrap.notify import messages
from attrap.notify.channel import hit_key
from attrap.notify.outbox import dispatch, enqueue
from attrap.store.db import Database, open_database
from attrap.store.models import Act, Administration, Document, Hit, Notification, utcnow
from attrap.store.queries import hit_to_json
from notify_peers import FakeMastodon, Reply, SmtpServer, WebhookReceiver, free_port

TOKEN = "secret-token"
ADMINISTRATIONS = {
    "13": ("Préfecture des Bouches-du-Rhône", "departement", "13"),
    "2A": ("Préfecture de la Corse-du-Sud", "departement", "2A"),
    "PP": ("Préfecture de police", "police", "75"),
    "R93": ("Préfecture de la région Provence-Alpes-Côte d'Azur", "region", None),
}


@pytest.fixture
def mastodon(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMastodon]:
    monkeypatch.setenv("ATTRAP_MASTODON_TOKEN", TOKEN)
    peer = FakeMastodon(TOKEN)
    yield peer
    peer.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


_documents = 0


def add_hits(
    database: Database,
    specs: list[tuple[str, str]],
    *,
    signed_on: dt.date = dt.date(2024, 7, 10),
    title: str = "Arrêté autorisant la captation d'images au moyen de caméras aéroportées",
) -> list[int]:
    """One document per call, one act and one hit per (administration code, category)."""
    global _documents
    _documents += 1
    ids = []
    with database.session() as session:
        for code, (name, kind, department) in ADMINISTRATIONS.items():
            session.merge(
                Administration(
                    code=code, name=name, kind=kind, department=department, engine="dsfr"
                )
            )
        for number, (code, category) in enumerate(specs, start=1):
            document = Document(
                administration_code=code,
                url=f"https://www.example.gouv.fr/raa/{_documents}-{number}.pdf",
                title=f"RAA n°{code}-2024-{_documents}",
                published_on=dt.date(2024, 7, 12),
                sha256=f"{_documents:032x}{number:032x}",
                status="matched",
            )
            act = Act(
                document=document,
                number=f"{code}-2024-07-10-{number:05d}",
                title=title,
                signed_on=signed_on,
                page_start=number + 3,
                page_end=number + 5,
            )
            hit = Hit(
                act=act,
                document=document,
                category=category,
                score=0.97,
                terms=["caméras installées sur des aéronefs"],
                snippet="… au moyen de caméras installées sur des aéronefs …",
                page=number + 3,
                rules_version="1",
            )
            session.add_all([document, act, hit])
            session.flush()
            ids.append(hit.id)
    return ids


def settings_for(database: Database, tmp_path: Path, **notify: Any) -> Settings:
    url = database.engine.url.render_as_string(hide_password=False)
    return Settings.model_validate(
        {
            "database": {"url": url},
            "storage": {"data_dir": str(tmp_path / "data")},
            "notify": notify,
        }
    )


def queue(database: Database, settings: Settings, ids: list[int], **kwargs: Any) -> int:
    with database.session() as session:
        return enqueue(session, settings, ids, **kwargs)


def rows(database: Database, channel: str | None = None) -> list[Notification]:
    with database.session() as session:
        statement = select(Notification).order_by(Notification.id)
        if channel:
            statement = statement.where(Notification.channel == channel)
        return list(session.scalars(statement))


def hit_json(database: Database, hit_id: int) -> dict[str, Any]:
    with database.session() as session:
        hit = session.get(Hit, hit_id)
        assert hit is not None
        return hit_to_json(hit)


def fast_retries(**extra: Any) -> dict[str, Any]:
    return {"retry_base_s": 60, "timeout_s": 10, **extra}


# --- Routing, muting, since -----------------------------------------------------------------------


def test_enqueue_routes_by_category_and_department(database: Database, tmp_path: Path):
    settings = settings_for(
        database,
        tmp_path,
        mastodon={"instance": "http://x", "departments": ["13", "2?"]},
        email={
            "host": "h",
            "sender": "a@b.fr",
            "to": ["c@d.fr"],
            "categories": ["*"],
            "departments": ["75"],
        },
        webhook={"url": "http://x", "enabled": False},
    )
    ids = add_hits(
        database,
        [
            ("13", "drone"),
            ("13", "videoprotection"),
            ("PP", "drone"),
            ("2A", "vsa"),
            ("R93", "drone"),
            ("13", "brouillage"),
        ],
    )
    assert queue(database, settings, ids) == 3
    routed = {(n.hit_id, n.channel) for n in rows(database)}
    # Mastodon: drone and vsa (notified by default in rules.toml, brouillage is not) in 13 and
    # 2?; email: every category in 75 (the Préfecture de police); nothing regional (no
    # département) on either; webhook disabled.
    assert routed == {(ids[0], "mastodon"), (ids[2], "email"), (ids[3], "mastodon")}
    assert all(n.status == "pending" and n.attempts == 0 for n in rows(database))
    # Enqueuing the same hits again adds nothing: unique (hit, channel).
    assert queue(database, settings, ids) == 0
    assert len(rows(database)) == 3


def test_muted_and_since_rows_are_skipped_and_never_sent(
    database: Database, tmp_path: Path, webhook: WebhookReceiver
):
    settings = settings_for(
        database, tmp_path, since=dt.date(2024, 7, 1), webhook={"url": webhook.url}
    )
    old = add_hits(database, [("13", "drone")], signed_on=dt.date(2024, 6, 30))
    new = add_hits(database, [("13", "drone")], signed_on=dt.date(2024, 7, 1))
    muted = add_hits(database, [("13", "vsa")])
    assert queue(database, settings, old + new) == 1
    assert queue(database, settings, muted, muted=True) == 0
    states = {n.hit_id: n.status for n in rows(database)}
    assert states == {old[0]: "skipped", new[0]: "pending", muted[0]: "skipped"}

    report = dispatch(database, settings)
    assert report.channels["webhook"].sent == 1
    assert [r.json()["id"] for r in webhook.posts()] == new
    assert {n.hit_id: n.status for n in rows(database)}[old[0]] == "skipped"


# --- Mastodon -------------------------------------------------------------------------------------


def test_mastodon_status_in_french_with_idempotency_key(
    database: Database, tmp_path: Path, mastodon: FakeMastodon
):
    settings = settings_for(
        database, tmp_path, mastodon={"instance": mastodon.url, "visibility": "unlisted"}
    )
    [hit_id] = add_hits(database, [("13", "vsa")])
    queue(database, settings, [hit_id])

    report = dispatch(database, settings)

    assert report.channels["mastodon"].sent == 1
    [post] = mastodon.posts()
    sent = post.json()
    assert sent["visibility"] == "unlisted"
    assert sent["language"] == "fr"
    assert sent["status"] == (
        "Vidéosurveillance algorithmique — Préfecture des Bouches-du-Rhône\n"
        "« Arrêté autorisant la captation d'images au moyen de caméras aéroportées » "
        "(n° 13-2024-07-10-00001), signé le 10 juillet 2024\n"
        f"{hit_json(database, hit_id)['link']}\n"
        "#VSA #Dept13"
    )
    assert sent["status"].splitlines()[2].endswith(".pdf#page=4")
    assert post.headers["idempotency-key"] == hit_key("mastodon", hit_json(database, hit_id))
    [row] = rows(database)
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.remote_id == next(iter(mastodon.statuses.values()))["id"]
    assert row.sent_at is not None and row.claimed_by is None


def test_mastodon_respects_the_instance_character_limit(
    database: Database, tmp_path: Path, mastodon: FakeMastodon
):
    mastodon.max_characters = 160
    settings = settings_for(database, tmp_path, mastodon={"instance": mastodon.url})
    ids = add_hits(database, [("13", "drone")], title="Arrêté très long " * 30)
    queue(database, settings, ids)
    dispatch(database, settings)
    text = mastodon.posts()[0].json()["status"]
    assert messages.mastodon_length(text) <= 160
    assert len(text) > 160  # the link is longer than the 23 characters it counts for
    assert "…" in text and text.endswith("#drone #Dept13")
    assert hit_json(database, ids[0])["link"] in text


def test_mastodon_length_counts_links_as_23_characters():
    url = "https://www.bouches-du-rhone.gouv.fr/" + "x" * 200
    assert messages.mastodon_length(f"Voir {url}") == len("Voir ") + 23


def test_rate_limit_pauses_the_channel_without_counting_attempts(
    database: Database, tmp_path: Path, mastodon: FakeMastodon
):
    settings = settings_for(database, tmp_path, mastodon={"instance": mastodon.url})
    reset = (utcnow() + dt.timedelta(minutes=5)).replace(microsecond=0)
    mastodon.rate_limit = (0, reset)  # the first post succeeds and exhausts the budget
    ids = add_hits(database, [("13", "drone"), ("13", "vsa"), ("2A", "drone")])
    queue(database, settings, ids)

    report = dispatch(database, settings).channels["mastodon"]
    assert (report.sent, report.deferred) == (1, 2)
    assert len(mastodon.posts()) == 1
    waiting = [n for n in rows(database) if n.status == "pending"]
    assert {n.next_attempt_at for n in waiting} == {reset}
    assert {n.attempts for n in waiting} == {0}

    # A 429 is not a failed attempt either: the row waits for the reset the server names.
    mastodon.rate_limit = None
    later_reset = reset + dt.timedelta(minutes=5)
    mastodon.script.append(
        Reply(429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": later_reset.isoformat()})
    )
    report = dispatch(database, settings, now=reset).channels["mastodon"]
    assert (report.sent, report.deferred, report.retrying) == (0, 2, 0)
    waiting = [n for n in rows(database) if n.status == "pending"]
    assert {(n.attempts, n.next_attempt_at) for n in waiting} == {(0, later_reset)}

    report = dispatch(database, settings, now=later_reset).channels["mastodon"]
    assert report.sent == 2
    assert len(mastodon.statuses) == 3


# --- Crash between the remote accepting and the row being marked sent -----------------------------


@pytest.mark.parametrize("channel", ["mastodon", "webhook"])
def test_crash_after_remote_accepted_does_not_send_twice(
    channel: str,
    database: Database,
    database_url: str,
    tmp_path: Path,
    mastodon: FakeMastodon,
    webhook: WebhookReceiver,
):
    section = (
        f'[notify.mastodon]\ninstance = "{mastodon.url}"\n'
        if channel == "mastodon"
        else f'[notify.webhook]\nurl = "{webhook.url}"\n'
    )
    config = tmp_path / "attrap.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        + section,
        encoding="utf-8",
    )
    settings = settings_for(
        database,
        tmp_path,
        **{channel: {"instance": mastodon.url} if channel == "mastodon" else {"url": webhook.url}},
    )
    [hit_id] = add_hits(database, [("13", "drone")])
    queue(database, settings, [hit_id])
    peer = mastodon if channel == "mastodon" else webhook
    peer.hold = True

    # A real dispatcher process, killed while the remote has accepted but not yet answered.
    dispatcher = subprocess.Popen(
        [sys.executable, "-m", "attrap.cli", "notify", "dispatch", "-c", str(config)],
        env={**os.environ, "ATTRAP_MASTODON_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert peer.accepted.wait(60), dispatcher.communicate(timeout=5)[1]
    finally:
        dispatcher.kill()
        dispatcher.wait()
    peer.release.set()
    [row] = rows(database)
    assert row.status == "pending" and row.claimed_by is not None and row.remote_id is None

    # Before the dead dispatcher's lease runs out, nobody touches the row.
    assert dispatch(database, settings).channels[channel].sent == 0
    assert len(peer.posts()) == 1

    # After it, a new dispatcher retries with the same key; the remote recognises it.
    later = utcnow() + dt.timedelta(seconds=settings.notify.lease_s + 1)
    assert dispatch(database, settings, now=later).channels[channel].sent == 1
    first, second = peer.posts()
    key = "idempotency-key" if channel == "mastodon" else "x-attrap-delivery"
    assert first.headers[key] == second.headers[key]
    [row] = rows(database)
    assert row.status == "sent"
    if channel == "mastodon":
        [status] = mastodon.statuses.values()  # one status, not two
        assert row.remote_id == status["id"]
    else:
        assert list(webhook.deliveries) == [row.remote_id]
        assert first.body == second.body


# --- Failures, retries, restarts ------------------------------------------------------------------


def test_a_failing_channel_does_not_delay_the_others(
    database: Database,
    tmp_path: Path,
    mastodon: FakeMastodon,
    webhook: WebhookReceiver,
    smtp: SmtpServer,
):
    mastodon.delay_s = 3.0
    mastodon.script.append(Reply(503, body={"error": "maintenance"}))
    settings = settings_for(
        database,
        tmp_path,
        mastodon={"instance": mastodon.url, **fast_retries()},
        webhook={"url": webhook.url},
        email={
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "sender": "veille@example.org",
            "to": ["alertes@example.org"],
        },
    )
    ids = add_hits(database, [("13", "drone"), ("13", "vsa")])
    queue(database, settings, ids)

    started = time.monotonic()
    report = dispatch(database, settings)

    # Webhook and email delivered while Mastodon was still answering its first (slow) request.
    assert max(r.at for r in webhook.posts()) - started < 2.0
    assert len(smtp.mailbox.messages) == 2
    assert report.channels["webhook"].sent == 2 and report.channels["email"].sent == 2
    # Mastodon: one failed attempt, the second row paused instead of waiting 3 s more in vain.
    assert len(mastodon.posts()) == 1
    assert (report.channels["mastodon"].retrying, report.channels["mastodon"].deferred) == (1, 1)
    states = Counter((n.channel, n.status, n.attempts) for n in rows(database))
    assert states == {
        ("mastodon", "pending", 1): 1,
        ("mastodon", "pending", 0): 1,
        ("webhook", "sent", 1): 2,
        ("email", "sent", 1): 2,
    }
    assert "HTTP 503" in next(n.last_error for n in rows(database, "mastodon") if n.attempts)


def test_backoff_then_failed_after_max_attempts_and_shown_by_status(
    database: Database, tmp_path: Path, webhook: WebhookReceiver
):
    settings = settings_for(
        database, tmp_path, webhook={"url": webhook.url, **fast_retries(max_attempts=3)}
    )
    ids = add_hits(database, [("13", "drone")])
    queue(database, settings, ids)
    webhook.script.extend([Reply(500, body={"error": "boom"})] * 3)
    start = utcnow()

    def attempt(at: dt.datetime) -> Notification:
        dispatch(database, settings, now=at)
        [row] = rows(database)
        return row

    row = attempt(start)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at is not None
    # 60 s after the first failure, 120 s after the second (plus the time the dispatch took).
    assert dt.timedelta(seconds=60) <= row.next_attempt_at - start < dt.timedelta(seconds=65)
    assert attempt(start + dt.timedelta(seconds=59)).attempts == 1  # not due yet: no request
    assert len(webhook.posts()) == 1
    second = start + dt.timedelta(seconds=66)
    row = attempt(second)
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at is not None
    assert dt.timedelta(seconds=120) <= row.next_attempt_at - second < dt.timedelta(seconds=125)
    row = attempt(second + dt.timedelta(seconds=126))
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert row.last_error is not None and "HTTP 500" in row.last_error
    assert attempt(second + dt.timedelta(days=1)).status == "failed"  # never retried again
    assert len(webhook.posts()) == 3

    config = tmp_path / "attrap.toml"
    config.write_text(
        f'[database]\nurl = "{settings.database.url}"\n'
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["status", "-c", str(config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Notifications en échec" in result.output
    assert "HTTP 500" in result.output
    assert "notifications webhook" in result.output and "failed" in result.output

    # The receiver is fixed: an operator queues the failed row again and it goes out.
    result = CliRunner().invoke(app, ["notify", "retry", "webhook", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "1 notification(s) remise(s) en file" in result.output
    row = attempt(utcnow())
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(webhook.posts()) == 4


def test_a_request_refused_for_good_fails_at_once(
    database: Database, tmp_path: Path, mastodon: FakeMastodon
):
    settings = settings_for(database, tmp_path, mastodon={"instance": mastodon.url})
    ids = add_hits(database, [("13", "drone"), ("13", "vsa")])
    queue(database, settings, ids)
    mastodon.script.append(Reply(422, body={"error": "Validation failed: Text too long"}))
    report = dispatch(database, settings).channels["mastodon"]
    # The refusal concerns that status only: the next one still goes out in the same run.
    assert (report.failed, report.sent) == (1, 1)
    failed, sent = rows(database)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None and "Validation failed" in failed.last_error
    assert sent.status == "sent"


def test_a_restart_delivers_what_was_pending(
    database_url: str, tmp_path: Path, webhook: WebhookReceiver
):
    first = open_database(database_url)
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there: connection refused
    settings = settings_for(first, tmp_path, webhook={"url": down, **fast_retries()})
    ids = add_hits(first, [("13", "drone"), ("PP", "vsa")])
    queue(first, settings, ids)
    report = dispatch(first, settings).channels["webhook"]
    assert (report.retrying, report.deferred) == (1, 1)
    first.engine.dispose()

    # A new process would open a new Database from the same URL: the outbox is all it needs.
    second = open_database(database_url)
    settings = settings_for(second, tmp_path, webhook={"url": webhook.url, **fast_retries()})
    report = dispatch(second, settings, now=utcnow() + dt.timedelta(minutes=2))
    assert report.channels["webhook"].sent == 2
    assert sorted(r.json()["id"] for r in webhook.posts()) == sorted(ids)
    assert {(n.status, n.attempts) for n in rows(second)} == {("sent", 2), ("sent", 1)}
    second.engine.dispose()


def test_concurrent_dispatchers_send_everything_exactly_once(
    database_url: str,
    tmp_path: Path,
    mastodon: FakeMastodon,
    webhook: WebhookReceiver,
):
    setup = open_database(database_url)
    options = {"digest_threshold": 1000}
    settings = settings_for(
        setup,
        tmp_path,
        mastodon={"instance": mastodon.url, **options},
        webhook={"url": webhook.url, **options},
    )
    ids: list[int] = []
    mastodon.delay_s = webhook.delay_s = 0.01
    dispatchers = [open_database(database_url) for _ in range(3)]
    barrier = threading.Barrier(len(dispatchers) + 1)
    failures: list[BaseException] = []

    def run(database: Database) -> None:
        try:
            barrier.wait()
            for _ in range(4):
                dispatch(database, settings)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    barrier.wait()
    # Hits keep arriving while the dispatchers run, as they do during a crawl.
    for _ in range(4):
        new = add_hits(setup, [("13", "drone"), ("2A", "vsa"), ("PP", "drone")] * 3)
        queue(setup, settings, new)
        ids += new
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert not failures, failures
    dispatch(setup, settings)  # whatever arrived after the last round

    for peer, key in [(mastodon, "idempotency-key"), (webhook, "x-attrap-delivery")]:
        keys = Counter(r.headers[key] for r in peer.posts())
        assert len(keys) == len(ids)
        assert set(keys.values()) == {1}, "a notification was sent twice"
    assert {(n.status, n.attempts) for n in rows(setup)} == {("sent", 1)}
    for database in [setup, *dispatchers]:
        database.engine.dispose()


# --- Bursts ---------------------------------------------------------------------------------------


def test_a_burst_becomes_one_digest_that_retries_as_the_same_digest(
    database: Database, tmp_path: Path, mastodon: FakeMastodon
):
    settings = settings_for(
        database, tmp_path, mastodon={"instance": mastodon.url, **fast_retries(digest_threshold=3)}
    )
    burst = add_hits(database, [("13", "drone"), ("13", "vsa"), ("2A", "drone"), ("PP", "drone")])
    queue(database, settings, burst)
    mastodon.script.append(Reply(502, body={"error": "bad gateway"}))
    report = dispatch(database, settings).channels["mastodon"]
    assert (report.retrying, report.sent) == (4, 0)
    [digest_key] = {n.digest_key for n in rows(database)}
    assert digest_key is not None

    # Two more hits arrive before the retry: they are not folded into the pending digest.
    later = add_hits(database, [("13", "drone"), ("13", "vsa")])
    queue(database, settings, later)
    report = dispatch(database, settings, now=utcnow() + dt.timedelta(minutes=2))
    assert (report.channels["mastodon"].sent, report.channels["mastodon"].messages) == (6, 3)

    failed, digest, *singles = mastodon.posts()
    assert failed.headers["idempotency-key"] == digest.headers["idempotency-key"]
    assert failed.json()["status"] == digest.json()["status"]
    text = digest.json()["status"]
    assert text.startswith("4 nouvelles détections dans les recueils des actes administratifs\n")
    assert "Drones : 3 · Vidéosurveillance algorithmique : 1" in text
    assert text.endswith("#drone #VSA #Dept13 #Dept2A #Dept75")
    assert messages.mastodon_length(text) <= 500
    assert len(singles) == 2
    by_hit = {n.hit_id: n for n in rows(database)}
    assert {by_hit[i].remote_id for i in burst} == {
        mastodon.statuses[digest.headers["idempotency-key"]]["id"]
    }
    assert all(by_hit[i].digest_key is None and by_hit[i].status == "sent" for i in later)


def test_a_digest_lists_what_fits_and_counts_the_rest():
    hits = [messages.sample_hit() for _ in range(40)]
    text = messages.digest_status_text(hits, 500)
    assert messages.mastodon_length(text) <= 500
    shown = text.count("• 13 · Drones · https://")
    assert 0 < shown < 40
    assert f"… et {40 - shown} autres" in text


def test_webhook_digest_and_email_digest_mode(
    database: Database, tmp_path: Path, webhook: WebhookReceiver, smtp: SmtpServer
):
    settings = settings_for(
        database,
        tmp_path,
        webhook={"url": webhook.url, "digest_threshold": 2},
        email={
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "digest": True,
            "sender": "veille@example.org",
            "to": ["alertes@example.org"],
        },
    )
    ids = add_hits(database, [("13", "drone"), ("13", "vsa"), ("2A", "vsa")])
    queue(database, settings, ids)
    dispatch(database, settings)

    [post] = webhook.posts()
    assert post.headers["x-attrap-event"] == "digest"
    body = post.json()
    assert body["digest"] == post.headers["x-attrap-delivery"]
    assert body["hits"] == [hit_json(database, i) for i in ids]
    [(_, message)] = smtp.mailbox.messages
    assert message["Subject"] == "3 nouvelles détections dans les recueils des actes administratifs"
    content = message.get_content()
    for hit_id in ids:
        assert hit_json(database, hit_id)["link"] in content


# --- Webhook and email specifics ------------------------------------------------------------------


def test_webhook_body_is_the_hit_signed_with_hmac_sha256(
    database: Database, tmp_path: Path, webhook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t")
    settings = settings_for(
        database, tmp_path, webhook={"url": webhook.url + "/hook", "secret_env": "HOOK_SECRET"}
    )
    [hit_id] = add_hits(database, [("13", "drone")])
    queue(database, settings, [hit_id])
    dispatch(database, settings)

    [post] = webhook.posts()
    assert post.path == "/hook"
    assert post.headers["content-type"].startswith("application/json")
    assert post.headers["x-attrap-event"] == "hit"
    assert post.json() == hit_json(database, hit_id)
    # What a receiver does: recompute the HMAC over the raw body with the shared secret.
    expected = "sha256=" + hmac.new(b"s3cr3t", post.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(post.headers["x-attrap-signature"], expected)
    [row] = rows(database)
    assert row.remote_id == post.headers["x-attrap-delivery"]


def test_webhook_without_its_secret_is_a_configuration_error_and_waits(
    database: Database, tmp_path: Path, webhook: WebhookReceiver
):
    settings = settings_for(
        database, tmp_path, webhook={"url": webhook.url, "secret_env": "UNSET_HOOK_SECRET"}
    )
    queue(database, settings, add_hits(database, [("13", "drone")]))
    report = dispatch(database, settings).channels["webhook"]
    assert "UNSET_HOOK_SECRET" in report.errors[0]
    assert webhook.posts() == []
    assert [(n.status, n.attempts) for n in rows(database)] == [("pending", 0)]


def test_email_headers_and_french_body(database: Database, tmp_path: Path, smtp: SmtpServer):
    settings = settings_for(
        database,
        tmp_path,
        email={
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "sender": "Veille attrap <veille@example.org>",
            "to": ["alertes@example.org", "autre@example.org"],
        },
    )
    [hit_id] = add_hits(database, [("PP", "vsa")])
    queue(database, settings, [hit_id])
    dispatch(database, settings)

    [(envelope, message)] = smtp.mailbox.messages
    assert envelope.mail_from == "veille@example.org"
    assert envelope.rcpt_tos == ["alertes@example.org", "autre@example.org"]
    raw = (envelope.original_content or b"").decode("ascii")  # 7-bit clean on the wire
    assert "Subject: =?utf-8?" in raw
    assert message["Subject"] == (
        "Vidéosurveillance algorithmique — Préfecture de police : "
        "Arrêté autorisant la captation d'images au moyen de caméras aéroportées"
    )
    key = hit_key("email", hit_json(database, hit_id))
    assert message["Message-ID"] == f"<{key}@example.org>"
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert abs(sent_at - utcnow()) < dt.timedelta(minutes=1)
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Administration : Préfecture de police (département 75)" in body
    assert "Signé le : 10 juillet 2024" in body
    assert f"Lien : {hit_json(database, hit_id)['link']}" in body
    [row] = rows(database)
    assert (row.status, row.remote_id) == ("sent", message["Message-ID"])


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_email_over_tls_with_login(
    mode: str, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client verifies against our CA
    monkeypatch.setenv("SMTP_PASSWORD", "mot-de-passe")
    server = SmtpServer(
        tls_context=server_context,
        implicit_tls=mode == "ssl",
        credentials=("veille@example.org", "mot-de-passe"),
    )
    try:
        settings = settings_for(
            database,
            tmp_path,
            email={
                "host": "127.0.0.1",
                "port": server.port,
                "starttls": mode == "starttls",
                "ssl": mode == "ssl",
                "user": "veille@example.org",
                "password_env": "SMTP_PASSWORD",
                "sender": "veille@example.org",
                "to": ["alertes@example.org"],
            },
        )
        queue(database, settings, add_hits(database, [("13", "drone")]))
        assert dispatch(database, settings).channels["email"].sent == 1
        assert server.mailbox.logins == ["veille@example.org"]
        assert len(server.mailbox.messages) == 1
    finally:
        server.close()


# --- Command line ---------------------------------------------------------------------------------


def test_notify_test_sends_a_sample_without_storing_anything(
    config_file: Path, webhook: WebhookReceiver, mastodon: FakeMastodon
):
    with config_file.open("a", encoding="utf-8") as config:
        config.write(f'[notify.webhook]\nurl = "{webhook.url}"\n')
        config.write(f'[notify.mastodon]\ninstance = "{mastodon.url}"\n')
    runner = CliRunner()
    for channel in ["webhook", "mastodon"]:
        result = runner.invoke(app, ["notify", "test", channel, "-c", str(config_file)])
        assert result.exit_code == 0, result.output
        assert "Message de test envoyé" in result.output
    assert webhook.posts()[0].json()["act"]["title"].startswith("Message de test d'attrap")
    assert "Message de test d'attrap" in mastodon.posts()[0].json()["status"]
    result = runner.invoke(app, ["notify", "test", "email", "-c", str(config_file)])
    assert result.exit_code == 2
    assert "[notify.email]" in result.output

    database = open_database(f"sqlite:///{config_file.parent / 'attrap.db'}")
    assert rows(database) == []
    database.engine.dispose()


def test_notify_dispatch_command(config_file: Path, webhook: WebhookReceiver):
    with config_file.open("a", encoding="utf-8") as config:
        config.write(f'[notify.webhook]\nurl = "{webhook.url}"\n')
    database = open_database(f"sqlite:///{config_file.parent / 'attrap.db'}")
    settings = settings_for(database, config_file.parent, webhook={"url": webhook.url})
    queue(database, settings, add_hits(database, [("13", "drone"), ("13", "vsa")]))

    result = CliRunner().invoke(app, ["notify", "dispatch", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "webhook" in result.output
    assert len(webhook.posts()) == 2
    assert {n.status for n in rows(database)} == {"sent"}
    database.engine.dispose()


def test_titles_with_line_breaks_make_one_line_subjects_and_status_lines(
    database: Database, tmp_path: Path, smtp: SmtpServer, mastodon: FakeMastodon
):
    settings = settings_for(
        database,
        tmp_path,
        mastodon={"instance": mastodon.url},
        email={
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "sender": "veille@example.org",
            "to": ["alertes@example.org"],
        },
    )
    title = "Arrêté portant autorisation\r\nde captation d'images\n  par drone"
    queue(database, settings, add_hits(database, [("13", "drone")], title=title))
    report = dispatch(database, settings)
    assert report.channels["email"].sent == 1 and report.channels["mastodon"].sent == 1
    [(_, message)] = smtp.mailbox.messages
    expected = "Arrêté portant autorisation de captation d'images par drone"
    assert message["Subject"].endswith(expected)
    assert f"« {expected} »" in mastodon.posts()[0].json()["status"].splitlines()[1]


def test_an_unexpected_error_in_one_channel_is_recorded_and_the_run_goes_on(
    database: Database, tmp_path: Path, smtp: SmtpServer, webhook: WebhookReceiver
):
    settings = settings_for(
        database,
        tmp_path,
        webhook={"url": webhook.url},
        email={
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": False,
            "sender": "Veille\nattrap <veille@example.org>",  # no header may hold a line break
            "to": ["alertes@example.org"],
        },
    )
    queue(database, settings, add_hits(database, [("13", "drone"), ("13", "vsa")]))
    report = dispatch(database, settings)
    assert report.channels["webhook"].sent == 2
    assert report.channels["email"].retrying == 2  # both tried: not a remote outage
    errors = {n.last_error for n in rows(database, "email")}
    assert len(errors) == 1 and next(iter(errors), "").startswith("ValueError")
    assert {(n.status, n.attempts) for n in rows(database, "email")} == {("pending", 1)}
    assert smtp.mailbox.messages == []
