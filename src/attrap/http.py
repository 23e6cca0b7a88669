"""The only HTTP client of the project: polite, bounded, and honest about failures.

- Politeness: request starts to one host, and to one IP address (most prefecture domains share a
  server; the address is the injectable ``Resolver``'s, the system's by default), are spaced by
  ``crawl.min_delay_s``; at most ``crawl.max_concurrency`` requests are in flight overall.
  Every hop of a redirect chain and every retry goes through the same gate.
- Redirects go to public addresses or stay at the address the request started at; into a
  private network only with ``crawl.private_redirects`` (no request from a public site's
  redirect reaches an intranet or a metadata service).
- Retries: connection errors, timeouts, 429 and 502–504 are retried with exponential backoff and
  jitter, ``Retry-After`` (seconds or HTTP date) honoured up to ``crawl.max_retry_after_s``, at most
  ``crawl.max_attempts`` attempts; then a ``FetchError``.
- Listing pages are revalidated with ``If-None-Match`` / ``If-Modified-Since``; their last body
  is kept in the page cache (``store/http_cache.py``) and served again on 304.
- PDFs are streamed into the PDF store (``store/pdfs.py``: hashed while streaming, stored by
  their hash, whole or not at all), checked on the way by their magic bytes and size; a failure
  leaves nothing behind. A body still arriving after ``crawl.max_download_s`` fails the
  download. Temporary files a killed process left behind are removed when a client starts
  (``store/files.py``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from attrap.config import Settings
from attrap.fetching import FetchError, HtmlPage, retry_after_seconds
from attrap.store.http_cache import CachedPage, PageCache
from attrap.store.pdfs import PdfStore

T = TypeVar("T")

MAX_REDIRECTS = 10
MAX_PAGE_BYTES = 20 * 1024 * 1024
BACKOFF_MAX_S = 300.0
# Readers accept a PDF header anywhere in the first KiB; so do we, and no further.
PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WINDOW = 1024
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Transport failures worth another try; an unsupported scheme or a malformed request is not.
RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class _RetryableError(FetchError):
    """A failure another attempt may cure; ``retry_after`` is the server's wish, in seconds."""

    def __init__(
        self, url: str, reason: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(url, reason, status=status)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Download:
    """A PDF in the PDF store, under its content hash."""

    path: Path
    sha256: str
    size: int


class Clock(Protocol):
    """Monotonic time and sleeping, injectable so that tests need not wait real seconds."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# A host name and port to the IP address requests to them reach, for the per-address budget and
# the private-redirect check; an OSError when the name does not resolve. Injectable, so that tests
# make no real DNS lookup.
Resolver = Callable[[str, int], Awaitable[str]]


async def system_resolver(host: str, port: int) -> str:
    """The first address the system's resolver gives (the event loop's ``getaddrinfo``)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return str(infos[0][4][0])


def _describe(error: Exception) -> str:
    detail = str(error)
    name = type(error).__name__
    return f"{name}: {detail}" if detail else name


@asynccontextmanager
async def _translate_transport_errors(url: str) -> AsyncIterator[None]:
    try:
        yield
    except RETRYABLE_TRANSPORT_ERRORS as exc:
        raise _RetryableError(url, _describe(exc)) from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, _describe(exc)) from exc


