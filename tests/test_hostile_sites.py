"""Hostile sites on 127.0.0.x: trickling bodies, resets, redirects into private networks,
gzip bombs, huge listing pages, pages of 10,000 links. Each fails alone with one line, quickly
and in bounded memory, or is read."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from attrap.adapters.base import CrawlContext, DocumentRef
from attrap.adapters.engines import get_engine
from attrap.adapters.registry import load_file
from attrap.config import Settings
from attrap.fetching import FetchError
from attrap.http import MAX_PAGE_BYTES, Download, HttpClient
from local_server import FakeResolver, LocalServer, Reply, crawl_settings, html, make_pdf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def other() -> Iterator[LocalServer]:
    """A second server on another loopback address: "another host inside the network"."""
    with LocalServer("127.0.0.2").running() as running:
        yield running


def fetch(settings: Settings, url: str, resolver: FakeResolver | None = None) -> str:
    async def go() -> str:
        async with HttpClient(settings, resolver=resolver or FakeResolver()) as client:
            return (await client.fetch_html(url)).text

    return asyncio.run(go())


def download(settings: Settings, url: str, resolver: FakeResolver | None = None) -> Download:
    async def go() -> Download:
        async with HttpClient(settings, resolver=resolver or FakeResolver()) as client:
            return await client.download_pdf(url)

    return asyncio.run(go())


def test_redirect_into_the_private_network_is_refused(
    server: LocalServer, other: LocalServer, tmp_path: Path
):
    server.route("/raa", Reply(status=302, headers={"Location": other.url("/interne")}))
    server.route("/ici", Reply(status=302, headers={"Location": "/raa-2024"}))
    server.route("/raa-2024", html("même serveur"))
    other.route("/interne", html("intranet"))
    settings = crawl_settings(tmp_path)
    with pytest.raises(FetchError, match=r"adresse non publique refusée : 127\.0\.0\.2"):
        fetch(settings, server.url("/raa"))
    assert other.log == []  # refused before any request left
    # A redirect within the server the crawl was sent to is followed.
    assert fetch(settings, server.url("/ici")) == "même serveur"
    # A PDF link redirecting inside the network is refused the same way.
    server.route("/raa.pdf", Reply(status=302, headers={"Location": other.url("/x.pdf")}))
    with pytest.raises(FetchError, match="adresse non publique refusée"):
        download(settings, server.url("/raa.pdf"))


def test_redirect_to_a_name_of_the_private_network_is_refused(server: LocalServer, tmp_path: Path):
    server.route(
        "/raa", Reply(status=302, headers={"Location": "http://intranet.prefecture.test/"})
    )
    resolver = FakeResolver({"intranet.prefecture.test": "10.13.0.7"})
    with pytest.raises(
        FetchError,
        match=r"adresse non publique refusée : intranet\.prefecture\.test \(10\.13\.0\.7\)",
    ):
        fetch(crawl_settings(tmp_path), server.url("/raa"), resolver)
    assert resolver.asked == ["127.0.0.1", "intranet.prefecture.test"]
    assert [r.path for r in server.log] == ["/raa"]  # refused before any request left


def test_private_redirects_when_configured(server: LocalServer, other: LocalServer, tmp_path: Path):
    # A chain across hosts: 127.0.0.1 → 127.0.0.2 → back to 127.0.0.1 under another name.
    server.route("/raa", Reply(status=302, headers={"Location": other.url("/relais")}))
    other.route(
        "/relais", Reply(status=301, headers={"Location": server.url("/fin", host="localhost")})
    )
    server.route("/fin", html("arrivé"))
    settings = crawl_settings(tmp_path, private_redirects=True)
    assert fetch(settings, server.url("/raa")) == "arrivé"
    assert [r.path for r in other.log] == ["/relais"]


def test_slow_loris_bodies_are_cut(server: LocalServer, tmp_path: Path):
    # A byte every 0.2 s keeps every read under timeout_s: only the whole-body limit stops it.
    trickle = {"chunked": True, "chunk_bytes": 1, "chunk_pause_s": 0.2}
    server.route("/liste", Reply(body=b"<html>" + b" " * 1000, **trickle))  # type: ignore[arg-type]
    server.route("/raa.pdf", Reply(body=make_pdf("RAA") * 3, **trickle))  # type: ignore[arg-type]
    settings = crawl_settings(tmp_path, timeout_s=2, max_download_s=1.5, max_attempts=1)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"page inachevée après 1.5 s"):
        fetch(settings, server.url("/liste"))
    with pytest.raises(FetchError, match=r"téléchargement inachevé après 1.5 s"):
        download(settings, server.url("/raa.pdf"))
    assert time.monotonic() - started < 10
    assert list(tmp_path.rglob("*.pdf*")) == []


def test_reset_mid_download_leaves_nothing(server: LocalServer, tmp_path: Path):
    body = make_pdf("RAA")
    server.route("/raa.pdf", Reply(body=body, content_length=len(body) * 10))
    settings = crawl_settings(tmp_path, max_attempts=2)
    with pytest.raises(FetchError):
        download(settings, server.url("/raa.pdf"))
    assert len(server.log) == 2  # retried once, then given up
    assert list(tmp_path.rglob("*.pdf*")) == []


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def test_gzip_bomb_listing_is_refused_in_bounded_memory(server: LocalServer, tmp_path: Path):
    bomb = gzip.compress(b"<html>" + b" " * (1024**3), compresslevel=1)  # 1 GB → ~1 MB
    server.route(
        "/liste",
        Reply(body=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),
    )
    before = _rss()
    with pytest.raises(FetchError, match="page de plus de 20 Mo"):
        fetch(crawl_settings(tmp_path, max_attempts=1), server.url("/liste"))
    assert _rss() - before < 300 * 1024**2


def test_huge_listing_page_is_refused(server: LocalServer, tmp_path: Path):
    page = b"<html><body>" + b"<p>x</p>" * (50 * 1024**2 // 8) + b"</body></html>"  # 50 MB
    assert len(page) > MAX_PAGE_BYTES
    server.route("/liste", Reply(body=page, headers={"Content-Type": "text/html"}))
    server.route("/sans-taille", Reply(body=page, chunked=True, chunk_bytes=1024**2))
    settings = crawl_settings(tmp_path, max_attempts=1)
    with pytest.raises(FetchError, match="page de plus de 20 Mo"):
        fetch(settings, server.url("/liste"))  # announced by Content-Length
    with pytest.raises(FetchError, match="page de plus de 20 Mo"):
        fetch(settings, server.url("/sans-taille"))  # found while reading


def test_ten_thousand_links_on_one_page(server: LocalServer, tmp_path: Path):
    links = "".join(
        f'<li><a class="fr-link fr-link--download" href="/raa/{n}.pdf">RAA n°13-2024-{n} '
        f'<span class="fr-link__detail">PDF - 1 Mb - 11/07/2024</span></a></li>'
        for n in range(10_000)
    )
    server.route(
        "/liste",
        html(
            "<html><body><main><h1>Recueil des actes administratifs 2024</h1>"
            f'<div class="fr-downloads-group"><ul>{links}</ul></div></main></body></html>'
        ),
    )
    spec = load_file(REPO / "prefectures" / "13.toml").model_copy(
        update={"start_urls": [server.url("/liste")]}
    )

    async def discover() -> list[DocumentRef]:
        async with HttpClient(crawl_settings(tmp_path), resolver=FakeResolver()) as client:
            context = CrawlContext(spec, client, dt.date(2024, 1, 1))
            return [ref async for ref in get_engine(spec.engine).discover(context)]

    started = time.monotonic()
    refs = asyncio.run(discover())
    assert len({r.url for r in refs}) == 10_000
    assert time.monotonic() - started < 60
