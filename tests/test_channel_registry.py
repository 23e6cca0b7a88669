"""A channel kind registered in ``attrap.notify.registry``, and nowhere else, is read from its
``[notify.<name>]`` table and delivers hits, digests, samples and maintainer alerts: here
``ring``, a test-only channel POSTing plain text (ntfy-like) to a real HTTP server on
127.0.0.1."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from attrap.cli import app
from attrap.config import ChannelSettings, ConfigError, Settings, load_settings
from attrap.notify import messages, registry
from attrap.notify.alerts import dispatch_alerts, queue_alerts
from attrap.notify.channel import (
    ChannelConfigError,
    Delivery,
    DeliveryError,
    Receipt,
    http_error,
)
from attrap.notify.outbox import dispatch, enqueue
from attrap.store.db import Database
from attrap.store.models import HealthAlert, HealthIncident
from local_server import write_run_config
from notify_peers import HttpPeer, Reply, Request
from test_notify import add_hits, rows, settings_for

TOKEN = "ring-Hq3-SECRET-5120"
runner = CliRunner()


class RingSettings(ChannelSettings):
    url: str = ""
    token_env: str = "RING_TOKEN"
    priority: int = 3


class RingChannel:
    """POSTs a title line and a text; the server answers the message's id."""

    name = "ring"

    def __init__(self, settings: RingSettings, token: str | None) -> None:
        if not settings.url:
            raise ChannelConfigError("notify.ring.url is empty")
        if not token:
            raise ChannelConfigError(f"the ring token is missing: set {settings.token_env}")
        self.settings = settings
        self._client = httpx.Client(
            timeout=settings.timeout_s, headers={"Authorization": f"Bearer {token}"}
        )

    def send(self, delivery: Delivery) -> Receipt:
        if delivery.alert is not None:
            title, text = delivery.alert.subject, delivery.alert.text
        elif delivery.digest:
            title = messages.digest_email_subject(delivery.hits)
            text = messages.digest_email_body(delivery.hits)
        else:
            title = messages.email_subject(delivery.hits[0])
            text = messages.email_body(delivery.hits[0])
        headers = {"X-Key": delivery.key, "Priority": str(self.settings.priority)}
        body = f"{title}\n\n{text}".encode()
        try:
            response = self._client.post(self.settings.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise http_error(response, dt.datetime.now(dt.UTC))
        return Receipt(response.json()["id"])

    def close(self) -> None:
        self._client.close()


def open_ring(cfg: RingSettings, settings: Settings) -> RingChannel:
    return RingChannel(cfg, settings.secret(cfg.token_env))


class RingServer(HttpPeer):
    """Accepts messages with the right token (and answers their id); echoes a wrong one back."""

    def respond(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, body={"error": f"refused: {request.headers.get('authorization')}"})
        return Reply(200, body={"id": f"ring-{len(self.posts())}"})


RING = registry.ChannelKind("ring", RingSettings, f"{__name__}:open_ring")


@pytest.fixture
def ring_kind() -> Iterator[registry.ChannelKind]:
    registry.register(RING)
    yield RING
    registry.unregister(RING.name)


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[RingServer]:
    monkeypatch.setenv("RING_TOKEN", TOKEN)
    server = RingServer()
    yield server
    server.close()


def test_a_registered_kind_reads_its_table_and_names_bad_keys(
    ring_kind: registry.ChannelKind, tmp_path: Path
):
    config = tmp_path / "attrap.toml"
    config.write_text('[notify.ring]\nurl = "http://127.0.0.1:9/"\npriority = 5\n')
    cfg = load_settings(config).notify.channels["ring"]
    assert isinstance(cfg, RingSettings)
    assert (cfg.url, cfg.priority, cfg.max_attempts, cfg.departments) == (
        "http://127.0.0.1:9/",
        5,
        8,
        ["*"],
    )
    for body, expected in [
        ("[notify.ring]\nurll = 'x'\n", "clé inconnue 'notify.ring.urll'"),
        ("[notify.ring]\npriority = 'high'\n", "clé 'notify.ring.priority'"),
        ("[notify.ring]\nmax_attempts = 0\n", "clé 'notify.ring.max_attempts' : au moins 1"),
    ]:
        config.write_text(body)
        with pytest.raises(ConfigError, match=expected):
            load_settings(config)
        result = runner.invoke(app, ["hits", "--config", str(config)])
        assert result.exit_code == 2
        assert expected in result.stderr and str(config) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    # Once the kind is gone, its table is an unknown key like any other.
    registry.unregister("ring")
    config.write_text('[notify.ring]\nurl = "x"\n')
    with pytest.raises(ConfigError, match=r"clé inconnue 'notify\.ring'"):
        load_settings(config)
    registry.register(RING)


def test_a_registered_kind_cannot_take_a_notify_key_or_a_known_name():
    with pytest.raises(ValueError, match="key of \\[notify\\]"):
        registry.register(registry.ChannelKind("since", RingSettings, f"{__name__}:open_ring"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.ChannelKind("email", RingSettings, f"{__name__}:open_ring"))


def test_a_registered_kind_delivers_hits_digests_and_alerts(
    ring_kind: registry.ChannelKind, ring: RingServer, database: Database, tmp_path: Path
):
    settings = settings_for(
        database,
        tmp_path,
        ring={"url": ring.url + "/attrap", "digest_threshold": 2, "maintainers": True},
    )
    [one] = add_hits(database, [("13", "drone")])
    assert enqueue_now(database, settings, [one]) == 1
    report = dispatch(database, settings)
    assert report.channels["ring"].sent == 1
    [post] = ring.posts()
    assert post.path == "/attrap"
    assert post.headers["priority"] == "3"
    assert "Bouches-du-Rhône" in post.body.decode()
    [row] = rows(database, "ring")
    assert (row.status, row.remote_id, row.attempts) == ("sent", "ring-1", 1)

    # A burst over the channel's digest_threshold goes out as one digest.
    burst = add_hits(database, [("13", "drone"), ("2A", "vsa"), ("PP", "drone")])
    assert enqueue_now(database, settings, burst) == 3
    report = dispatch(database, settings)
    assert (report.channels["ring"].sent, report.channels["ring"].messages) == (3, 1)
    assert ring.posts()[-1].headers["x-key"].startswith("attrap-ring-digest-")

    # Maintainer alerts go through the alerts' outbox to the same kind.
    with database.session() as session:
        incident = HealthIncident(administration_code="13", kind="silent", detail="plus rien")
        session.add(incident)
        assert queue_alerts(session, settings, incident, "opened") == 1
    assert dispatch_alerts(database, settings) == 1
    assert ring.posts()[-1].headers["x-key"].startswith("attrap-ring-alert-")
    with database.session() as session:
        [alert] = session.scalars(select(HealthAlert))
        assert (alert.channel, alert.status) == ("ring", "sent")


def test_a_registered_kind_fails_is_requeued_and_keeps_its_secret(
    ring_kind: registry.ChannelKind,
    ring: RingServer,
    database: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    config = write_run_config(
        tmp_path, database_url, f'[notify.ring]\nurl = "{ring.url}"\nmax_attempts = 1\n'
    )
    settings = load_settings(config)
    monkeypatch.setenv("RING_TOKEN", TOKEN + "-wrong")
    ids = add_hits(database, [("13", "drone")])
    enqueue_now(database, settings, ids)
    assert dispatch(database, settings).channels["ring"].failed == 1
    [row] = rows(database, "ring")
    # The server echoed the token it was sent: the stored error masks it (a *_env key).
    assert row.status == "failed" and row.last_error is not None
    assert "401" in row.last_error and "***" in row.last_error
    assert TOKEN not in row.last_error
    shown = runner.invoke(app, ["status", "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "Notifications en échec" in shown.output and "ring" in shown.output
    assert TOKEN not in shown.output

    monkeypatch.setenv("RING_TOKEN", TOKEN)
    retried = runner.invoke(app, ["notify", "retry", "ring", "-c", str(config)])
    assert retried.exit_code == 0, retried.output
    assert "1 notification(s) remise(s) en file" in retried.output
    assert runner.invoke(app, ["notify", "dispatch", "-c", str(config)]).exit_code == 0
    [row] = rows(database, "ring")
    assert (row.status, row.remote_id, row.attempts) == ("sent", "ring-2", 1)


def test_notify_test_on_a_registered_kind(
    ring_kind: registry.ChannelKind, ring: RingServer, tmp_path: Path
):
    config = tmp_path / "attrap.toml"
    config.write_text(f'[notify.ring]\nurl = "{ring.url}"\n')
    result = runner.invoke(app, ["notify", "test", "ring", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "Message de test envoyé (ring) : ring-1" in result.output
    assert ring.posts()[0].headers["x-key"].startswith("attrap-test-")
    result = runner.invoke(app, ["notify", "test", "pager", "-c", str(config)])
    assert result.exit_code == 2
    assert "choisissez parmi mastodon, email, webhook, ring" in result.stderr


def enqueue_now(database: Database, settings: Settings, ids: list[int]) -> int:
    with database.session() as session:
        return enqueue(session, settings, ids)


# Reading settings with every channel configured, or printing the help, imports no channel
# implementation (httpx, smtplib): they are imported when a channel is opened.
IMPORTED = """
import sys
from pathlib import Path
if sys.argv[1] == "--help":
    from attrap.cli import app
    try:
        app(["--help"])
    except SystemExit:
        pass
else:
    from attrap.config import load_settings
    assert len(load_settings(Path(sys.argv[1])).notify.channels) == 3
print("modules:", " ".join(sorted(sys.modules)))
"""


IMPLEMENTATIONS = {
    "httpx",
    "smtplib",
    "attrap.notify.channel",
    "attrap.notify.mastodon",
    "attrap.notify.email",
    "attrap.notify.webhook",
    "attrap.notify.outbox",
}


@pytest.mark.parametrize("args", ["--help", "settings"])
def test_channel_implementations_are_imported_when_used(tmp_path: Path, args: str):
    config = tmp_path / "attrap.toml"
    config.write_text(
        '[notify.mastodon]\ninstance = "https://m.example"\n'
        '[notify.email]\nhost = "smtp.example"\nsender = "a@b.fr"\nto = ["c@d.fr"]\n'
        '[notify.webhook]\nurl = "https://example.org/hook"\n'
    )
    argv = ["--help"] if args == "--help" else [str(config)]
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED, *argv], capture_output=True, text=True, check=True
    )
    [line] = [line for line in result.stdout.splitlines() if line.startswith("modules: ")]
    modules = set(line.split()[1:])
    assert "attrap.config" in modules or args == "--help"
    assert sorted(modules & IMPLEMENTATIONS) == []
