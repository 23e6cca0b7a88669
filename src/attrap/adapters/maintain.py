"""Maintainers' tools behind ``attrap adapters new`` and ``attrap adapters check``."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from attrap.adapters.base import CrawlContext, DocumentRef, PageFetcher
from attrap.adapters.engines import get_engine, validate_spec
from attrap.adapters.fixtures import FixtureFetcher
from attrap.adapters.registry import AdapterError, AdapterSpec, load_adapters, select_adapters
from attrap.config import Settings


@dataclass
class CrawlReport:
    """What one crawl found (newest first) and the error that stopped it, if any."""

    refs: list[DocumentRef] = field(default_factory=list)
    error: Exception | None = None
    pages: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.refs)


def newest_first(refs: list[DocumentRef]) -> list[DocumentRef]:
    dated = [r for r in refs if r.published_on is not None]
    dated.sort(key=lambda r: r.published_on or dt.date.min, reverse=True)
    return dated + [r for r in refs if r.published_on is None]


async def crawl(spec: AdapterSpec, fetcher: PageFetcher, not_before: dt.date) -> CrawlReport:
    """Runs the adapter's engine to the end, keeping what it found before any error."""
    report = CrawlReport()
    try:
        validate_spec(spec)
        engine = get_engine(spec.engine)
        async for ref in engine.discover(CrawlContext(spec, fetcher, not_before)):
            report.refs.append(ref)
    except Exception as exc:  # a maintainer's check shows every failure instead of a traceback
        report.error = exc
    report.refs = newest_first(report.refs)
    return report


# How ``check_adapter`` opens a live fetcher: the CLI passes ``attrap.http.HttpClient``, which
# adapters do not import.
LiveFetcher = Callable[[Settings], AbstractAsyncContextManager[PageFetcher]]


async def check_adapter(
    settings: Settings, code: str, fixtures: Path | None, live: LiveFetcher
) -> CrawlReport:
    """Crawls one administration, from a fixture folder or live through ``live(settings)``."""
    (spec,) = select_adapters(load_adapters(settings), [code])
    not_before = settings.crawl.not_before
    if fixtures is not None:
        fetcher = FixtureFetcher(fixtures)
        report = await crawl(spec, fetcher, not_before)
        report.pages = len(fetcher.requests)
        return report
    async with live(settings) as client:
        return await crawl(spec, client, not_before)


# --- attrap adapters new -------------------------------------------------------------------

_CODE = re.compile(r"^(?:\d{2,3}|2[AB]|PP|R\d{2})$")
OVERSEAS_TIMEZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}
_SMALL_WORDS = {"de", "du", "des", "et", "la", "le", "les", "sur", "en"}


def guess_kind(code: str) -> str:
    if code == "PP":
        return "police"
    return "region" if code.startswith("R") else "departement"


def guess_name(code: str, url: str) -> str:
    """A name to check by hand: from the host (``www.saint-pierre-et-miquelon.gouv.fr``)."""
    kind = guess_kind(code)
    if kind == "police":
        return "Préfecture de police"
    host = (urlsplit(url).hostname or "").removeprefix("www.").split(".")[0]
    words = [w if w in _SMALL_WORDS else w.capitalize() for w in host.split("-") if w]
    place = "-".join(words) or code
    return f"Préfecture de la région {code}" if kind == "region" else f"Préfecture ({place})"


def adapter_toml(code: str, url: str) -> str:
    # JSON strings are valid TOML basic strings: this escapes whatever the URL holds.
    return (
        f"code = {json.dumps(code)}\n"
        f"name = {json.dumps(guess_name(code, url), ensure_ascii=False)}  # check the name\n"
        f"kind = {json.dumps(guess_kind(code))}\n"
        f"timezone = {json.dumps(OVERSEAS_TIMEZONES.get(code, 'Europe/Paris'))}\n"
        'engine = "dsfr"\n'
        f"start_urls = [{json.dumps(url, ensure_ascii=False)}]\n"
        'notes = ""\n'
        "# Engine settings, only if the crawl misses bulletins (see docs/ARCHITECTURE.md):\n"
        "# [dsfr]\n"
        "# year_pattern = 'RAA[- ]*(\\d{4})'\n"
    )


def fixture_test(code: str) -> str:
    slug = code.lower()
    return f'''"""Fixture test of adapter {code}: fails until fixtures and EXPECTED are filled in.

1. Save the pages the crawl walks (start page, year/month pages, detail pages…) under
   fixtures/sites/{code}/ and list them in fixtures/sites/{code}/manifest.toml
   (format: src/attrap/adapters/fixtures.py); `attrap adapters check {code} --fixtures
   fixtures/sites/{code}` shows what the engine finds there.
2. Put every bulletin it must find in EXPECTED: (PDF URL, publication date or None).
"""

import asyncio
import datetime as dt
from pathlib import Path

from attrap.adapters.fixtures import FixtureFetcher
from attrap.adapters.maintain import crawl
from attrap.adapters.registry import load_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "sites" / "{code}"
NOT_BEFORE = dt.date(2024, 1, 1)
EXPECTED: list[tuple[str, dt.date | None]] = []


def test_adapter_{slug}_finds_its_bulletins():
    assert EXPECTED, "fill in EXPECTED and fixtures/sites/{code}/ (see this file's docstring)"
    spec = load_file(ROOT / "prefectures" / "{code}.toml")
    report = asyncio.run(crawl(spec, FixtureFetcher(FIXTURES), NOT_BEFORE))
    assert report.error is None
    assert sorted((r.url, r.published_on) for r in report.refs) == sorted(EXPECTED)
'''


def create_adapter(code: str, url: str, adapters_dir: Path, tests_dir: Path) -> tuple[Path, Path]:
    """Writes ``<adapters_dir>/CODE.toml`` and ``<tests_dir>/test_CODE.py``; never overwrites."""
    code = code.upper() if code.lower() in {"2a", "2b", "pp"} or code[:1] in "rR" else code
    if not _CODE.match(code):
        raise AdapterError(f"'{code}' is not an administration code (13, 2A, 974, PP, R11…)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AdapterError(f"'{url}' is not an http(s) URL")
    adapter = adapters_dir / f"{code}.toml"
    test = tests_dir / f"test_{code.lower()}.py"
    for path in (adapter, test):
        if path.exists():
            raise AdapterError(f"{path} already exists; not overwriting it")
    text = adapter_toml(code, url)
    AdapterSpec.model_validate(tomllib.loads(text))  # what we write must load
    adapters_dir.mkdir(parents=True, exist_ok=True)
    tests_dir.mkdir(parents=True, exist_ok=True)
    adapter.write_text(text, encoding="utf-8")
    test.write_text(fixture_test(code), encoding="utf-8")
    return adapter, test
