"""The HTTP client against a real server on 127.0.0.1: politeness, retries, caching, downloads."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import itertools
import os
import socket
import time
from pathlib import Path

import pytest

from attrap.config import Settings
from attrap.fetching import FetchError, retry_after_seconds
from attrap.http import Download, HttpClient, system_resolver
from attrap.store.http_cache import PageCache
from attrap.store.pdfs import PdfStore
from local_server import (
    FakeResolver,
    LocalServer,
    Reply,
    Request,
    VirtualClock,
    crawl_settings,
    html,
    make_pdf,
    pdf,
    revalidated_page,
)


def fetch(settings: Settings, url: str, clock: VirtualClock | None = None) -> str:
    async def go() -> str:
        async with HttpClient(settings, clock=clock, resolver=FakeResolver()) as client:
            return (await client.fetch_html(url)).text

    return asyncio.run(go())


def download(settings: Settings, url: str, clock: VirtualClock | None = None) -> Download:
    async def go() -> Download:
        async with HttpClient(settings, clock=clock, resolver=FakeResolver()) as client:
            return await client.download_pdf(url)

    return asyncio.run(go())


def stored_files(settings: Settings) -> list[str]:
    """Everything in the PDF store's directory, hidden temporary files included."""
    directory = PdfStore.of(settings).directory
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_page_is_fetched_with_the_configured_user_agent(server: LocalServer, tmp_path: Path):
    server.route("/raa", html("<h1>Recueils 2024 — été</h1>"))
    settings = crawl_settings(tmp_path, user_agent="attrap-test/1.0")
    assert fetch(settings, server.url("/raa")) == "<h1>Recueils 2024 — été</h1>"
    assert server.log[0].headers["user-agent"] == "attrap-test/1.0"


def test_charset_is_taken_from_the_meta_tag_when_the_header_has_none(
    server: LocalServer, tmp_path: Path
):
    body = '<meta charset="iso-8859-1"><p>Arrêtés préfectoraux</p>'.encode("latin-1")
    server.route("/dims", Reply(body=body, headers={"Content-Type": "text/html"}))
    assert "Arrêtés préfectoraux" in fetch(crawl_settings(tmp_path), server.url("/dims"))


def test_post_form_is_sent(server: LocalServer, tmp_path: Path):
    server.route("/liste", html("<p>2024</p>"))

    async def go() -> str:
        async with HttpClient(crawl_settings(tmp_path), resolver=FakeResolver()) as client:
            page = await client.fetch_html(
                server.url("/liste"), method="POST", data={"Liste-liste-docs": "2024"}
            )
            return page.text

    assert asyncio.run(go()) == "<p>2024</p>"
    assert server.log[0].method == "POST"
    assert server.log[0].body == b"Liste-liste-docs=2024"


def test_two_hosts_on_one_ip_are_spaced_by_min_delay(server: LocalServer, tmp_path: Path):
    resolved = {info[4][0] for info in socket.getaddrinfo("localhost", server.port)}
    if resolved != {"127.0.0.1"}:
        pytest.skip(f"localhost resolves to {resolved} here, not only to 127.0.0.1")
    server.route("/p", html("ok"))
    settings = crawl_settings(tmp_path, min_delay_s=0.5)
    urls = [server.url("/p", host) for host in ["localhost", "127.0.0.1"] * 2]
    resolver = FakeResolver()

    async def go() -> None:
        async with HttpClient(settings, resolver=resolver) as client:
            await asyncio.gather(*(client.fetch_html(u) for u in urls))

    asyncio.run(go())
    assert "localhost" in resolver.asked  # its address came from the resolver the client was given
    arrivals = sorted(r.arrived for r in server.log)
    assert {r.host.split(":")[0] for r in server.log} == {"localhost", "127.0.0.1"}
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 3
    # Never closer than min_delay, give or take the server threads' scheduling on a busy machine.
    assert min(gaps) >= 0.4, gaps


