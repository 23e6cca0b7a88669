"""``attrap serve`` facing hostile clients: headers, odd parameters, paths, caching."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from attrap.store.db import Database
from attrap.web.api import MAX_LIMIT, MAX_OFFSET
from attrap.web.app import create_app
from test_web import TODAY, fill

PAGES = [
    "/",
    "/departements/13",
    "/categories/drone",
    "/recherche?query=drone",
    "/en-ce-moment",
    "/delais",
    "/sante",
    "/nulle-part",
]
API = ["/api/hits", "/feeds/hits.atom", "/feeds/periods.ics", "/api/openapi.json"]


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    fill(database)
    with TestClient(create_app(database, today=lambda: TODAY)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", [*PAGES, *API, "/static/style.css", "/categories.css", "/healthz"])
def test_security_headers_everywhere(client: TestClient, path: str):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert re.search(r"script-src 'self'(;|$)", csp) and re.search(r"style-src 'self'(;|$)", csp)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script_or_style(client: TestClient):
    for path in PAGES:
        html = client.get(path).text
        assert "<script" not in html and "<style" not in html, path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


HOSTILE_VALUES = [
    "\x00",
    "a\x00b",
    "²",
    "٣",
    "-1",
    "0",
    "1e9",
    "9" * 40,
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "../../etc/passwd",
    "' OR 1=1 --",
    "é" * 500,
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "%",
    "<script>",
]
PARAMETERS = ["department", "category", "since", "until", "query", "page", "limit", "offset"]


@pytest.mark.parametrize("path", PAGES[:-1] + API[:-1] + ["/delais.csv"])
def test_bad_parameters_never_fail(client: TestClient, path: str):
    for value in HOSTILE_VALUES:
        # Every parameter at once: pages read each leniently, the API refuses the request.
        params = dict.fromkeys([*PARAMETERS, "active_on", "late", "format"], value)
        response = client.get(path, params=params)
        assert response.status_code < 500, (path, value, response.text[:300])
        if path.startswith(("/api/", "/feeds/")):
            assert response.status_code in (200, 422), (path, value)


def test_limit_and_offset_capped(client: TestClient):
    assert client.get("/api/hits", params={"limit": MAX_LIMIT}).status_code == 200
    assert client.get("/api/hits", params={"limit": MAX_LIMIT + 1}).status_code == 422
    assert client.get("/api/hits", params={"offset": MAX_OFFSET + 1}).status_code == 422
    assert client.get("/api/hits", params={"offset": 10**30}).status_code == 422
    assert client.get("/api/hits", params={"since": "1700000000"}).status_code == 422
    # A page far past the last one is an empty page, not an error.
    far = client.get("/recherche", params={"page": "9" * 30})
    assert far.status_code == 200 and 'class="hit ' not in far.text


def test_lists_and_feeds_answer_not_modified(client: TestClient):
    for path in [*API[:-1], "/", "/departements/13"]:
        first = client.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.headers["cache-control"] in ("public, max-age=60", "no-cache")
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag
        other = client.get(path, headers={"If-None-Match": '"autre"'})
        assert other.status_code == 200 and other.content == first.content
    # Another filter is another list, with its own tag.
    drones = client.get("/api/hits", params={"category": "drone"}).headers["etag"]
    assert drones != client.get("/api/hits").headers["etag"]
    assert "etag" not in client.get("/nulle-part").headers
    assert client.get("/healthz").headers.get("cache-control") is None


def _raw_get(port: int, target: str) -> bytes:
    # Raw bytes on the socket: an HTTP client would normalise the dot segments away.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        connection.sendall(request.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_no_path_reaches_files_outside_static(tmp_path: Path):
    import threading
    import time

    import uvicorn

    from attrap.config import Settings
    from attrap.store.db import open_database
    from attrap.store.pdfs import PdfStore

    data = tmp_path / "data"
    store = PdfStore.of(Settings.model_validate({"storage": {"data_dir": str(data)}}))
    secret = store.path(store.put(b"%PDF-1.4 CONTENU-PRIVE")).relative_to(data)
    database = open_database(f"sqlite:///{data / 'attrap.db'}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(database), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert b"200 OK" in _raw_get(port, "/static/style.css")
        web_dir = Path(create_app.__code__.co_filename).parent
        steps = "../" * len(data.parts)
        targets = [
            "/static/../app.py",
            "/static/%2e%2e/app.py",
            "/static/..%2fapp.py",
            "/static/%2e%2e%2f%2e%2e%2fconfig.py",
            f"/static/{steps}{data.relative_to('/')}/attrap.db",
            f"/static/{steps}{data.relative_to('/')}/{secret}",
            f"/static/%2e%2e/{'%2e%2e/' * len(web_dir.parts)}etc/passwd",
            f"/static/{data}/{secret}",
            f"/static//{data}/{secret}",
            "/static/%5c..%5capp.py",
            f"/{steps}{data.relative_to('/')}/{secret}",
            f"/departements/{steps}{data.relative_to('/')}/{secret}",
        ]
        for target in targets:
            answer = _raw_get(port, target)
            status = answer.split(b"\r\n", 1)[0]
            assert b" 200 " not in status, (target, status)
            for leak in (b"CONTENU-PRIVE", b"SQLite format", b"root:", b"import "):
                assert leak not in answer, (target, leak)
    finally:
        server.should_exit = True
        thread.join(10)
        database.engine.dispose()


def test_category_colours_come_from_a_stylesheet(client: TestClient):
    from attrap.web.text import category_colour

    css = client.get("/categories.css")
    assert css.headers["content-type"].startswith("text/css")
    assert f".hit.cat-drone {{ border-left-color: {category_colour('drone')}; }}" in css.text
    assert '<link rel="stylesheet" href="/categories.css">' in client.get("/").text
