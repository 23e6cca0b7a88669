"""Real protocol peers for the notification tests, on 127.0.0.1 sockets: a Mastodon instance that
honours ``Idempotency-Key`` like Mastodon does, a webhook receiver, and an SMTP server (aiosmtpd).
Each records what it received."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class HttpPeer:
    """A threaded HTTP server; subclasses answer in ``respond``.

    ``script`` holds replies returned, in order, to the next POSTs instead of ``respond``;
    ``delay_s`` slows every POST down; with ``hold`` set, the first accepted POST signals
    ``accepted`` and waits for ``release`` before answering (to kill the client meanwhile).
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.delay_s = 0.0
        self.hold = False
        self.accepted = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                    time.monotonic(),
                )
                reply = peer.handle(request)
                body = b"" if reply.body is None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client is gone (killed on purpose)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def posts(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            scripted = self.script.pop(0) if request.method == "POST" and self.script else None
        if request.method == "POST" and self.delay_s:
            time.sleep(self.delay_s)
        if scripted is not None:
            return scripted
        reply = self.respond(request)
        if request.method == "POST" and self.hold and reply.status < 300:
            self.hold = False
            self.accepted.set()
            self.release.wait(60)
        return reply

    def respond(self, request: Request) -> Reply:
        raise NotImplementedError

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeMastodon(HttpPeer):
    """``/api/v1/instance`` and ``POST /api/v1/statuses`` with Mastodon's idempotency: a repeated
    ``Idempotency-Key`` returns the status created the first time instead of a new one."""

    def __init__(self, token: str, max_characters: int | None = 500) -> None:
        super().__init__()
        self.token = token
        self.max_characters = max_characters
        self.statuses: dict[str, dict[str, Any]] = {}  # by idempotency key
        self.rate_limit: tuple[int, dt.datetime] | None = None  # remaining, reset
        self._ids = itertools.count(110_000_000_000_000_001)

    def respond(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/api/v1/instance":
            body: dict[str, Any] = {"uri": "mastodon.test", "title": "Test"}
            if self.max_characters is not None:
                body["configuration"] = {"statuses": {"max_characters": self.max_characters}}
            return Reply(200, body=body)
        if request.method != "POST" or request.path != "/api/v1/statuses":
            return Reply(404, body={"error": "Record not found"})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, body={"error": "The access token is invalid"})
        fields = request.json()
        key = request.headers.get("idempotency-key")
        with self.lock:
            status = self.statuses.get(key) if key else None
            if status is None:
                status_id = str(next(self._ids))
                status = {
                    "id": status_id,
                    "url": f"{self.url}/@attrap/{status_id}",
                    "content": fields["status"],
                    "visibility": fields.get("visibility"),
                    "language": fields.get("language"),
                }
                self.statuses[key or status_id] = status
        headers = {}
        if self.rate_limit is not None:
            remaining, reset = self.rate_limit
            headers = {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
            }
        return Reply(200, headers, status)


class WebhookReceiver(HttpPeer):
    """Accepts JSON POSTs; a receiver that dedupes on ``X-Attrap-Delivery`` as documented."""

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: dict[str, Request] = {}

    def respond(self, request: Request) -> Reply:
        with self.lock:
            self.deliveries.setdefault(request.headers["x-attrap-delivery"], request)
        return Reply(204)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1: plain, STARTTLS-required or implicit TLS, optionally with AUTH."""

    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if credentials is not None:
            kwargs["authenticator"] = self._authenticator(credentials)
            # aiosmtpd only knows about STARTTLS; with implicit TLS the whole session is encrypted.
            kwargs["auth_require_tls"] = not implicit_tls
        if tls_context is not None and implicit_tls:
            kwargs["ssl_context"] = tls_context
        elif tls_context is not None:
            kwargs["tls_context"] = tls_context
            kwargs["require_starttls"] = True
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="127.0.0.1",
            **kwargs,
        )
        self.controller.start()

    def _authenticator(self, credentials: tuple[str, str]) -> Any:
        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == credentials
            )
            if ok:
                self.mailbox.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)

        return authenticate

    def close(self) -> None:
        self.controller.stop()