def test_different_ips_do_not_wait_for_each_other(tmp_path: Path):
    settings = crawl_settings(tmp_path, min_delay_s=2.0)
    with LocalServer("127.0.0.1").running() as one, LocalServer("127.0.0.2").running() as two:
        for server in (one, two):
            server.route("/p", html("ok"))

        async def go() -> None:
            async with HttpClient(settings, resolver=FakeResolver()) as client:
                await asyncio.gather(
                    client.fetch_html(one.url("/p")), client.fetch_html(two.url("/p"))
                )

        started = time.monotonic()
        asyncio.run(go())
        assert time.monotonic() - started < 1.5
        assert len(one.log) == len(two.log) == 1


def test_the_default_resolver_is_the_systems(tmp_path: Path):
    # localhost only: the one name every machine resolves without a network.
    first_address = socket.getaddrinfo("localhost", 8080, type=socket.SOCK_STREAM)[0][4][0]

    async def go() -> tuple[str, str]:
        async with HttpClient(crawl_settings(tmp_path)) as client:
            return (
                await client.address_of("http://localhost:8080/raa"),
                await system_resolver("localhost", 8080),
            )

    assert asyncio.run(go()) == (first_address, first_address)


def test_a_name_that_does_not_resolve_is_its_own_budget(tmp_path: Path):
    resolver = FakeResolver({"www.bouches-du-rhone.gouv.fr": "203.0.113.13"})

    async def go() -> list[str]:
        async with HttpClient(crawl_settings(tmp_path), resolver=resolver) as client:
            return [
                await client.address_of(url)
                for url in (
                    "https://www.bouches-du-rhone.gouv.fr/raa",
                    "https://raa.prefecture.invalid/a",
                    "https://raa.prefecture.invalid/b",
                )
            ]

    assert asyncio.run(go()) == [
        "203.0.113.13",
        "raa.prefecture.invalid",
        "raa.prefecture.invalid",
    ]
    assert resolver.asked == ["www.bouches-du-rhone.gouv.fr", "raa.prefecture.invalid"]  # once


def test_concurrency_cap_is_honoured(server: LocalServer, tmp_path: Path):
    server.route("/slow", Reply(body=b"ok", delay_s=0.2))
    settings = crawl_settings(tmp_path, max_concurrency=2)

    async def go() -> None:
        async with HttpClient(settings, resolver=FakeResolver()) as client:
            await asyncio.gather(*(client.fetch_html(server.url("/slow")) for _ in range(6)))

    asyncio.run(go())
    assert len(server.log) == 6
    assert server.peak_in_flight == 2


def test_conditional_request_is_served_from_cache_on_304(server: LocalServer, tmp_path: Path):
    modified = "Tue, 16 Jul 2024 08:00:00 GMT"
    server.route("/raa", revalidated_page("<p>RAA 2024</p>", '"v1"', modified))
    settings = crawl_settings(tmp_path)
    assert fetch(settings, server.url("/raa")) == "<p>RAA 2024</p>"
    assert fetch(settings, server.url("/raa")) == "<p>RAA 2024</p>"
    first, second = server.log
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == modified


def test_page_without_validators_is_fetched_in_full_again(server: LocalServer, tmp_path: Path):
    server.route("/plain", html("<p>x</p>"))
    settings = crawl_settings(tmp_path)
    fetch(settings, server.url("/plain"))
    fetch(settings, server.url("/plain"))
    assert all("if-none-match" not in r.headers for r in server.log)


def replies_in_turn(*replies: Reply):
    """A route answering each reply once, in order, then the last one forever."""
    queue = list(replies)

    def handle(_request: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


def test_429_retry_after_seconds_is_honoured(server: LocalServer, tmp_path: Path):
    server.route(
        "/busy",
        replies_in_turn(Reply(status=429, headers={"Retry-After": "7"}), html("<p>enfin</p>")),
    )
    clock = VirtualClock()
    assert fetch(crawl_settings(tmp_path), server.url("/busy"), clock) == "<p>enfin</p>"
    assert clock.sleeps == [7.0]
    assert len(server.log) == 2


def test_retry_after_http_date_is_honoured(server: LocalServer, tmp_path: Path):
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120), True)
    server.route(
        "/busy",
        replies_in_turn(Reply(status=503, headers={"Retry-After": later}), html("ok")),
    )
    clock = VirtualClock()
    assert fetch(crawl_settings(tmp_path), server.url("/busy"), clock) == "ok"
    (waited,) = clock.sleeps
    assert 115 <= waited <= 120


