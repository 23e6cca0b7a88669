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

A *recording* (``attrap adapters check CODE --record`` writes one under ``fixtures/sites/CODE/``)
adds what the crawl of these pages must find::

    [recording]
    code = "37"                                        # the adapter (prefectures/37.toml)
    engine = "dsfr"
    not_before = 2024-06-01                            # the crawl's crawl.not_before
    start_urls = ["https://www.indre-et-loire.gouv.fr/Publications/RAA"]  # as crawled

    [recording.structure]                              # what the engine decided (its pins)
    levels = ["year"]

    [[bulletin]]                                       # one per bulletin found, newest first
    url = "https://www.indre-et-loire.gouv.fr/contenu/telechargement/1/2/file/RAA.pdf"
    title = "RAA n°37-2024-120"
    published_on = 2024-06-03                          # absent when undated

``tests/adapters/test_recorded_sites.py`` replays every recording and expects exactly its
bulletins and structure. A recording's files are named after their request (stable across
recordings) and its manifest is sorted, so that re-recording a site shows what changed as a diff.

Used by ``attrap adapters check CODE --fixtures DIR`` and by the tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from attrap.adapters.base import DocumentRef, PageFetcher
from attrap.fetching import FetchError, HtmlPage
from attrap.french import fold

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


class Recording(BaseModel):
    """``[recording]``: the folder records adapter ``code``'s site as crawled from
    ``start_urls`` with ``not_before``, and ``structure`` is what the engine decided."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    engine: str
    not_before: dt.date
    start_urls: list[str] = Field(min_length=1)
    structure: dict[str, Any] = Field(default_factory=dict)


class RecordedBulletin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    title: str
    published_on: dt.date | None = None

    @classmethod
    def of(cls, ref: DocumentRef) -> RecordedBulletin:
        return cls(url=ref.url, title=ref.title, published_on=ref.published_on)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: list[FixturePage] = Field(default_factory=list)
    recording: Recording | None = None
    bulletin: list[RecordedBulletin] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bulletins_of_a_recording(self) -> Manifest:
        if self.bulletin and self.recording is None:
            raise ValueError("[[bulletin]] entries need a [recording] table")
        return self


def request_key(
    method: str, url: str, data: Mapping[str, str] | None
) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return method.upper(), url.split("#", 1)[0], frozenset((data or {}).items())


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest, every file it names checked to exist."""
    path = folder / MANIFEST
    try:
        manifest = Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise FixtureError(f"{path} : lecture impossible : {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise FixtureError(f"{path} : manifeste invalide : {exc}") from exc
    for page in manifest.page:
        for name in filter(None, (page.file, page.without_cookie)):
            if not (folder / name).is_file():
                raise FixtureError(f"{path} : {page.url} : fichier {name} absent", page.url)
    return manifest


def load_manifest(folder: Path) -> list[FixturePage]:
    return read_manifest(folder).page


def is_recording(folder: Path) -> bool:
    """The folder holds a recording (its manifest has a ``[recording]`` table)."""
    path = folder / MANIFEST
    try:
        return "recording" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False


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
            form = f" avec {dict(data)}" if data else ""
            raise FixtureError(f"aucune page enregistrée pour {method.upper()} {url}{form}", url)
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


# --- Recording -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedAnswer:
    method: str
    url: str
    data: Mapping[str, str]
    page: HtmlPage


class RecordingFetcher:
    """A ``PageFetcher`` passing every request to ``fetcher`` (the live ``HttpClient``) and
    keeping its answer (``answers``, by request; the first answer when one is asked twice)."""

    def __init__(self, fetcher: PageFetcher) -> None:
        self.fetcher = fetcher
        self.answers: dict[tuple[str, str, frozenset[tuple[str, str]]], RecordedAnswer] = {}

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        page = await self.fetcher.fetch_html(url, method=method, data=data)
        key = request_key(method, url, data)
        self.answers.setdefault(key, RecordedAnswer(key[0], key[1], dict(data or {}), page))
        return page


class RecordingError(Exception):
    """A recording that cannot be written where it was asked for."""


def page_file(method: str, url: str, data: Mapping[str, str]) -> str:
    """A stable, readable file name for the answer to a request: the end of its path, and a
    digest of the request without scheme and port (a site recorded again, or served on another
    local port, keeps its names)."""
    parts = urlsplit(url)
    words = [s for s in unquote(parts.path).split("/") if s][-2:]
    words += [parts.query] if parts.query else []
    words += [method.lower(), *sorted(data.values())] if method.upper() != "GET" else []
    slug = re.sub(r"[^a-z0-9]+", "-", fold(" ".join(words), ascii_only=True)).strip("-")
    slug = slug[:60].rstrip("-") or "index"
    request = [method.upper(), parts.hostname or "", parts.path, parts.query, sorted(data.items())]
    digest = hashlib.sha256(json.dumps(request, ensure_ascii=False).encode()).hexdigest()[:10]
    return f"{slug}-{digest}.html"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{toml_value(str(k))} = {toml_value(v)}" for k, v in sorted(value.items()))
        return "{ " + ", ".join(pairs) + " }" if value else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def newest_first(bulletins: Iterable[RecordedBulletin]) -> list[RecordedBulletin]:
    """Newest first, undated last, then by URL: the order a recording lists them in."""
    return sorted(bulletins, key=lambda b: (-(b.published_on or dt.date.min).toordinal(), b.url))


def manifest_text(
    recording: Recording, pages: Iterable[FixturePage], bulletins: Iterable[RecordedBulletin]
) -> str:
    code = recording.code
    lines = [
        f"# Recording of adapter {code}: `attrap adapters check {code} --record` wrote it from the",
        "# pages its crawl read. To repair the adapter, record again and review the diff;",
        "# tests/adapters/test_recorded_sites.py checks the crawl of these pages finds exactly",
        "# the bulletins below.",
        "",
        "[recording]",
        f"code = {toml_value(code)}",
        f"engine = {toml_value(recording.engine)}",
        f"not_before = {toml_value(recording.not_before)}",
        f"start_urls = {toml_value(recording.start_urls)}",
        "",
        "[recording.structure]",
        *(f"{key} = {toml_value(value)}" for key, value in sorted(recording.structure.items())),
    ]
    for page in sorted(pages, key=lambda p: (p.url, p.method, sorted(p.data.items()))):
        lines += [
            "",
            "[[page]]",
            f"url = {toml_value(page.url)}",
            f"file = {toml_value(page.file)}",
        ]
        if page.method != "GET":
            lines.append(f"method = {toml_value(page.method)}")
        if page.data:
            lines.append(f"data = {toml_value(page.data)}")
        if page.final_url is not None:
            lines.append(f"final_url = {toml_value(page.final_url)}")
    for bulletin in newest_first(bulletins):
        lines += ["", "[[bulletin]]", f"url = {toml_value(bulletin.url)}"]
        lines.append(f"title = {toml_value(bulletin.title)}")
        if bulletin.published_on is not None:
            lines.append(f"published_on = {toml_value(bulletin.published_on)}")
    return "\n".join(lines) + "\n"


def check_recording_target(folder: Path) -> None:
    """Raises ``RecordingError`` unless ``folder`` is absent, empty, or an earlier recording:
    hand-made fixtures are never overwritten."""
    if folder.exists() and not folder.is_dir():
        raise RecordingError(f"{folder} n'est pas un dossier")
    if folder.is_dir() and any(folder.iterdir()) and not is_recording(folder):
        raise RecordingError(
            f"{folder} contient des pages qui ne sont pas un enregistrement (pas de [recording] "
            f"dans son {MANIFEST}) ; elles ne sont pas remplacées"
        )


def write_recording(
    folder: Path,
    recording: Recording,
    answers: Iterable[RecordedAnswer],
    bulletins: Iterable[RecordedBulletin],
) -> int:
    """Writes the recording into ``folder``, replacing an earlier one whole (no stale file is
    left); returns the number of pages. The new folder is written beside it, checked to load,
    then swapped in."""
    check_recording_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.recording-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    pages: list[FixturePage] = []
    try:
        for answer in answers:
            name = page_file(answer.method, answer.url, answer.data)
            if (staging / name).exists():
                raise RecordingError(f"deux requêtes partagent le nom de fichier {name}")
            (staging / name).write_bytes(answer.page.text.encode("utf-8", errors="replace"))
            final = answer.page.url if answer.page.url != answer.url else None
            pages.append(
                FixturePage(
                    url=answer.url,
                    file=name,
                    method="POST" if answer.method == "POST" else "GET",
                    data=dict(answer.data),
                    final_url=final,
                )
            )
        text = manifest_text(recording, pages, bulletins)
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        read_manifest(staging)  # what we wrote must load
        previous = folder.with_name(f".{folder.name}.previous-{os.getpid()}")
        shutil.rmtree(previous, ignore_errors=True)
        if folder.exists():
            folder.rename(previous)
        try:
            staging.rename(folder)
        except OSError:
            if previous.exists():
                previous.rename(folder)  # the earlier recording stays as it was
            raise
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(pages)
