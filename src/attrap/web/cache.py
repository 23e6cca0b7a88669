"""Whole answers of the public pages, lists and feeds, kept a few seconds (web.cache_seconds).

Hits change only when a crawl stores some, while readers ask for the same few pages and feeds
again and again: with a million hits, 50 readers (a request a second each) kept one server
process busy rendering the same answers. An answer is kept per path and query string, for GET
requests answered 200 in one body; concurrent requests for an answer being computed wait for it
instead of computing it again. A pure ASGI middleware: a kept answer costs no database session
and no template.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cachetools import TTLCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything a reader polls; not the health pages, the OpenAPI schema or static files.
CACHED_PATHS = ("/departements/", "/categories/", "/api/hits", "/feeds/")
CACHED_PAGES = {"/", "/recherche", "/en-ce-moment", "/delais", "/delais.csv"}
MAX_ANSWERS = 1024


@dataclass(frozen=True)
class _Answer:
    start: Message
    body: bytes


def cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    return path in CACHED_PAGES or path.startswith(CACHED_PATHS)


class ResponseCache:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.answers: TTLCache[tuple[str, bytes], _Answer] = TTLCache(MAX_ANSWERS, seconds)
        self.pending: dict[tuple[str, bytes], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope.get("query_string", b""))
        while (answer := self.answers.get(key)) is None and key in self.pending:
            await self.pending[key].wait()
        if answer is not None:
            await send(answer.start)
            await send({"type": "http.response.body", "body": answer.body})
            return
        done = self.pending[key] = asyncio.Event()
        try:
            await self._compute(key, scope, receive, send)
        finally:
            del self.pending[key]
            done.set()

    async def _compute(
        self, key: tuple[str, bytes], scope: Scope, receive: Receive, send: Send
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def sending(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    keep = False  # a streamed answer is passed on, not kept
            await send(message)

        await self.app(scope, receive, sending)
        if keep and start is not None:
            self.answers[key] = _Answer(start, b"".join(chunks))