def _decode(response: httpx.Response, body: bytes) -> str:
    declared = response.charset_encoding
    if declared is None and (meta := META_CHARSET.search(body[:2048])):
        declared = meta.group(1).decode("ascii")
    try:
        return body.decode(declared or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


class HttpClient:
    """``async with HttpClient(settings) as client:`` — satisfies ``adapters.base.PageFetcher``.
    The clock and the resolver of host names are the system's unless others are given."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        crawl = settings.crawl
        self._crawl = crawl
        self._clock = clock or SystemClock()
        self._resolve = resolver
        self._pdfs = PdfStore.of(settings)
        self._cache = PageCache.of(settings)
        self._pdfs.remove_stale_parts()
        self._cache.remove_stale_parts()
        self._max_pdf_bytes = int(crawl.max_pdf_mb * 1024 * 1024)
        self._proxied = bool(crawl.proxy)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": crawl.user_agent},
            timeout=httpx.Timeout(crawl.timeout_s),
            limits=httpx.Limits(max_connections=crawl.max_concurrency),
            proxy=crawl.proxy or None,
            # The configuration is the single source of proxies, not the environment.
            trust_env=False,
        )
        self._in_flight = asyncio.Semaphore(crawl.max_concurrency)
        self._gates: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, float] = {}
        self._addresses: dict[str, str] = {}
        self._backoff = wait_exponential_jitter(
            multiplier=max(1.0, crawl.min_delay_s),
            max=BACKOFF_MAX_S,
            jitter=max(1.0, crawl.min_delay_s),
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        """A listing page; a GET is revalidated against its cached copy, served again on 304."""
        cacheable = method.upper() == "GET" and not data
        cached = self._cache.load(url) if cacheable else None
        headers = cached.validators() if cached else {}

        async def attempt() -> HtmlPage:
            async with self._open(url, method, headers=headers, data=data) as response:
                if response.status_code == 304 and cached is not None:
                    return HtmlPage(url=cached.final_url, text=cached.text)
                self._check_status(url, response)
                # A trickling page (slow loris) would hold the crawl: bounded like a download.
                try:
                    async with asyncio.timeout(self._crawl.max_download_s):
                        body = await self._read_capped(url, response, MAX_PAGE_BYTES)
                except TimeoutError:
                    raise FetchError(
                        url,
                        f"page inachevée après {self._crawl.max_download_s:g} s "
                        "(crawl.max_download_s)",
                    ) from None
            page = HtmlPage(url=str(response.url), text=_decode(response, body))
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
            if cacheable and (etag or last_modified):
                self._cache.store(url, CachedPage(page.url, page.text, etag, last_modified))
            return page

        return await self._retrying(url, attempt)

    async def download_pdf(self, url: str) -> Download:
        """Stream a PDF into the PDF store; FetchError when it is not a PDF, too big,
        truncated or unreachable — leaving no file behind."""

        async def attempt() -> Download:
            async with self._open(url, "GET") as response:
                self._check_status(url, response)
                try:
                    async with asyncio.timeout(self._crawl.max_download_s):
                        return await self._store_pdf(url, response)
                except TimeoutError as exc:
                    # Not retried now: a server this slow is as slow a second time; the next
                    # run tries again (crawl.max_download_runs).
                    raise FetchError(
                        url,
                        f"téléchargement inachevé après {self._crawl.max_download_s:g} s "
                        "(crawl.max_download_s)",
                    ) from exc

        return await self._retrying(url, attempt)

    # -- retries ---------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    async def _retrying(self, url: str, attempt: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._crawl.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_RetryableError),
            sleep=self._clock.sleep,
        )
        try:
            return await retrying(attempt)
        except RetryError as exhausted:
            last = exhausted.last_attempt.exception()
            reason = last.reason if isinstance(last, FetchError) else _describe(exhausted)
            attempts = exhausted.last_attempt.attempt_number
            status = last.status if isinstance(last, FetchError) else None
            raise FetchError(
                url, f"{reason} (abandon après {attempts} tentatives)", status=status
            ) from last

    def _check_status(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if response.is_success:
            return
        reason = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status not in RETRYABLE_STATUSES:
            raise FetchError(url, reason, status=status)
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None and wait > self._crawl.max_retry_after_s:
            raise FetchError(
                url,
                f"{reason}, Retry-After de {wait:.0f} s au-delà de la limite de "
                f"{self._crawl.max_retry_after_s:.0f} s",
                status=status,
            )
        raise _RetryableError(url, reason, retry_after=wait, status=status)

    # -- politeness --------------------------------------------------------------------------

    async def address_of(self, url: str) -> str:
        """The key of the per-address budget that requests to ``url`` share."""
        return await self._address_of(httpx.URL(url))

    async def _address_of(self, url: httpx.URL) -> str:
        """The IP address a host resolves to, the key of the per-server budget. Behind a proxy
        the proxy resolves names (no local DNS leak), so the host stands for its address."""
        host = url.host
        if self._proxied:
            return host
        if host not in self._addresses:
            try:
                self._addresses[host] = await self._resolve(host, url.port or 443)
            except OSError:
                # Unresolvable: the request itself will fail and say so.
                self._addresses[host] = host
        return self._addresses[host]

    def _gate(self, key: str) -> asyncio.Lock:
        return self._gates.setdefault(key, asyncio.Lock())

    @asynccontextmanager
    async def _turn(self, url: httpx.URL) -> AsyncIterator[None]:
        """Wait until both the host and its IP address are due, then hold a concurrency slot.
        Starts to one key are serialised by its gate, so two are never closer than min_delay;
        waiting for a gate does not hold a slot other servers could use."""
        keys = [f"ip:{await self._address_of(url)}", f"host:{url.host}"]
        async with self._gate(keys[0]), self._gate(keys[1]):
            due = max(self._last_start.get(k, -math.inf) for k in keys) + self._crawl.min_delay_s
            delay = due - self._clock.now()
            if delay > 0:
                await self._clock.sleep(delay)
            await self._in_flight.acquire()
            started = self._clock.now()
            for key in keys:
                self._last_start[key] = started
        try:
            yield
        finally:
            self._in_flight.release()

    @asynccontextmanager
    async def _open(
        self,
        url: str,
        method: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """The final response of ``url``, streamed, following redirects one polite hop at a time.
        Transport failures, also those raised while the caller reads the body, become
        ``_RetryableError`` or ``FetchError``."""
        try:
            request = self._client.build_request(
                method, url, headers=headers, data=dict(data) if data else None
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FetchError(url, f"requête invalide : {_describe(exc)}") from exc
        visited = {str(request.url)}
        origin: str | None = None
        for _hop in range(MAX_REDIRECTS + 1):
            async with self._turn(request.url), _translate_transport_errors(url):
                response = await self._client.send(request, stream=True)
                try:
                    if not response.has_redirect_location:
                        yield response
                        return
                    next_request = response.next_request
                finally:
                    await response.aclose()
            if next_request is None:
                raise FetchError(url, f"redirection HTTP {response.status_code} sans destination")
            origin = origin or await self._address_of(request.url)
            request = next_request
            if str(request.url) in visited:
                raise FetchError(url, f"boucle de redirections à {request.url}")
            visited.add(str(request.url))
            await self._check_redirect(url, origin, request.url)
        raise FetchError(url, f"plus de {MAX_REDIRECTS} redirections")

    async def _check_redirect(self, url: str, origin: str, target: httpx.URL) -> None:
        """Refuse a redirect into a private network (see ``crawl.private_redirects``)."""
        if self._crawl.private_redirects or self._proxied:
            return  # behind a proxy, the proxy resolves names and applies its own policy
        address = await self._address_of(target)
        try:
            public = ipaddress.ip_address(address).is_global
        except ValueError:
            return  # unresolvable: the request itself fails and says so
        if not public and address != origin:
            raise FetchError(
                url,
                f"redirection vers une adresse non publique refusée : {target.host} ({address}) ; "
                "crawl.private_redirects l'autorise",
            )

    # -- bodies ------------------------------------------------------------------------------

    async def _read_capped(self, url: str, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"page de plus de {limit // 1024 // 1024} Mo")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchError(url, f"page de plus de {limit // 1024 // 1024} Mo")
        return bytes(body)

    def _too_big(self, url: str) -> FetchError:
        return FetchError(url, f"plus grand que la limite de {self._crawl.max_pdf_mb:g} Mo")

    async def _store_pdf(self, url: str, response: httpx.Response) -> Download:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_pdf_bytes:
            raise self._too_big(url)
        # Opening the temporary file stays outside the translation below: a store that cannot
        # be written to at all is not this PDF's failure.
        with self._pdfs.writer() as writer:
            try:
                head = b""
                async for chunk in response.aiter_bytes():
                    if writer.size + len(chunk) > self._max_pdf_bytes:
                        raise self._too_big(url)
                    if len(head) < PDF_MAGIC_WINDOW:
                        head += chunk[: PDF_MAGIC_WINDOW - len(head)]
                        self._check_magic(url, head, final=False)
                    writer.write(chunk)
                self._check_magic(url, head, final=True)
                path = writer.commit()
            except OSError as exc:
                raise FetchError(
                    url, f"impossible d'enregistrer le PDF : {exc.strerror or exc}"
                ) from exc
        return Download(path=path, sha256=writer.sha256, size=writer.size)

    @staticmethod
    def _check_magic(url: str, head: bytes, *, final: bool) -> None:
        """Fail as soon as the first KiB (or the whole, shorter body) has no PDF header."""
        if PDF_MAGIC in head or (not final and len(head) < PDF_MAGIC_WINDOW):
            return
        start = head[:40].decode("latin-1").strip().replace("\n", " ")
        raise FetchError(url, f"pas un PDF (commence par {start!r})" if start else "réponse vide")
