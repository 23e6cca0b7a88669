"""Support for the crawl tests: a real HTTP server on 127.0.0.1 whose routes answer scripted
replies, logging every request (arrival time, headers) and measuring concurrency; real PDFs; a
virtual clock and a fake resolver; and a minimal engine reading one listing page."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from attrap.adapters.base import CrawlContext, DocumentRef, Engine, EngineSettings
from attrap.adapters.fixtures import load_manifest
from attrap.adapters.registry import AdapterSpec
from attrap.config import Settings


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    host: str
    arrived: float  # time.monotonic() on arrival


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Announce more bytes than sent, then close: a truncated download.
    content_length: int | None = None
    # Send the body chunked, without Content-Length (size unknown until the end).
    chunked: bool = False
    delay_s: float = 0.0
    # A trickling server: chunks of this size (chunked body), each after a pause.
    chunk_bytes: int = 4096
    chunk_pause_s: float = 0.0


Handler = Callable[[Request], Reply]


def make_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def html(body: str) -> Reply:
    return Reply(body=body.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


def pdf(content: bytes) -> Reply:
    return Reply(body=content, headers={"Content-Type": "application/pdf"})


def revalidated_page(body: str, etag: str, last_modified: str) -> Handler:
    """A listing page with validators that answers 304 to a matching conditional request."""

    def handle(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        reply = html(body)
        return Reply(
            body=reply.body,
            headers={**reply.headers, "ETag": etag, "Last-Modified": last_modified},
        )

    return handle


class QuietHTTPServer(ThreadingHTTPServer):
    """A test server that does not print a traceback when a client hangs up (a timeout test, a
    crawl that stopped): those lines would land in the stderr a CLI test reads."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalServer:
    def __init__(self, address: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        self.log: list[Request] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._server = QuietHTTPServer((address, 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base = f"http://{address}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host}:{self.port}{path}" if host else f"{self.base}{path}"

    def route(self, path: str, reply: Reply | Handler) -> None:
        self.routes[path] = reply if callable(reply) else (lambda _request: reply)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.log if r.path == path]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request log above is what tests read

            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
            host=handler.headers.get("Host", ""),
            arrived=time.monotonic(),
        )
        with self._lock:
            self.log.append(request)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            route = self.routes.get(request.path.split("?")[0])
            reply = route(request) if route else Reply(status=404, body=b"not found")
            if reply.delay_s:
                time.sleep(reply.delay_s)
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if reply.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
                handler.end_headers()
                for start in range(0, len(reply.body), reply.chunk_bytes):
                    piece = reply.body[start : start + reply.chunk_bytes]
                    time.sleep(reply.chunk_pause_s)
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    handler.wfile.flush()
                handler.wfile.write(b"0\r\n\r\n")
                return
            declared = reply.content_length if reply.content_length is not None else len(reply.body)
            handler.send_header("Content-Length", str(declared))
            if declared != len(reply.body):
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            if reply.status != 304:
                handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (timeout test)
        finally:
            with self._lock:
                self.in_flight -= 1

    @contextmanager
    def running(self) -> Iterator[LocalServer]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()


class VirtualClock:
    """Politeness and backoff run for real against it, but sleeping only advances its time."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)


class FakeResolver:
    """Host names resolved from a table, never by DNS (``HttpClient(resolver=...)``): an IP
    address stands for itself, ``localhost`` is 127.0.0.1, and any other name is unknown, as a
    resolver without network says (the client then keys the name's budget on the name itself).
    ``asked`` records every lookup."""

    def __init__(self, addresses: dict[str, str] | None = None) -> None:
        self.addresses = {"localhost": "127.0.0.1", **(addresses or {})}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> str:
        self.asked.append(host)
        if host in self.addresses:
            return self.addresses[host]
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None


def crawl_settings(data_dir: Path, **crawl: Any) -> Settings:
    """Settings for a test crawl: data under ``data_dir``, no delay unless asked, quick timeouts."""
    defaults: dict[str, Any] = {"min_delay_s": 0.0, "timeout_s": 5.0, "max_attempts": 3}
    return Settings.model_validate(
        {"storage": {"data_dir": str(data_dir)}, "crawl": {**defaults, **crawl}}
    )


def write_run_config(tmp_path: Path, database_url: str, more: str) -> Path:
    """``attrap.toml`` for a real command run: data and database of the test, no crawl delay,
    one attempt per request, then ``more`` (the test's own sections)."""
    config = tmp_path / "attrap.toml"
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
        f"[crawl]\nmin_delay_s = 0\nmax_attempts = 1\n{more}",
        encoding="utf-8",
    )
    return config


DOWNLOAD_LINK = re.compile(r'href="(/contenu/telechargement/[^"]+)"')


def serve_site(server: LocalServer, folder: Path) -> None:
    """A saved DSFR site (``fixtures/sites/<family>``) on ``server``: each page under its path,
    a real PDF behind every download link."""
    for page in load_manifest(folder):
        body = (folder / page.file).read_text(encoding="utf-8")
        server.route(urlsplit(page.url).path, html(body))
        for href in DOWNLOAD_LINK.findall(body):
            server.route(href, pdf(make_pdf(href)))


LINK = re.compile(r'<a href="([^"]+)"(?: data-date="([\d-]+)")?>([^<]*)</a>')


class ListingEngine(Engine[EngineSettings]):
    """A minimal site family for these tests: one listing page of dated PDF links."""

    name = "listing"

    def __init__(self) -> None:
        self.not_before_seen: list[dt.date] = []

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        self.not_before_seen.append(context.not_before)
        for start in context.spec.start_urls:
            page = await context.fetcher.fetch_html(start)
            for href, date, title in LINK.findall(page.text):
                published = dt.date.fromisoformat(date) if date else None
                yield DocumentRef(urljoin(page.url, href), title, published)


class LayoutChangedEngine(Engine[EngineSettings]):
    name = "changed"

    async def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]:
        await context.fetcher.fetch_html(context.spec.start_urls[0])
        raise ValueError("no RAA section found on the start page")
        yield  # an async generator, like every engine


def listing(*links: tuple[str, str, str | None]) -> str:
    """A listing page for ``ListingEngine``: (href, title, ISO date or None) per bulletin."""

    def anchor(href: str, title: str, date: str | None) -> str:
        dated = f' data-date="{date}"' if date else ""
        return f'<a href="{href}"{dated}>{title}</a>'

    return f"<html><body>{''.join(anchor(*link) for link in links)}</body></html>"


def lookup(listing_engine: ListingEngine) -> Callable[[str], Engine[EngineSettings]]:
    """The engine registry of these tests."""
    engines: dict[str, Engine[EngineSettings]] = {
        "listing": listing_engine,
        "changed": LayoutChangedEngine(),
    }
    return engines.__getitem__


def spec(code: str, start_url: str, engine: str = "listing") -> AdapterSpec:
    return AdapterSpec(
        code=code,
        name=f"Préfecture de test {code}",
        kind="departement",
        engine=engine,
        start_urls=[start_url],
    )
