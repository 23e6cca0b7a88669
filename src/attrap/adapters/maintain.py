"""Maintainers' tools behind ``attrap adapters new`` and ``attrap adapters check``: crawl an
administration from saved pages or live, record a live crawl (``--record``) as a fixture folder,
and describe the structure the engine decided on (in French, for the CLI)."""

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

from attrap.adapters.base import CrawlContext, DocumentRef, PageFetcher, Structure
from attrap.adapters.engines import get_engine, validate_spec
from attrap.adapters.engines.dsfr import DsfrStructure
from attrap.adapters.fixtures import (
    MANIFEST,
    FixtureError,
    FixtureFetcher,
    RecordedBulletin,
    Recording,
    RecordingFetcher,
    check_recording_target,
    is_recording,
    read_manifest,
    toml_value,
    write_recording,
)
from attrap.adapters.registry import AdapterError, AdapterSpec, load_adapters, select_adapters
from attrap.config import Settings
from attrap.fetching import FetchError


@dataclass
class CrawlReport:
    """What one crawl found (newest first), the error that stopped it, if any, and the
    structure the engine decided on. A recorded crawl also says how many pages the site
    answered and where the recording went (None: not written, the crawl was not ``ok``)."""

    refs: list[DocumentRef] = field(default_factory=list)
    error: Exception | None = None
    pages: int | None = None
    structure: Structure | None = None
    recorded: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.refs)

    @property
    def unanswered(self) -> bool:
        """A recorded crawl to which the site answered no page at all."""
        return self.pages == 0 and isinstance(self.error, FetchError)


def newest_first(refs: list[DocumentRef]) -> list[DocumentRef]:
    dated = [r for r in refs if r.published_on is not None]
    dated.sort(key=lambda r: r.published_on or dt.date.min, reverse=True)
    return dated + [r for r in refs if r.published_on is None]


async def crawl(spec: AdapterSpec, fetcher: PageFetcher, not_before: dt.date) -> CrawlReport:
    """Runs the adapter's engine to the end, keeping what it found before any error."""
    report = CrawlReport()

    def keep(structure: Structure) -> None:
        report.structure = structure

    try:
        validate_spec(spec)
        engine = get_engine(spec.engine)
        report.structure = Structure(engine.name)  # unless the engine gives a richer one
        context = CrawlContext(spec, fetcher, not_before, on_structure=keep)
        async for ref in engine.discover(context):
            report.refs.append(ref)
    except Exception as exc:  # a maintainer's check shows every failure instead of a traceback
        report.error = exc
    report.refs = newest_first(report.refs)
    return report


# How the maintainers' tools open a live fetcher: the CLI passes ``attrap.http.HttpClient``,
# which adapters do not import.
LiveFetcher = Callable[[Settings], AbstractAsyncContextManager[PageFetcher]]


async def check_adapter(
    settings: Settings,
    code: str,
    fixtures: Path | None,
    live: LiveFetcher,
    *,
    record: Path | None = None,
) -> CrawlReport:
    """Crawls one administration: from a fixture folder, live through ``live(settings)``, or
    live recorded under ``record`` (the folder of recordings, ``fixtures/sites``)."""
    (spec,) = select_adapters(load_adapters(settings), [code])
    not_before = settings.crawl.not_before
    if fixtures is not None:
        if is_recording(fixtures):
            recording = read_manifest(fixtures).recording
            if recording is not None and recording.code == spec.code:
                return await replay(spec, fixtures)
        fetcher = FixtureFetcher(fixtures)
        report = await crawl(spec, fetcher, not_before)
        report.pages = len(fetcher.requests)
        return report
    if record is not None:
        return await record_site(settings, spec, record, live)
    async with live(settings) as client:
        return await crawl(spec, client, not_before)


async def replay(spec: AdapterSpec, folder: Path) -> CrawlReport:
    """Crawls the recording in ``folder`` as it was recorded: from its start URLs (a recording
    of a test server, or made with ``[adapters.overrides]``, has its own) and its
    ``not_before``, with the adapter's current settings."""
    recording = read_manifest(folder).recording
    if recording is None:
        raise FixtureError(
            f"{folder / MANIFEST} : pas un enregistrement (pas de table [recording])"
        )
    spec = spec.model_copy(update={"start_urls": list(recording.start_urls)})
    fetcher = FixtureFetcher(folder)
    report = await crawl(spec, fetcher, recording.not_before)
    report.pages = len(fetcher.requests)
    return report


