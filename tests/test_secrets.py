"""Secrets (Mastodon token, SMTP password, webhook secret) never reach the screen, the log, the
database's error texts, ``attrap status`` or the web page — even when a peer echoes them back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from attrap.cli import app
from attrap.store.db import open_database
from attrap.web.app import create_app
from local_server import LocalServer, html, pdf, write_run_config
from notify_peers import HttpPeer, Reply, Request, SmtpServer
from test_end_to_end import BULLETIN, LISTING

SECRETS = {
    "ATTRAP_MASTODON_TOKEN": "mastodon-Zq8-SECRET-4471",
    "ATTRAP_SMTP_PASSWORD": "smtp-Kp2-SECRET-9035",
    "ATTRAP_WEBHOOK_SECRET": "hook-Vx5-SECRET-6618",
}
runner = CliRunner()


class Echo(HttpPeer):
    """A broken peer (or proxy) that refuses every request and echoes its headers back."""

    def respond(self, request: Request) -> Reply:
        if request.method == "GET":  # Mastodon's /api/v1/instance
            return Reply(200, body={"uri": "mastodon.test"})
        return Reply(401, body={"error": f"refused: {json.dumps(request.headers)}"})


@pytest.fixture
def site(bulletin: bytes) -> Iterator[LocalServer]:
    with LocalServer().running() as server:
        server.route("/Publications/RAA-et-Archives", html(LISTING))
        server.route(BULLETIN, pdf(bulletin))
        yield server


def test_secrets_appear_nowhere(
    site: LocalServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    mastodon, hook, smtp = Echo(), Echo(), SmtpServer()
    config = write_run_config(
        tmp_path,
        database_url,
        f"""[ocr]
enabled = false
[adapters.overrides."13"]
start_urls = ["{site.url("/Publications/RAA-et-Archives")}"]
[notify.mastodon]
instance = "{mastodon.url}"
categories = ["drone"]
max_attempts = 1
[notify.email]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
user = "attrap"
password_env = "ATTRAP_SMTP_PASSWORD"
sender = "attrap@example.org"
to = ["veille@example.org"]
categories = ["drone"]
max_attempts = 1
[notify.webhook]
url = "{hook.url}"
secret_env = "ATTRAP_WEBHOOK_SECRET"
categories = ["drone"]
max_attempts = 1
""",
    )
    outputs = []
    try:
        for command in (
            ["run", "13", "-c", str(config)],
            ["run", "13", "--verbose", "-c", str(config)],
            ["notify", "dispatch", "-c", str(config)],
            ["notify", "test", "-c", str(config)],
            ["status", "-c", str(config)],
        ):
            result = runner.invoke(app, command)
            outputs.append(result.output + (repr(result.exception) if result.exception else ""))
    finally:
        mastodon.close()
        hook.close()
        smtp.close()
    # The peers were reached with the secrets (so the test can fail) and refused them.
    assert any(
        r.headers.get("authorization") == f"Bearer {SECRETS['ATTRAP_MASTODON_TOKEN']}"
        for r in mastodon.requests
    )
    assert hook.posts() and "Dernière erreur" in outputs[-1]

    database = open_database(database_url)
    with TestClient(create_app(database)) as client:
        for path in ("/", "/sante", "/recherche", "/api/hits", "/feeds/hits.atom", "/healthz"):
            outputs.append(client.get(path).text)
    with database.engine.connect() as connection:
        tables = ("documents", "crawl_runs", "notifications", "health_incidents", "health_alerts")
        for table in tables:
            rows = connection.exec_driver_sql(f"SELECT * FROM {table}").fetchall()
            outputs.append(repr(rows))
    database.engine.dispose()
    outputs += [p.read_text(errors="replace") for p in (tmp_path / "data").rglob("*.log")]
    assert len(outputs) > 10
    everything = "\n".join(outputs)
    for name, value in SECRETS.items():
        assert value not in everything, name
        assert value[-9:] not in everything, name  # not even in part
