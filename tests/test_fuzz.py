"""Property-based tests (hypothesis) of what reads text written by others: normalisation,
segmentation, French dates, the facts of an order, listing pages of the sites (saved pages of
``fixtures/sites`` mutated: nodes dropped, duplicated and moved, attributes and text garbled) and
configuration files. No exception escapes and the results keep their invariants.

Profiles (``tests/conftest.py``): ``ci`` by default (few examples, derandomised, no example
database: the same examples on every run), ``long`` with ``ATTRAP_HYPOTHESIS_PROFILE=long``.
A bug found is fixed and kept as an ``@example``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import string
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from hypothesis import example, given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from attrap.adapters.base import CrawlContext, DocumentRef
from attrap.adapters.engines import get_engine
from attrap.adapters.engines.common import find_date, find_period
from attrap.adapters.fixtures import FixtureError, FixtureFetcher
from attrap.adapters.registry import AdapterError, load_file
from attrap.config import ConfigError, load_settings
from attrap.documents.pages import PageText
from attrap.documents.segment import segment, signature_date
from attrap.facts.extract import extract_facts
from attrap.facts.model import ActContext, Facts
from attrap.facts.purposes import PURPOSES
from attrap.fetching import FetchError, HtmlPage
from attrap.french import long_date, weekday_date
from attrap.matching.normalise import fold, normalise
from bench.bench_adapters import FAMILIES

REPO = Path(__file__).resolve().parents[1]
# Dates the parsers accept as plausible (adapters: 1990 to next year).
FIRST_DAY = dt.date(1990, 1, 1)
LAST_DAY = dt.date(dt.date.today().year + 1, 12, 31)

# --- text made of the pieces real acts are made of ------------------------------------------

WORDS = [
    "PRÉFET DES BOUCHES-DU-RHÔNE", "Préfecture de police", "RÉPUBLIQUE FRANÇAISE", "ARRÊTE",
    "Arrêté", "arrêté préfectoral", "portant autorisation", "n°", "13-2024-07-10-00003",
    "2024/DDSP/123", "Vu", "Considérant", "Article 1er", "Article 2", "Art. 3", "Fait à Marseille,",
    "le", "du", "au", "de", "à", "et", "les", "jusqu'au", "inclus", "à compter du",
    "à compter de sa publication", "pour une durée de", "quinze jours", "un mois", "trois",
    "heures", "h", "h 30", "midi", "minuit", "le lendemain", "1er", "31", "29", "30", "12", "0",
    "janvier", "février", "fevr.", "aout", "août", "juiIlet", "décembre", "lundi", "samedi",
    "2024", "2025", "1899", "2099", "24h/24", "01/05/2025", "31/02/2025", "2025-13-40", "SOMMAIRE",
    "……… 12", "Page 3", "caméras", "aéronefs", "aéro-\nnefs", "drones", "L. 242-5",
    "vidéoprotection", "Marseille", "Paris", "Saint-Denis", "DIPN", "gendarmerie", "RATP",
    "une seule caméra", "à la fois", "simultanément", "«", "»", ";", ".", ",", ":", "-", "–",
    "(", ")", "\n", "\n\n", " ", "\u00ad", "ﬁ", "œ", "²", "İ", "ß", "\x00", "\ufeff",
]  # fmt: skip
pieces = st.one_of(st.sampled_from(WORDS), st.text(max_size=6))
act_text = st.lists(pieces, max_size=60).map(" ".join)
contexts = st.builds(
    ActContext,
    timezone=st.sampled_from(["Europe/Paris", "America/Martinique", "Indian/Reunion"]),
    departments=st.sampled_from([(), ("13",), ("75", "92", "93", "94"), ("974",)]),
    signed_on=st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
    published_on=st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
)


# --- normalisation -----------------------------------------------------------------------------


@given(st.one_of(act_text, st.text()))
def test_normalise_keeps_a_map_back_to_the_original(text: str) -> None:
    folded = normalise(text)
    assert len(folded.origin) == len(folded.text)
    assert list(folded.origin) == sorted(folded.origin)
    assert all(0 <= index < len(text) for index in folded.origin)
    assert "  " not in folded.text
    assert folded.text == folded.text.strip()
    assert all(c.isalnum() or c == " " for c in folded.text)
    for start in range(0, len(folded.text) + 1, 7):
        begin, end = folded.span_in_original(start, min(len(folded.text), start + 5))
        assert 0 <= begin <= end <= len(text)


@given(st.one_of(act_text, st.text()))
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


# --- segmentation ------------------------------------------------------------------------------

page_texts = st.lists(st.lists(pieces, max_size=12).map(" ".join), max_size=25).map("\n".join)


@given(st.lists(page_texts, max_size=8), st.integers(1, 500))
def test_segmentation_places_acts_in_order_inside_the_bulletin(texts: list[str], first: int):
    pages = [PageText(first + i, text, "text-layer") for i, text in enumerate(texts)]
    acts = segment(pages)
    if not pages:
        assert acts == []
        return
    assert acts, "no text is ever dropped: at least one act"
    numbers = [page.number for page in pages]
    for act in acts:
        assert numbers[0] <= act.page_start <= act.page_end <= numbers[-1]
        assert [page.number for page in act.pages] == sorted({p.number for p in act.pages})
        assert act.pages[0].number == act.page_start and act.pages[-1].number == act.page_end
        assert act.signed_on is None or FIRST_DAY.year - 100 < act.signed_on.year < 2100
        assert "\n" not in act.title
    for before, after in itertools.pairwise(acts):
        # Acts follow one another; two may share the page where one ends and the next begins.
        assert before.page_end <= after.page_start


# --- French dates ------------------------------------------------------------------------------


@given(st.dates(FIRST_DAY, LAST_DAY))
def test_dates_written_in_french_are_read_back(day: dt.date) -> None:
    assert find_date(long_date(day)) == day
    assert find_date(f"Recueil du {weekday_date(day)}") == day
    assert find_date(f"{day:%d/%m/%Y}") == day
    assert signature_date(f"Fait à Marseille, le {long_date(day)}") == day
    assert find_period(f"RAA {day.year}") is not None


@given(st.one_of(act_text, st.text()), st.none() | st.integers(1900, 2100))
def test_listing_dates_and_periods_are_valid(text: str, year: int | None) -> None:
    day = find_date(text)
    assert day is None or FIRST_DAY <= day <= LAST_DAY
    period = find_period(text, year=year)
    assert period is None or period.start <= period.end


# --- facts of an order -------------------------------------------------------------------------

PURPOSE_CODES = {purpose.code for purpose in PURPOSES}


def check_facts(facts: Facts, context: ActContext) -> None:
    zone = ZoneInfo(context.timezone)
    for period in facts.periods:
        assert period.start.tzinfo is not None
        assert period.start.utcoffset() == period.start.astimezone(zone).utcoffset()
        assert period.end is None or period.start <= period.end
    starts = [period.start for period in facts.periods]
    assert starts == sorted(starts)
    for commune in facts.communes:
        assert commune.name
        assert commune.insee is None or (len(commune.insee) == 5 and commune.insee.isalnum())
    assert facts.max_cameras is None or facts.max_cameras > 0
    assert facts.max_aircraft is None or facts.max_aircraft > 0
    assert set(facts.purposes) <= PURPOSE_CODES
    assert Facts.from_json(facts.to_json()) == facts


@given(act_text, contexts)
def test_facts_of_any_text_keep_their_invariants(text: str, context: ActContext) -> None:
    check_facts(extract_facts(text, context), context)


period_words = st.sampled_from(
    ["du", "au", "le", "les", "et", "de", "à", "jusqu'au", "à compter du", "pour une durée de",
     "inclus", "heures", "h", "midi", "minuit", "le lendemain", "1er", "lundi", "jours", "mois"]
)  # fmt: skip
numbers = st.integers(0, 40).map(str)
months = st.sampled_from(["janvier", "février", "mars", "juin", "juillet", "août", "décembre"])
years = st.sampled_from(["2024", "2025", "2026", ""])


@given(st.lists(st.one_of(period_words, numbers, months, years), max_size=30), contexts)
def test_periods_of_date_phrases_start_before_they_end(words: list[str], context: ActContext):
    text = "Article 1er : La captation est autorisée " + " ".join(words) + "."
    check_facts(extract_facts(text, context), context)


# --- listing pages of the sites, mutated -------------------------------------------------------

mutations = st.lists(
    st.tuples(
        st.sampled_from(["drop", "duplicate", "move", "attribute", "text", "truncate"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.text(string.printable + "éàû°«»/#?&=%", max_size=12),
    ),
    max_size=6,
)


def mutate(html: str, steps: list[tuple[str, int, int, str]]) -> str:
    """``html`` with nodes dropped, duplicated or moved, an attribute or a text garbled, or the
    page cut short."""
    tree = LexborHTMLParser(html)
    if tree.body is None:
        return html
    for operation, first, second, garbage in steps:
        elements = [node for node in tree.body.traverse() if node.tag not in ("-text", "body")]
        texts = [node for node in tree.body.traverse(include_text=True) if node.is_text_node]
        if operation == "truncate":
            return (tree.html or "")[: first * 10]
        if operation == "text" and texts:
            node = texts[first % len(texts)]
            value = node.text_content or ""
            cut = second % (len(value) + 1)
            node.replace_with(value[:cut] + garbage + value[cut:])
            continue
        if not elements:
            continue
        node = elements[first % len(elements)]
        if operation == "drop":
            node.decompose()
        elif operation == "duplicate":
            node.insert_after(LexborHTMLParser(node.html or "").body or "")
        elif operation == "move":
            target = elements[second % len(elements)]
            if target is not node and node not in list(target.traverse()):
                html_of = node.html or ""
                node.decompose()
                target.insert_before(html_of)
        elif operation == "attribute":
            names = list(node.attributes)
            if names:
                node.attrs[names[second % len(names)]] = garbage
            else:
                node.attrs["href"] = garbage
    return tree.html or ""


class MutatingFetcher(FixtureFetcher):
    """The saved site, each page it serves mutated by the steps drawn for it."""

    def __init__(self, folder: Path, draw: st.DataObject) -> None:
        super().__init__(folder)
        self.draw = draw

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        try:
            page = await super().fetch_html(url, method=method, data=data)
        except FixtureError:
            # A garbled link leads off the saved pages: the site answers another of its pages,
            # as sites answer unknown URLs with a page of their own, and the crawl goes on.
            files = sorted(self.folder.glob("*.html"))
            page = HtmlPage(url, self.draw.draw(st.sampled_from(files)).read_text("utf-8"))
        steps = self.draw.draw(mutations, label=f"mutations of {url}")
        return HtmlPage(page.url, mutate(page.text, steps))


async def discover_all(fetcher: FixtureFetcher, code: str) -> list[DocumentRef]:
    spec = load_file(REPO / "prefectures" / f"{code}.toml")
    engine = get_engine(spec.engine)
    return [ref async for ref in engine.discover(CrawlContext(spec, fetcher, dt.date(2020, 1, 1)))]


@pytest.mark.parametrize("family", sorted(FAMILIES))
@given(draw=st.data())
def test_engines_read_mutated_listing_pages(family: str, draw: st.DataObject) -> None:
    fetcher = MutatingFetcher(REPO / "fixtures" / "sites" / family, draw)
    try:
        refs = asyncio.run(discover_all(fetcher, FAMILIES[family]))
    except (AdapterError, FetchError):
        return  # a readable, recorded error: a mutated link may lead off the saved site
    urls = [ref.url for ref in refs]
    assert len(urls) == len(set(urls))
    for ref in refs:
        parts = urlsplit(ref.url)
        assert parts.scheme in ("http", "https") and parts.hostname
        assert ref.published_on is None or FIRST_DAY <= ref.published_on <= LAST_DAY
        assert "\n" not in ref.title


# --- configuration files -----------------------------------------------------------------------

SECTIONS = {
    "database": ["url"],
    "storage": ["data_dir"],
    "crawl": ["not_before", "min_delay_s", "max_download_runs", "timeout_s"],
    "adapters": ["paths", "only"],
    "ocr": ["workers", "dpi", "languages"],
    "matching": ["rules"],
    "notify": ["since", "lease_s", "webhook", "email", "mastodon"],
    "schedule": ["every_minutes", "office_hours", "office_days", "jitter_s"],
    "web": ["host", "port"],
}
keys = st.one_of(st.sampled_from(sorted({k for ks in SECTIONS.values() for k in ks})), st.text())
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.text(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(
    st.one_of(st.sampled_from(sorted(SECTIONS)), st.text(max_size=8)),
    st.one_of(st.dictionaries(keys, values, max_size=5), values),
    max_size=5,
)


def check_config(path: Path) -> None:
    try:
        load_settings(path)
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message, message


@given(documents)
@example({"\n": {}})  # an unknown key was quoted with its line break
@example({"web": {"port": "8000\n"}})
def test_any_toml_document_loads_or_is_one_line_of_error(tmp_path_factory, document) -> None:
    path = tmp_path_factory.mktemp("config") / "attrap.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    check_config(path)


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_file_loads_or_is_one_line_of_error(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("config") / "attrap.toml"
    path.write_bytes(raw)
    check_config(path)