async def record_site(
    settings: Settings, spec: AdapterSpec, sites: Path, live: LiveFetcher
) -> CrawlReport:
    """Crawls the site live through ``live(settings)`` (the real, polite ``HttpClient``),
    keeping every page it reads;
    when the crawl found bulletins without error, writes them and the pages as the recording
    ``sites/CODE/``, replacing an earlier one. Raises ``RecordingError`` before any request
    when that folder holds fixtures that are not a recording."""
    folder = sites / spec.code
    check_recording_target(folder)
    not_before = settings.crawl.not_before
    async with live(settings) as client:
        recorder = RecordingFetcher(client)
        report = await crawl(spec, recorder, not_before)
    report.pages = len(recorder.answers)
    if report.ok:
        structure = report.structure or Structure(spec.engine)
        recording = Recording(
            code=spec.code,
            engine=spec.engine,
            not_before=not_before,
            start_urls=list(spec.start_urls),
            structure=structure.pins(),
        )
        bulletins = [RecordedBulletin.of(ref) for ref in report.refs]
        write_recording(folder, recording, recorder.answers.values(), bulletins)
        report.recorded = folder
    return report


# --- What the engine decided, in French ------------------------------------------------------

ORDERS = {
    "newest-first": "du plus récent au plus ancien",
    "oldest-first": "du plus ancien au plus récent",
}
LEVELS = {"section": "rubrique", "year": "année", "month": "mois", "day": "jour"}


def _pages(count: int) -> str:
    return f"{count} page{'s' if count > 1 else ''}"


def _chain(levels: tuple[str, ...] | list[str]) -> str:
    return " → ".join(LEVELS.get(level, level) for level in levels) or "la page de départ"


def structure_lines(structure: Structure) -> list[str]:
    """What the crawl decided about the site's structure, one French line per choice."""
    if not isinstance(structure, DsfrStructure):
        return [f"moteur (famille de sites) : {structure.engine}, parcours fixe"]
    pinned = structure.pinned

    def mark(key: str) -> str:
        return " — épinglé" if key in pinned else ""

    lines = [f"moteur (famille de sites) : {structure.engine}"]
    orders = structure.orders
    paginated = sum(orders.values())
    order = structure.pagination
    if order is not None:
        detail = f"{ORDERS[order]} ({_pages(paginated)} de liste)"
        other = "oldest-first" if order == "newest-first" else "newest-first"
        if "pagination" in pinned and orders[other]:
            detail += f" ; les dates de {_pages(orders[other])} disent : {ORDERS[other]}"
        lines.append(f"pagination : {detail}{mark('pagination')}")
    elif paginated:
        lines.append(
            f"pagination : sens indéterminé ({_pages(paginated)} sans dates qui le disent)"
        )
    else:
        lines.append("pagination : aucune liste paginée")
    if structure.detail_pages:
        lines.append(
            f"pages de détail : suivies ({_pages(structure.detail_pages)}){mark('detail_pages')}"
        )
    elif pinned.get("detail_pages") is False:
        lines.append("pages de détail : non suivies — épinglé")
    else:
        lines.append("pages de détail : aucune")
    if structure.selects:
        menus = ", ".join(
            f"{key or '(sans id ni nom)'} ({how}, {_pages(structure.select_pages[key])})"
            for key, how in sorted(structure.selects.items())
        )
        lines.append(f"menus déroulants : {menus}{mark('select_menus')}")
    else:
        lines.append(f"menus déroulants : aucun{mark('select_menus')}")
    chains = sorted(structure.bulletin_pages.items(), key=lambda item: (-len(item[0]), item[0]))
    if chains:
        described = ", ".join(f"{_chain(levels)} ({_pages(n)})" for levels, n in chains)
        lines.append(f"niveaux jusqu'aux bulletins : {described}{mark('levels')}")
    else:
        lines.append(f"niveaux jusqu'aux bulletins : aucune page à bulletins{mark('levels')}")
    return lines


