"""A saved site (``fixtures/sites/<family>/manifest.toml``) served over real HTTP on 127.0.0.1,
answering as the site at ``origin`` would: a request's path and query (and its POST form and
cookies) are looked up in the manifest under ``origin``; a page with a ``final_url`` answers 302
to that page on this server; a ``set_cookie`` page sets its cookie, a ``requires_cookie`` page
answers ``without_cookie`` to a request without it. Links in the saved pages are relative, so a
crawl started on this server stays on it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from attrap.adapters.fixtures import FixturePage, load_manifest, request_key
from local_server import QuietHTTPServer


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class FixtureSite:
    """``with FixtureSite(folder, origin) as site:`` serves ``folder`` at ``site.base``."""

    def __init__(self, folder: Path, origin: str, port: int = 0) -> None:
        self.folder = folder
        self.origin = origin.rstrip("/")
        self.pages = {page.key(): page for page in load_manifest(folder)}
        self.redirected = {
            request_key("GET", page.final_url, None): page
            for page in self.pages.values()
            if page.final_url and request_key("GET", page.final_url, None) not in self.pages
        }
        self.requests: list[tuple[str, str]] = []
        self._server = QuietHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def local(self, url: str) -> str:
        """``url`` of the saved site, on this server."""
        if not url.startswith(self.origin):
            raise ValueError(f"{url} is not under {self.origin}")
        return self.base + url[len(self.origin) :]

    def __enter__(self) -> FixtureSite:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def answer(
        self, method: str, target: str, form: dict[str, str] | None, cookies: set[str]
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((method, target))
        key = request_key(method, self.origin + target, form)
        page: FixturePage | None = self.pages.get(key)
        if page is not None and page.final_url and page.final_url != page.url:
            return 302, {"Location": self.local(page.final_url)}, b""
        page = page or self.redirected.get(key)
        if page is None:
            return 404, {"Content-Type": "text/plain"}, f"no fixture for {method} {target}".encode()
        file = page.file
        if page.requires_cookie and page.requires_cookie not in cookies:
            file = page.without_cookie or file
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if page.set_cookie:
            headers["Set-Cookie"] = f"{page.set_cookie}; Path=/; HttpOnly"
        return 200, headers, (self.folder / file).read_bytes()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                form = dict(parse_qsl(body.decode())) if self.command == "POST" else None
                sent = {
                    c.split("=", 1)[0].strip()
                    for c in self.headers.get("Cookie", "").split(";")
                    if c.strip()
                }
                status, headers, content = site.answer(self.command, self.path, form, sent)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler
