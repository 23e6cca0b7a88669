"""Saved copies of prefecture sites, served to engines instead of the network.

A fixture folder holds HTML files and ``manifest.toml``, one ``[[page]]`` per answer::

    [[page]]
    url = "https://www.ain.gouv.fr/Publications/RAA"   # what the engine asks for
    file = "root.html"                                 # what it gets (relative to the folder)
    method = "POST"                                    # optional, GET by default
    data = { "Liste-liste-docs" = "2024" }             # optional: the POST form, matched exactly
    final_url = "https://www.ain.gouv.fr/RAA-2024"     # optional: the URL after a redirect
    set_cookie = "DIMSPHPSESSID=4b1d"                  # optional: a cookie this answer sets
    requires_cookie = "DIMSPHPSESSID"                  # optional: without that cookie the site
    without_cookie = "unrelated.html"                  #   answers this file instead

Used by ``attrap adapters check CODE --fixtures DIR`` and by the tests.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from attrap.fetching import FetchError, HtmlPage

MANIFEST = "manifest.toml"


class FixtureError(FetchError):
    """A fixture folder that cannot answer: unknown URL, unreadable manifest or file. A
    ``FetchError`` so that the crawl records it exactly like a site that cannot be fetched."""

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(url or "-", message)


class FixturePage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    file: str
    method: Literal["GET", "POST"] = "GET"
    data: dict[str, str] = Field(default_factory=dict)
    final_url: str | None = None
    set_cookie: str | None = None
    requires_cookie: str | None = None
    without_cookie: str | None = None

    @model_validator(mode="after")
    def _cookie_pair(self) -> FixturePage:
        if (self.requires_cookie is None) != (self.without_cookie is None):
            raise ValueError("requires_cookie and without_cookie go together")
        return self

    def key(self) -> tuple[str, str, frozenset[tuple[str, str]]]:
        return request_key(self.method, self.url, self.data)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: list[FixturePage] = Field(default_factory=list)


def request_key(
    method: str, url: str, data: Mapping[str, str] | None
) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return method.upper(), url.split("#", 1)[0], frozenset((data or {}).items())


def load_manifest(folder: Path) -> list[FixturePage]:
    path = folder / MANIFEST
    try:
        manifest = Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise FixtureError(f"{path}: invalid manifest: {exc}") from exc
    for page in manifest.page:
        for name in filter(None, (page.file, page.without_cookie)):
            if not (folder / name).is_file():
                raise FixtureError(f"{path}: {page.url}: no file {name}", page.url)
    return manifest.page


@dataclass(frozen=True)
class FixtureRequest:
    method: str
    url: str
    data: Mapping[str, str] | None


class FixtureFetcher:
    """A ``PageFetcher`` answering from a fixture folder. It keeps cookies like a real client
    does within one crawl, and records every request (``requests``) for tests to inspect."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pages = {page.key(): page for page in load_manifest(folder)}
        self.cookies: dict[str, str] = {}
        self.requests: list[FixtureRequest] = []

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        self.requests.append(FixtureRequest(method.upper(), url, dict(data) if data else None))
        page = self.pages.get(request_key(method, url, data))
        if page is None:
            form = f" with {dict(data)}" if data else ""
            raise FixtureError(f"no fixture for {method.upper()} {url}{form}", url)
        file = page.file
        if page.requires_cookie and page.requires_cookie not in self.cookies:
            file = page.without_cookie or file
        if page.set_cookie:
            name, _, value = page.set_cookie.partition("=")
            self.cookies[name.strip()] = value.strip()
        text = (self.folder / file).read_text(encoding="utf-8")
        return HtmlPage(url=page.final_url or url, text=text)

    @property
    def requested_urls(self) -> list[str]:
        return [r.url for r in self.requests]