def test_retry_after_beyond_the_cap_fails_at_once(server: LocalServer, tmp_path: Path):
    server.route("/busy", Reply(status=429, headers={"Retry-After": "3600"}))
    clock = VirtualClock()
    with pytest.raises(FetchError, match="Retry-After de 3600 s au-delà de la limite de 600 s"):
        fetch(crawl_settings(tmp_path, max_retry_after_s=600), server.url("/busy"), clock)
    assert len(server.log) == 1
    assert clock.sleeps == []


def test_retry_after_parsing():
    now = dt.datetime(2024, 7, 16, 8, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("120", now=now) == 120
    assert retry_after_seconds("Tue, 16 Jul 2024 08:01:30 GMT", now=now) == 90
    assert retry_after_seconds("Tue, 16 Jul 2024 07:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


def test_503_backs_off_exponentially_then_gives_up(server: LocalServer, tmp_path: Path):
    server.route("/down", Reply(status=503))
    clock = VirtualClock()
    settings = crawl_settings(tmp_path, max_attempts=4, min_delay_s=2.0)
    with pytest.raises(FetchError, match=r"HTTP 503 .*abandon après 4 tentatives"):
        fetch(settings, server.url("/down"), clock)
    assert len(server.log) == 4
    # Exponential (2, 4, 8 s from min_delay) plus up to min_delay of jitter; the politeness gate
    # adds nothing since each backoff is longer than min_delay.
    for backoff, base in zip(clock.sleeps, [2, 4, 8], strict=True):
        assert base <= backoff <= base + 2


def test_404_is_not_retried(server: LocalServer, tmp_path: Path):
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(crawl_settings(tmp_path), server.url("/missing"), VirtualClock())
    assert len(server.log) == 1


def test_timeout_is_retried_then_reported(server: LocalServer, tmp_path: Path):
    server.route("/slow", Reply(body=b"late", delay_s=1.0))
    settings = crawl_settings(tmp_path, timeout_s=0.2, max_attempts=2)
    with pytest.raises(FetchError, match=r"ReadTimeout.*abandon après 2 tentatives"):
        fetch(settings, server.url("/slow"), VirtualClock())
    assert len(server.log) == 2


def test_redirects_are_followed_and_loops_reported(server: LocalServer, tmp_path: Path):
    server.route("/old", Reply(status=301, headers={"Location": "/new"}))
    server.route("/new", html("nouveau"))
    server.route("/a", Reply(status=302, headers={"Location": "/b"}))
    server.route("/b", Reply(status=302, headers={"Location": "/a"}))
    settings = crawl_settings(tmp_path)

    async def go() -> str:
        async with HttpClient(settings, resolver=FakeResolver()) as client:
            page = await client.fetch_html(server.url("/old"))
            assert page.url == server.url("/new")
            with pytest.raises(FetchError, match="boucle de redirections"):
                await client.fetch_html(server.url("/a"))
            return page.text

    assert asyncio.run(go()) == "nouveau"
    assert [r.path for r in server.log] == ["/old", "/new", "/a", "/b"]


def test_pdf_is_stored_by_its_sha256(server: LocalServer, tmp_path: Path):
    content = make_pdf("RAA 13-2024-123")
    server.route("/file/raa.pdf", pdf(content))
    settings = crawl_settings(tmp_path)
    stored = download(settings, server.url("/file/raa.pdf"))
    digest = hashlib.sha256(content).hexdigest()
    expected = Download(path=PdfStore.of(settings).path(digest), sha256=digest, size=len(content))
    assert stored == expected
    assert stored.path.read_bytes() == content
    assert stored_files(settings) == [f"{digest}.pdf"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(body=make_pdf("x"), content_length=2000), "incomplete|peer closed"),
        (html("<!DOCTYPE html><title>Erreur</title>"), "pas un PDF"),
        (pdf(make_pdf("y" * 3000)), "plus grand que la limite de 0.002 Mo"),
        (Reply(body=make_pdf("z" * 3000), chunked=True), "plus grand que la limite de 0.002 Mo"),
        (Reply(body=b"", headers={"Content-Type": "application/pdf"}), "réponse vide"),
    ],
    ids=["truncated", "html-as-pdf", "oversized", "oversized-chunked", "empty"],
)
def test_failed_download_leaves_nothing_behind(
    server: LocalServer, tmp_path: Path, reply: Reply, error: str
):
    server.route("/file/raa.pdf", reply)
    settings = crawl_settings(tmp_path, max_pdf_mb=0.002, max_attempts=2)
    with pytest.raises(FetchError, match=error):
        download(settings, server.url("/file/raa.pdf"), VirtualClock())
    assert stored_files(settings) == []


