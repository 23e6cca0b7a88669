"""What every answer of ``attrap serve`` carries: security headers, and ETag/Cache-Control on
pages, lists and feeds so that readers polling a feed get ``304 Not Modified``.

A pure ASGI middleware: it costs one hash of the body, no extra task per request.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: the pages load only their own stylesheet and icon. The
# map's colours are SVG presentation attributes, which a CSP does not govern.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Hits change only when a crawl stores some: feeds and lists may be kept a minute by readers and
# proxies; pages are revalidated each time (cheap with the ETag).
LIST_CACHE = b"public, max-age=60"
PAGE_CACHE = b"no-cache"
LIST_PREFIXES = ("/api/", "/feeds/")
UNCACHED = ("/healthz", "/static/")


def _cache_control(path: str) -> bytes | None:
    if path.startswith(UNCACHED):
        return None
    return LIST_CACHE if path.startswith(LIST_PREFIXES) else PAGE_CACHE


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    candidates = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
    return b"*" in candidates or etag in candidates


def _has_nul(scope: Scope) -> bool:
    # A NUL byte can reach no stored value and PostgreSQL refuses it in any string: the request is
    # refused before it reaches a query.
    raw_path = scope.get("raw_path") or scope["path"].encode()
    return b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(
        scope.get("query_string", b"")
    )


class HardenedResponses:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await self._refuse(send)
            return
        path: str = scope["path"]
        cache_control = _cache_control(path) if scope["method"] == "GET" else None
        if cache_control is None:
            await self.app(scope, receive, self._with_headers(send))
            return
        await self._cached(scope, receive, send, cache_control)

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        return sending

    async def _cached(self, scope: Scope, receive: Receive, send: Send, cache: bytes) -> None:
        start: Message | None = None
        body: list[bytes] = []

        async def buffering(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, receive, buffering)
        assert start is not None
        content = b"".join(body)
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        status: int = start["status"]
        if status != 200:
            headers.append((b"cache-control", b"no-store"))
            await self._send(send, status, headers, content)
            return
        etag = b'"' + hashlib.blake2b(content, digest_size=16).hexdigest().encode() + b'"'
        headers += [(b"etag", etag), (b"cache-control", cache)]
        request_headers: dict[bytes, bytes] = dict(scope["headers"])
        if _matches(request_headers.get(b"if-none-match", b""), etag):
            kept = [(k, v) for k, v in headers if k not in (b"content-length", b"content-type")]
            await self._send(send, 304, kept, b"")
            return
        await self._send(send, status, headers, content)

    async def _send(
        self, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        message: dict[str, Any] = {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *SECURITY_HEADERS],
        }
        await send(message)
        await send({"type": "http.response.body", "body": body})

    async def _refuse(self, send: Send) -> None:
        # The shape of FastAPI's own 422, as the OpenAPI schema documents it.
        problem = {"loc": ["request"], "msg": "Caractère nul refusé", "type": "value_error"}
        body = json.dumps({"detail": [problem]}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await self._send(send, 422, headers, body)