def pin_lines(structure: Structure) -> list[str]:
    """The engine table lines that pin this crawl's choices; empty when they all are."""
    pins = structure.pins()
    pinned = structure.pinned if isinstance(structure, DsfrStructure) else {}
    same = all(_same(pinned.get(key), value) for key, value in pins.items())
    if not pins or same:
        return []
    return [
        f"[{structure.engine}]",
        *(f"{key} = {toml_value(value)}" for key, value in pins.items()),
    ]


def _same(pinned: object, value: object) -> bool:
    if isinstance(pinned, tuple):
        pinned = list(pinned)
    return pinned == value


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


def adapter_toml(code: str, url: str, pins: list[str] | None = None) -> str:
    """The adapter file; ``pins``: the engine table pinning the structure a first crawl
    detected, written as a comment to uncomment when detection goes wrong."""
    # JSON strings are valid TOML basic strings: this escapes whatever the URL holds.
    text = (
        f"code = {json.dumps(code)}\n"
        f"name = {json.dumps(guess_name(code, url), ensure_ascii=False)}  # check the name\n"
        f"kind = {json.dumps(guess_kind(code))}\n"
        f"timezone = {json.dumps(OVERSEAS_TIMEZONES.get(code, 'Europe/Paris'))}\n"
        'engine = "dsfr"\n'
        f"start_urls = [{json.dumps(url, ensure_ascii=False)}]\n"
        'notes = ""\n'
    )
    if pins:
        return text + (
            "# The structure the first crawl detected; uncomment to pin it, so that the crawl\n"
            "# no longer decides it page by page (README, « Pinning a site's structure »):\n"
            + "".join(f"# {line}\n" for line in pins)
        )
    return text + (
        "# Engine settings, only if the crawl misses bulletins (see docs/ARCHITECTURE.md):\n"
        "# [dsfr]\n"
        "# year_pattern = 'RAA[- ]*(\\d{4})'\n"
    )


@dataclass
class NewAdapter:
    """What ``attrap adapters new`` did: the adapter file written (None: nothing was written,
    the site did not answer) and the recorded crawl (None: not recorded)."""

    adapter: Path | None
    report: CrawlReport | None


def plan_adapter(code: str, url: str, adapters_dir: Path) -> tuple[str, Path]:
    """The administration's code, normalised, and the adapter file to write; raises
    ``AdapterError`` for a bad code or URL, or a file that exists (never overwritten)."""
    code = code.upper() if code.lower() in {"2a", "2b", "pp"} or code[:1] in "rR" else code
    if not _CODE.match(code):
        raise AdapterError(f"'{code}' n'est pas un code d'administration (13, 2A, 974, PP, R11…)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AdapterError(f"'{url}' n'est pas une URL http(s)")
    adapter = adapters_dir / f"{code}.toml"
    if adapter.exists():
        raise AdapterError(f"{adapter} existe déjà ; il n'est pas remplacé")
    return code, adapter


async def new_adapter(
    settings: Settings,
    code: str,
    url: str,
    adapters_dir: Path,
    sites: Path,
    live: LiveFetcher,
    *,
    record: bool,
) -> NewAdapter:
    """Writes ``<adapters_dir>/CODE.toml`` after recording the site under ``sites/CODE/``
    (``record_site``: only when its crawl found bulletins), with the structure the crawl
    detected as a comment. Writes nothing when the site answers no page."""
    code, adapter = plan_adapter(code, url, adapters_dir)
    spec = AdapterSpec.model_validate(tomllib.loads(adapter_toml(code, url)))  # it must load
    spec.source = adapter
    report = None
    pins: list[str] = []
    if record:
        report = await record_site(settings, spec, sites, live)
        if report.unanswered:
            return NewAdapter(None, report)
        if report.ok and report.structure is not None:
            pins = pin_lines(report.structure)
    adapters_dir.mkdir(parents=True, exist_ok=True)
    adapter.write_text(adapter_toml(code, url, pins), encoding="utf-8")
    return NewAdapter(adapter, report)
