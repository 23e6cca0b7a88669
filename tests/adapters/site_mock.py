"""Serves a fixture folder (``fixtures/sites/<family>/manifest.toml``) over httpx through respx,
so that a real HTTP client — ``attrap.http.HttpClient`` — can crawl the saved sites: redirects
answer 302, cookies travel in ``Set-Cookie`` / ``Cookie`` headers, POST forms are matched."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import respx

from attrap.adapters.fixtures import FixturePage, load_manifest, request_key

Key = tuple[str, str, frozenset[tuple[str, str]]]


def fixture_routes(router: respx.MockRouter, folder: Path) -> dict[Key, FixturePage]:
    """Adds to ``router`` one route answering every request the manifest knows (404 for the
    others) and returns the pages by request key."""
    pages = {page.key(): page for page in load_manifest(folder)}
    redirected = {
        request_key("GET", page.final_url, None): page
        for page in pages.values()
        if page.final_url and request_key("GET", page.final_url, None) not in pages
    }

    def answer(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode())) if request.method == "POST" else None
        key = request_key(request.method, str(request.url), form)
        page = pages.get(key)
        if page is not None and page.final_url and page.final_url != page.url:
            return httpx.Response(302, headers={"Location": page.final_url})
        page = page or redirected.get(key)
        if page is None:
            return httpx.Response(404, text=f"no fixture for {request.method} {request.url}")
        file = page.file
        sent = {c.split("=", 1)[0].strip() for c in request.headers.get("cookie", "").split(";")}
        if page.requires_cookie and page.requires_cookie not in sent:
            file = page.without_cookie or file
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if page.set_cookie:
            headers["Set-Cookie"] = f"{page.set_cookie}; path=/; HttpOnly"
        return httpx.Response(200, headers=headers, text=(folder / file).read_text("utf-8"))

    router.route().mock(side_effect=answer)
    return pages