def test_a_pdf_that_cannot_be_stored_is_a_fetch_error_and_leaves_nothing(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    server.route("/file/raa.pdf", pdf(make_pdf("RAA")))
    settings = crawl_settings(tmp_path)

    def full(source: str | Path, target: str | Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(
        FetchError, match="impossible d'enregistrer le PDF : No space left on device"
    ):
        download(settings, server.url("/file/raa.pdf"))
    assert stored_files(settings) == []


def test_trickling_download_stops_at_the_deadline(server: LocalServer, tmp_path: Path):
    content = make_pdf("RAA servi goutte a goutte")
    # ~20 chunks 50 ms apart: each read is quick (timeout_s never fires), the whole takes ~1 s.
    server.route(
        "/file/slow.pdf",
        Reply(body=content, chunked=True, chunk_bytes=32, chunk_pause_s=0.05),
    )
    url = server.url("/file/slow.pdf")
    settings = crawl_settings(tmp_path, timeout_s=1.0, max_download_s=0.3)

    started = time.monotonic()
    with pytest.raises(FetchError, match=r"inachevé après 0\.3 s"):
        download(settings, url)
    assert time.monotonic() - started < 0.9
    assert stored_files(settings) == []
    assert len(server.requests_to("/file/slow.pdf")) == 1  # not retried within the run

    patient = crawl_settings(tmp_path, timeout_s=1.0, max_download_s=10)
    assert download(patient, url).size == len(content)


def test_stale_temporary_files_are_removed_when_a_client_starts(tmp_path: Path):
    settings = crawl_settings(tmp_path)
    cache = PageCache.of(settings).directory
    store = PdfStore.of(settings)
    two_hours_ago = time.time() - 2 * 3600
    files = {
        "stale": store.directory / ".k1ll3d.part",
        "stale page": cache / ".k1ll3d.part",
        "in progress": store.directory / ".busy42.part",
        "old pdf": store.path("0" * 64),
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 partial")
        if name != "in progress":
            os.utime(path, (two_hours_ago, two_hours_ago))

    async def start_client() -> None:
        async with HttpClient(settings, resolver=FakeResolver()):
            pass

    asyncio.run(start_client())
    assert stored_files(settings) == [".busy42.part", store.path("0" * 64).name]
    assert list(cache.iterdir()) == []


def test_http_proxy_from_config_is_used(server: LocalServer, tmp_path: Path):
    # The local server plays a forward proxy: it receives the absolute URL of the target.
    server.route("http://raa.prefecture.invalid/liste", html("via le proxy"))
    settings = crawl_settings(tmp_path, proxy=server.base)
    assert fetch(settings, "http://raa.prefecture.invalid/liste") == "via le proxy"
    assert server.log[0].path == "http://raa.prefecture.invalid/liste"


def test_socks_proxy_from_config_is_used(server: LocalServer, tmp_path: Path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_proxy = f"socks5://127.0.0.1:{closed.getsockname()[1]}"
    server.route("/p", html("direct"))
    settings = crawl_settings(tmp_path, proxy=dead_proxy, max_attempts=1)
    with pytest.raises(FetchError):
        fetch(settings, server.url("/p"), VirtualClock())
    assert server.log == []  # nothing went around the proxy
