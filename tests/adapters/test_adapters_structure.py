"""The structure the dsfr engine decides on while it crawls (``DsfrStructure``: pagination order,
detail pages, ``<select>`` menus, levels), and the ``[dsfr]`` settings that pin it: a pinned
adapter keeps its behaviour on pages where detection would choose differently."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from dsfr_markup import card, pdf

from attrap.adapters.base import CrawlContext, Structure
from attrap.adapters.engines import get_engine, validate_spec
from attrap.adapters.engines.dsfr import DsfrStructure
from attrap.adapters.fixtures import FixtureFetcher
from attrap.adapters.maintain import CrawlReport, crawl, pin_lines, structure_lines
from attrap.adapters.registry import AdapterError, AdapterSpec, load_file

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
D = dt.date
HOST = "https://www.test.gouv.fr"
SECTION = f"{HOST}/Publications/RAA"
FILES = f"{HOST}/contenu/telechargement/1/2/file"


def downloads(*links: str) -> str:
    items = "".join(f"<li>{link}</li>" for link in links)
    return f'<div class="fr-downloads-group"><ul>{items}</ul></div>'


def pager(**links: str) -> str:
    items = "".join(
        f'<li><a class="fr-pagination__link fr-pagination__link--{role}" href="{href}">'
        f"{role}</a></li>"
        for role, href in links.items()
    )
    return f'<nav class="fr-pagination"><ul class="fr-pagination__list">{items}</ul></nav>'


def select(key: str, *options: tuple[str, str]) -> str:
    listed = "".join(f'<option value="{value}">{label}</option>' for value, label in options)
    return (
        f'<select class="fr-select" id="{key}"><option value="">Choisir</option>{listed}</select>'
    )


Page = str | tuple[str, tuple[tuple[str, str], ...]]  # a GET URL, or a POST URL and its form


def write_site(folder: Path, pages: dict[Page, str]) -> Path:
    folder.mkdir(exist_ok=True)
    manifest = []
    for index, (request, body) in enumerate(pages.items()):
        (folder / f"{index}.html").write_text(
            f"<html><body><main>{body}</main></body></html>", encoding="utf-8"
        )
        url, form = (request, None) if isinstance(request, str) else request
        entry = f'[[page]]\nurl = "{url}"\nfile = "{index}.html"\n'
        if form is not None:
            pairs = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in form)
            entry += f'method = "POST"\ndata = {{ {pairs} }}\n'
        manifest.append(entry)
    (folder / "manifest.toml").write_text("\n".join(manifest), encoding="utf-8")
    return folder


def site_spec(**dsfr: object) -> AdapterSpec:
    return AdapterSpec.model_validate(
        {
            "code": "99",
            "name": "Préfecture test",
            "kind": "departement",
            "engine": "dsfr",
            "start_urls": [SECTION],
            "dsfr": dsfr,
        }
    )


NOT_BEFORE = D(2024, 6, 1)


def discover(folder: Path, **dsfr: object) -> tuple[CrawlReport, FixtureFetcher, DsfrStructure]:
    fetcher = FixtureFetcher(folder)
    report = asyncio.run(crawl(site_spec(**dsfr), fetcher, NOT_BEFORE))
    assert isinstance(report.structure, DsfrStructure)
    return report, fetcher, report.structure


def names(report: CrawlReport) -> list[str]:
    return sorted(r.url.rsplit("/", 1)[-1] for r in report.refs)


# --- What the crawl decided, on the site families of SITES.md ---------------------------------

FAMILIES = [
    ("37", "a", D(2024, 6, 1)),
    ("01", "b", D(2024, 6, 1)),
    ("05", "c", D(2024, 6, 1)),
    ("44", "d", D(2024, 6, 1)),
    ("35", "e", D(2024, 6, 1)),
    ("77", "e", D(2024, 6, 1)),
    ("04", "f", D(2024, 9, 1)),
    ("23", "g", D(2024, 1, 1)),
    ("16", "h", D(2024, 6, 1)),
    ("66", "i", D(2024, 6, 1)),
]


def family_crawl(
    spec: AdapterSpec, family: str, not_before: dt.date
) -> tuple[list[tuple[str, dt.date | None]], list[str], DsfrStructure]:
    fetcher = FixtureFetcher(SITES / family)
    structures: list[Structure] = []
    context = CrawlContext(spec, fetcher, not_before, on_structure=structures.append)

    async def run() -> list[tuple[str, dt.date | None]]:
        return sorted([(r.url, r.published_on) async for r in get_engine("dsfr").discover(context)])

    refs = asyncio.run(run())
    (structure,) = structures
    assert isinstance(structure, DsfrStructure)
    return refs, fetcher.requested_urls, structure


@pytest.mark.parametrize(
    ("code", "family", "pins"),
    [
        ("37", "a", {"detail_pages": False, "select_menus": [], "levels": ["year"]}),
        ("01", "b", {"detail_pages": False, "select_menus": [], "levels": ["year", "month"]}),
        (
            "05",
            "c",
            {
                "pagination": "oldest-first",
                "detail_pages": True,
                "select_menus": [],
                "levels": ["year"],
            },
        ),
        (
            "44",
            "d",
            {"pagination": "newest-first", "detail_pages": True, "select_menus": [], "levels": []},
        ),
        (
            "35",
            "e",
            {
                "detail_pages": False,
                "select_menus": ["Archives-des-RAA-liste-docs"],
                "levels": ["year"],
            },
        ),
        ("23", "g", {"detail_pages": False, "select_menus": [], "levels": ["section", "year"]}),
    ],
)
def test_the_structure_each_family_is_read_with(code: str, family: str, pins: dict[str, object]):
    not_before = next(n for c, f, n in FAMILIES if (c, f) == (code, family))
    _, _, structure = family_crawl(
        load_file(REPO / "prefectures" / f"{code}.toml"), family, not_before
    )
    assert structure.pins() == pins
    assert structure.pinned == {}


@pytest.mark.parametrize(("code", "family", "not_before"), FAMILIES)
def test_pinning_the_detected_structure_changes_nothing(
    code: str, family: str, not_before: dt.date
):
    spec = load_file(REPO / "prefectures" / f"{code}.toml")
    refs, requested, structure = family_crawl(spec, family, not_before)
    extra = dict(spec.model_extra or {})
    extra["dsfr"] = {**extra.get("dsfr", {}), **structure.pins()}
    pinned = AdapterSpec.model_validate({**spec.model_dump(), **extra})
    validate_spec(pinned)
    pinned_refs, pinned_requested, pinned_structure = family_crawl(pinned, family, not_before)
    assert pinned_refs == refs
    assert pinned_requested == requested
    assert set(pinned_structure.pinned) == set(structure.pins())
    assert pin_lines(pinned_structure) == []  # nothing left to pin


# --- Pins on pages where detection decides otherwise ------------------------------------------


def featured_list(folder: Path) -> Path:
    """A list sorted oldest first whose first page shows a newer bulletin on top ("à la une"):
    its dates read newest first, so detection walks back from it and misses the last page."""
    return write_site(
        folder,
        {
            SECTION: downloads(
                pdf("une.pdf", "20/07/2024"),
                pdf("j05.pdf", "05/01/2024"),
                pdf("j12.pdf", "12/01/2024"),
            )
            + pager(next=f"{SECTION}/(offset)/3", last=f"{SECTION}/(offset)/6"),
            f"{SECTION}/(offset)/3": downloads(
                pdf("m03.pdf", "03/03/2024"),
                pdf("m04.pdf", "04/04/2024"),
                pdf("m05.pdf", "05/05/2024"),
            )
            + pager(
                first=SECTION,
                prev=SECTION,
                next=f"{SECTION}/(offset)/6",
                last=f"{SECTION}/(offset)/6",
            ),
            f"{SECTION}/(offset)/6": downloads(
                pdf("j10.pdf", "10/06/2024"),
                pdf("j20.pdf", "20/06/2024"),
                pdf("jl01.pdf", "01/07/2024"),
            )
            + pager(first=SECTION, prev=f"{SECTION}/(offset)/3"),
        },
    )


def test_pinned_pagination_order_overrides_what_the_dates_suggest(tmp_path: Path):
    site = featured_list(tmp_path)
    detected, fetcher, structure = discover(site)
    assert names(detected) == ["une.pdf"]  # detection read the first page newest first
    assert fetcher.requested_urls == [SECTION]
    assert structure.orders == {"newest-first": 1}

    pinned, fetcher, structure = discover(site, pagination="oldest-first")
    assert names(pinned) == ["j10.pdf", "j20.pdf", "jl01.pdf", "une.pdf"]
    assert f"{SECTION}/(offset)/6" in fetcher.requested_urls
    assert (
        structure.pagination == "oldest-first" and structure.pinned["pagination"] == "oldest-first"
    )
    lines = structure_lines(structure)
    assert any(
        line.startswith("pagination : du plus ancien au plus récent")
        and "épinglé" in line
        and "les dates de 1 page disent : du plus récent au plus ancien" in line
        for line in lines
    ), lines


def test_pinned_select_menus_leave_other_menus_alone(tmp_path: Path):
    # A theme filter beside the year menu: detection re-posts the page for every theme too
    # (here pages the site does not have: the crawl fails), the pin follows the years only.
    site = write_site(
        tmp_path,
        {
            SECTION: select("Liste-liste-docs", ("2024", "RAA 2024"), ("2023", "RAA 2023"))
            + select("filtre-theme", ("env", "Environnement"), ("sec", "Sécurité"))
            + downloads(pdf("current.pdf", "01/07/2024")),
            (SECTION, (("Liste-liste-docs", "2024"),)): downloads(pdf("y2024.pdf", "02/07/2024")),
        },
    )
    detected, _, _ = discover(site)
    assert detected.error is not None and "filtre-theme" in str(detected.error)

    pinned, fetcher, structure = discover(site, select_menus=["Liste-liste-docs"])
    assert pinned.error is None
    assert names(pinned) == ["current.pdf", "y2024.pdf"]
    assert [r.data for r in fetcher.requests] == [None, {"Liste-liste-docs": "2024"}]
    assert structure.selects == {"Liste-liste-docs": "POST"}
    assert structure.pins()["select_menus"] == ["Liste-liste-docs"]

    none, fetcher, _ = discover(site, select_menus=[])
    assert names(none) == ["current.pdf"] and len(fetcher.requests) == 1


def test_pinned_levels_follow_only_links_of_each_level(tmp_path: Path):
    # A stray link whose text names a month leads out of the year → list structure.
    site = write_site(
        tmp_path,
        {
            SECTION: card("RAA 2024", f"{SECTION}/RAA-2024")
            + '<p><a href="/Publications/RAA/Arretes-juillet-2024">Arrêtés de juillet 2024</a></p>',
            f"{SECTION}/RAA-2024": downloads(pdf("raa.pdf", "02/07/2024")),
            f"{SECTION}/Arretes-juillet-2024": downloads(pdf("arrete.pdf", "03/07/2024")),
        },
    )
    detected, _, structure = discover(site)
    assert names(detected) == ["arrete.pdf", "raa.pdf"]
    assert structure.bulletin_pages == {("year",): 1, ("month",): 1}
    assert structure.levels is None  # chains that disagree: nothing to suggest

    pinned, fetcher, structure = discover(site, levels=["year"])
    assert names(pinned) == ["raa.pdf"]
    assert f"{SECTION}/Arretes-juillet-2024" not in fetcher.requested_urls
    assert structure.levels == ("year",)


def test_pinned_detail_pages(tmp_path: Path):
    # A list of bulletins with a dated communiqué card: detection takes it for a detail page.
    site = write_site(
        tmp_path,
        {
            SECTION: downloads(pdf("raa-101.pdf", "01/07/2024"))
            + card("Communiqué n°12", f"{SECTION}/Communique-12", "Publié le 12/07/2024"),
            f"{SECTION}/Communique-12": downloads(pdf("communique.pdf", "12/07/2024")),
        },
    )
    detected, _, structure = discover(site)
    assert names(detected) == ["communique.pdf", "raa-101.pdf"]
    assert structure.detail_pages == 1

    pinned, fetcher, structure = discover(site, detail_pages=False)
    assert names(pinned) == ["raa-101.pdf"]
    assert fetcher.requested_urls == [SECTION]
    assert "pages de détail : non suivies — épinglé" in structure_lines(structure)


def test_detail_pages_pinned_true_takes_every_card_dated_to_a_day_for_one(tmp_path: Path):
    # "Juillet 2024" published on 1 July: detection sees a month's page that keeps growing, the
    # pin a bulletin's page that an incremental crawl need not read again.
    month = f"{SECTION}/Juillet-2024"
    site = write_site(
        tmp_path,
        {
            SECTION: card("Juillet 2024", month, "Publié le 01/07/2024"),
            month: downloads(pdf("raa.pdf", "01/07/2024")),
        },
    )
    _, _, structure = discover(site)
    assert structure.detail_pages == 0
    _, _, structure = discover(site, detail_pages=True)
    assert structure.detail_pages == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[dsfr]\npagination = 'newest'\n",
            r"clé 'dsfr.pagination' : valeur attendue : 'newest-first'",
        ),
        (
            "[dsfr]\ndetail_pages = 'maybe'\n",
            r"clé 'dsfr.detail_pages' : true ou false attendu",
        ),
        ("[dsfr]\nselect_menus = ['']\n", r"clé 'dsfr.select_menus.0'"),
        ("[dsfr]\nselect_menus = 'Liste'\n", r"clé 'dsfr.select_menus'"),
        (
            "[dsfr]\nlevels = ['year', 'week']\n",
            r"clé 'dsfr.levels.1' : valeur attendue : 'section'",
        ),
        ("[dsfr]\npaginaton = 'newest-first'\n", r"clé inconnue 'dsfr.paginaton'"),
    ],
)
def test_invalid_pins_are_one_line_errors_naming_the_file(tmp_path: Path, extra: str, message: str):
    path = tmp_path / "99.toml"
    path.write_text(
        'code = "99"\nname = "Préfecture test"\nkind = "departement"\nengine = "dsfr"\n'
        f'start_urls = ["{SECTION}"]\n{extra}',
        encoding="utf-8",
    )
    with pytest.raises(AdapterError, match=message) as error:
        validate_spec(load_file(path))
    assert str(error.value).startswith(f"{path} : ")
    assert "\n" not in str(error.value)
