"""Each site family of docs SITES.md, crawled from its fixtures with the real adapter file: the
exact bulletins (URL, date) found, and the pages before ``not_before`` never requested; then
crawled again with what the first crawl found, asking the site for what is new only.

Every test runs twice: through ``FixtureFetcher`` (what ``attrap adapters check --fixtures``
uses) and through the project's ``HttpClient`` with the fixtures served by respx (redirects,
cookies and POST forms over real httpx)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import respx
from site_mock import fixture_routes

from attrap.adapters.base import CrawlContext, DocumentRef
from attrap.adapters.engines import get_engine
from attrap.adapters.fixtures import FixtureFetcher, FixtureRequest
from attrap.adapters.registry import AdapterError, AdapterSpec, load_file
from attrap.config import Settings
from attrap.http import HttpClient
from local_server import FakeResolver

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
D = dt.date


TRANSPORTS = ["fixture-fetcher", "http-client"]
transport = TRANSPORTS[0]


@pytest.fixture(autouse=True, params=TRANSPORTS)
def _transport(request: pytest.FixtureRequest) -> None:
    global transport
    transport = request.param


class Recorded:
    """What a crawl through ``HttpClient`` asked respx for, shaped like ``FixtureFetcher``."""

    def __init__(self, folder: Path, router: respx.MockRouter) -> None:
        self.pages = FixtureFetcher(folder).pages
        self.requests = [
            FixtureRequest(
                call.request.method,
                str(call.request.url),
                dict(parse_qsl(call.request.content.decode())) or None,
            )
            for call in router.calls
        ]
        self.requested_urls = [r.url for r in self.requests]


@dataclass(frozen=True)
class Earlier:
    """What the crawl stage tells an engine after a crawl from ``since`` that found ``refs``
    and finished (``since=None``: it did not finish)."""

    refs: list[DocumentRef]
    since: dt.date | None

    def context(
        self, spec: AdapterSpec, fetcher: FixtureFetcher | HttpClient, not_before: dt.date
    ) -> CrawlContext:
        urls = {r.url for r in self.refs} | {r.found_on for r in self.refs if r.found_on}
        return CrawlContext(spec, fetcher, not_before, urls.__contains__, self.since)


def crawl(
    code: str,
    family: str,
    not_before: dt.date,
    spec: AdapterSpec | None = None,
    *,
    site: Path | None = None,
    earlier: Earlier | None = None,
) -> tuple[list[DocumentRef], FixtureFetcher | Recorded]:
    """Crawl the fixtures of ``family`` (or the folder ``site``), knowing what ``earlier`` found."""
    spec = spec or load_file(REPO / "prefectures" / f"{code}.toml")
    engine = get_engine(spec.engine)
    folder = site or SITES / family

    async def collect(fetcher: FixtureFetcher | HttpClient) -> list[DocumentRef]:
        if earlier is None:
            context = CrawlContext(spec, fetcher, not_before)
        else:
            context = earlier.context(spec, fetcher, not_before)
        return [ref async for ref in engine.discover(context)]

    if transport == "fixture-fetcher":
        fetcher = FixtureFetcher(folder)
        return asyncio.run(collect(fetcher)), fetcher

    settings = Settings.model_validate({"crawl": {"min_delay_s": 0, "max_attempts": 1}})

    async def over_http() -> list[DocumentRef]:
        async with HttpClient(settings, resolver=FakeResolver()) as client:
            return await collect(client)

    with respx.mock(assert_all_called=False) as router:
        fixture_routes(router, folder)
        refs = asyncio.run(over_http())
        return refs, Recorded(folder, router)


def found(refs: list[DocumentRef]) -> list[tuple[str, dt.date | None]]:
    return sorted(((r.url, r.published_on) for r in refs), key=lambda p: (str(p[1]), p[0]))


def expect(*pairs: tuple[str, dt.date | None]) -> list[tuple[str, dt.date | None]]:
    return sorted(pairs, key=lambda p: (str(p[1]), p[0]))


def assert_never_requested(fetcher: FixtureFetcher, *urls: str) -> None:
    known = {page.url for page in fetcher.pages.values()}
    for url in urls:
        assert url in known, f"{url} is not in the fixtures: the assertion would prove nothing"
        assert url not in fetcher.requested_urls, f"{url} was requested"


def test_a_year_cards_to_a_flat_list():
    host = "https://www.indre-et-loire.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("37", "a", D(2024, 6, 1))
    assert found(refs) == expect(
        (
            f"{files}/50101/400101/file/RAA%20n%C2%B037-2025-101%20du%2012%20mars%202025.pdf",
            D(2025, 3, 12),
        ),
        (f"{files}/50102/400102/file/RAA+special+n%C2%B012.pdf", D(2025, 2, 3)),
        (f"{files}/48810/391002/file/RAA%20n%C2%B037-2024-250.pdf", D(2024, 12, 20)),
        (f"{files}/48790/390950/file/recueil-septembre.pdf", D(2024, 9, 2)),
        (f"{files}/48701/390801/file/RAA_2024-07-16.pdf", D(2024, 7, 16)),
        (f"{files}/48650/390700/file/RAA_37-2024-120.pdf", D(2024, 6, 3)),
    )
    titles = {r.url.rsplit("/", 1)[-1]: r.title for r in refs}
    assert titles["RAA+special+n%C2%B012.pdf"] == "Recueil spécial n°12"  # detail span removed
    section = f"{host}/Publications/Recueil-actes-administratifs"
    assert_never_requested(
        fetcher, f"{section}/Recueil-des-actes-administratifs-2023", f"{section}/2022"
    )
    assert len(fetcher.requests) == 3


def test_b_year_month_list_with_months_named_without_year():
    files = "https://www.ain.gouv.fr/contenu/telechargement"
    refs, fetcher = crawl("01", "b", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/70220/510220/file/RAA%20n%C2%B001-2024-08-002.pdf", D(2024, 8, 22)),
        (f"{files}/70210/510210/file/RAA%20n%C2%B001-2024-08-001.pdf", D(2024, 8, 6)),
        (f"{files}/70190/510190/file/RAA%20special%20n%C2%B001-2024-07-009.pdf", D(2024, 7, 13)),
        (f"{files}/70180/510180/file/RAA%20n%C2%B001-2024-07-001.pdf", D(2024, 7, 2)),
        (f"{files}/70150/510150/file/RAA%20n%C2%B001-2024-06-001.pdf", D(2024, 6, 14)),
    )
    section = "https://www.ain.gouv.fr/Publications/Recueil-des-actes-administratifs-RAA"
    assert_never_requested(fetcher, f"{section}/2023", f"{section}/2024/Mai")


def test_c_oldest_first_pagination_jumps_to_the_last_page():
    files = "https://www.hautes-alpes.gouv.fr/contenu/telechargement"
    refs, fetcher = crawl("05", "c", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/600053/440053/file/RAA_05-2024-053.pdf", D(2024, 11, 28)),
        (f"{files}/600052/440052/file/RAA_05-2024-052.pdf", D(2024, 9, 2)),
        (f"{files}/60052/440152/file/annexe_RAA_05-2024-052.pdf", D(2024, 9, 2)),
        (f"{files}/600051/440051/file/RAA_05-2024-051.pdf", D(2024, 7, 16)),
        (f"{files}/600050/440050/file/RAA_05-2024-050.pdf", D(2024, 6, 12)),
    )
    year = (
        "https://www.hautes-alpes.gouv.fr/Publications/Recueil-des-actes-administratifs/Annee-2024"
    )
    requested = fetcher.requested_urls
    # Page 1 holds only old bulletins: the crawl jumps to the last page, then walks back.
    assert requested.index(f"{year}/(offset)/6") < requested.index(f"{year}/(offset)/3")
    old_details = [f"{year}/Recueil-des-actes-administratifs-n-05-2024-0{n}" for n in range(45, 50)]
    assert_never_requested(fetcher, *old_details, year.replace("2024", "2023"))


def test_d_detail_pages_newest_first_stop_at_the_first_old_page():
    host = "https://www.loire-atlantique.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("44", "d", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/818500/618500/file/RAA-n-185.pdf", D(2024, 10, 16)),
        (f"{files}/818501/618501/file/RAA-n-185-annexe.pdf", D(2024, 10, 16)),
        (f"{files}/84500/64500/file/Recueil-special-n-45.pdf", D(2024, 9, 30)),
        (f"{files}/816000/616000/file/RAA-n-160.pdf", D(2024, 8, 14)),
        (f"{files}/814000/614000/file/RAA-n-140.pdf", D(2024, 7, 2)),
        (f"{files}/83100/63100/file/Recueil-special-n-31.pdf", D(2024, 6, 5)),
    )
    section = f"{host}/Publications/Recueil-des-actes-administratifs-RAA-en-Loire-Atlantique"
    assert_never_requested(
        fetcher,
        f"{section}/(offset)/6",
        f"{section}/(offset)/9",
        f"{section}/RAA-n-112",
        f"{section}/RAA-n-60",
    )


def test_e_select_menu_answered_by_post():
    host = "https://www.ille-et-vilaine.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("35", "e", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/90041/700041/file/RAA%2035-2025-041.pdf", D(2025, 3, 14)),
        (f"{files}/90002/700002/file/RAA%2035-2025-002.pdf", D(2025, 1, 6)),
        (f"{files}/88230/690230/file/RAA%2035-2024-230.pdf", D(2024, 12, 23)),
        (f"{files}/88120/690120/file/RAA%2035-2024-120.pdf", D(2024, 7, 1)),
    )
    page = f"{host}/Publications/Recueil-des-actes-administratifs"
    assert fetcher.requests == [
        FixtureRequest("GET", page, None),
        FixtureRequest("POST", page, {"Archives-des-RAA-liste-docs": "52140"}),
    ]


def test_e_select_options_pointing_to_detail_pages():
    host = "https://www.seine-et-marne.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("77", "e", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/7210/5210/file/RAA-n-77-2024-210.pdf", D(2024, 10, 15)),
        (f"{files}/7188/5188/file/RAA-special-n-77-2024-188.pdf", D(2024, 8, 30)),
    )
    assert_never_requested(fetcher, f"{host}/Publications/RAA/RAA-n-77-2024-101")


def test_f_half_year_pages_named_by_months_only():
    files = "https://www.alpes-de-haute-provence.gouv.fr/contenu/telechargement"
    raa = "file/RAA%20n%C2%B0%20"
    refs, fetcher = crawl("04", "f", D(2024, 9, 1))
    assert found(refs) == expect(
        (f"{files}/40311/403110/{raa}311%20du%203%20novembre%202024.pdf", D(2024, 11, 3)),
        (f"{files}/40255/402550/{raa}255%20du%2012%20septembre%202024.pdf", D(2024, 9, 12)),
    )
    section = (
        "https://www.alpes-de-haute-provence.gouv.fr/Publications/"
        "Publications-administratives-et-legales/Recueil-des-Actes-Administratifs"
    )
    assert_never_requested(
        fetcher, f"{section}/Recueils-2024/Janvier-Juillet", f"{section}/Recueils-2023"
    )


def test_g_undated_category_cards_are_followed():
    host = "https://www.creuse.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("23", "g", D(2024, 1, 1))
    assert found(refs) == expect(
        (f"{files}/33007/233007/file/recueil_nominatif_23-2024-007.pdf", D(2024, 10, 2)),
        (f"{files}/31052/231052/file/recueil_special_23-2024-052.pdf", D(2024, 7, 19)),
        (f"{files}/32018/232018/file/recueil_23-2024-018.pdf", D(2024, 4, 30)),
        (f"{files}/31003/231003/file/recueil_special_23-2024-003.pdf", D(2024, 1, 9)),
    )
    section = f"{host}/Publications/Les-Recueils-des-actes-administratifs"
    assert_never_requested(
        fetcher,
        f"{section}/Recueils-speciaux/Speciaux-2023",
        f"{section}/Recueils-reguliers/Reguliers-2023",
    )


def test_h_lead_paragraph_links_and_title_attributes():
    files = "https://www.charente.gouv.fr/contenu/telechargement"
    refs, fetcher = crawl("16", "h", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/21130/121130/file/RAA_special.pdf", D(2024, 8, 21)),
        (f"{files}/21125/121125/file/RAA%20n%C2%B016-2024-125.pdf", D(2024, 8, 1)),
        (
            f"{files}/21120/121120/file/RAA%20n%C2%B016-2024-112%20du%2012%20juillet%202024.pdf",
            D(2024, 7, 12),
        ),
    )
    by_name = {r.url.rsplit("/", 1)[-1]: r.title for r in refs}
    assert by_name["RAA_special.pdf"] == "RAA spécial du 21/08/2024 (PDF, 0,2 Mo)"
    assert_never_requested(
        fetcher,
        "https://www.charente.gouv.fr/Publications/Recueil-des-actes-administratifs2/RAA-2023",
    )


def test_i_year_tables():
    host = "https://www.pyrenees-orientales.gouv.fr"
    files = f"{host}/contenu/telechargement"
    refs, fetcher = crawl("66", "i", D(2024, 6, 1))
    assert found(refs) == expect(
        (f"{files}/66010/466010/file/RAA_66-2025-010.pdf", D(2025, 2, 10)),
        (f"{files}/66150/466150/file/RAA_66-2024-150.pdf", D(2024, 7, 16)),
        (f"{files}/66149/466149/file/RAA_66-2024-149.pdf", D(2024, 7, 15)),
    )
    assert {r.title for r in refs} >= {"RAA n°66-2024-150 16/07/2024"}
    assert_never_requested(
        fetcher, f"{host}/Publications/Le-recueil-des-actes-administratifs/Recueils-2023"
    )


REGIONS = "https://www.prefectures-regions.gouv.fr/ile-de-france"
RAA = f"{REGIONS}/Region-et-institutions/Demarches-administratives/Recueil-des-actes-administratifs"
IRE = f"{REGIONS}/irecontenu/telechargement"
RECUEIL = "recueil-des-actes-administratifs"


def test_regions_paris_year_page_with_month_anchors_and_month_pages():
    refs, fetcher = crawl("75", "regions", D(2024, 7, 1))
    assert found(refs) == expect(
        (f"{IRE}/120300/890300/file/recueil-75-2024-300-{RECUEIL}.pdf", D(2024, 12, 20)),
        (f"{IRE}/115270/885270/file/recueil-75-2024-270-{RECUEIL}.pdf", D(2024, 11, 5)),
        (f"{IRE}/110150/880150/file/recueil-75-2024-150-{RECUEIL}.pdf", D(2024, 7, 15)),
        # Undated, but listed under "Décembre": kept without a date.
        (f"{IRE}/120301/890301/file/recueil-75-2024-301-{RECUEIL}-special.pdf", None),
    )
    paris = f"{RAA}/Recueil-des-actes-administratifs-de-la-prefecture-de-Paris"
    assert_never_requested(
        fetcher,
        f"{paris}-2023",
        f"{paris}-2024/Mai-2024",
        f"{RAA}/Recueil-des-actes-administratifs-de-la-prefecture-de-la-region-d-Ile-de-France-2024",
    )


def test_regions_region_series_excludes_paris():
    refs, fetcher = crawl("R11", "regions", D(2024, 7, 1))
    assert found(refs) == expect(
        (f"{IRE}/114001/884001/file/recueil-idf-2024-210-{RECUEIL}.pdf", None)
    )
    assert_never_requested(
        fetcher,
        f"{RAA}/Recueil-des-actes-administratifs-de-la-prefecture-de-Paris-2024",
        f"{RAA}/Recueil-des-actes-administratifs-de-la-prefecture-de-la-region-d-Ile-de-France-2023",
    )


MOSELLE = "https://mc.moselle.gouv.fr"


def test_dims_opens_the_session_then_reads_rows_newest_first():
    refs, fetcher = crawl("57", "dims", D(2024, 6, 1))
    download = f"{MOSELLE}/index.php?dims_op=doc_file_download&docfile_md5id="
    assert found(refs) == expect(
        (f"{download}f4cdf90d36ca27c56a6b6bb5e2c48a7c", D(2024, 8, 5)),
        (f"{download}959fa09f209c39a9959a821d5cc76398", D(2024, 8, 1)),
        (f"{download}3b1f0c8a7f9e4d2a8c6b5e4d3c2b1a09", D(2024, 7, 19)),
        (f"{download}7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d", D(2024, 6, 14)),
    )
    assert fetcher.requested_urls[:2] == [
        f"{MOSELLE}/raa.html",
        f"{MOSELLE}/index.php?op=raa&do=raa-acte",
    ]
    titles = {r.title for r in refs}
    assert (
        "CAB/DS/PSI n°222 – Arrêté portant interdiction de rassemblement festif à caractère "
        "musical du 7 au 10 août 2024"
    ) in titles
    assert_never_requested(fetcher, f"{MOSELLE}/index.php?op=raa&do=raa-acte&page=3")


def test_dims_without_the_session_cookie_is_an_error_not_an_empty_list():
    spec = load_file(REPO / "prefectures" / "57.toml")
    # A start page that sets no cookie: the list answers with the portal's home page.
    spec = spec.model_copy(update={"start_urls": [f"{MOSELLE}/index.php"]})
    with pytest.raises(AdapterError, match="cookie de session DIMS"):
        crawl("57", "dims", D(2024, 6, 1), spec=spec)


PREFECTURE_DE_POLICE = "https://www.prefecturedepolice.interieur.gouv.fr"


def test_police_decree_block_and_pager():
    refs, fetcher = crawl("PP", "police", D(2024, 6, 1))
    files = f"{PREFECTURE_DE_POLICE}/sites/default/files/documents"
    assert found(refs) == expect(
        (f"{files}/arrete_2024-00951.pdf", D(2024, 7, 26)),
        (f"{files}/arrete_2024-00912.pdf", D(2024, 7, 16)),  # date beside the link
        (f"{files}/arrete%202024-00890%20circulation.pdf", D(2024, 7, 10)),
        (f"{files}/arrete_2024-00801.pdf", D(2024, 6, 12)),
    )
    assert all(not r.title.endswith("2024") for r in refs)  # the date is not in the title
    start = f"{PREFECTURE_DE_POLICE}/actualites-et-presse/arretes/accueil-arretes"
    assert_never_requested(fetcher, f"{start}?page=2")


def test_police_anti_bot_page_is_an_error():
    spec = load_file(REPO / "prefectures" / "PP.toml")
    spec = spec.model_copy(update={"start_urls": [f"{PREFECTURE_DE_POLICE}/challenge"]})
    with pytest.raises(AdapterError, match="anti-robot"):
        crawl("PP", "police", D(2024, 6, 1), spec=spec)


# --- Incremental crawls: a second crawl knowing what the first found --------------------------

LOIRE_ATLANTIQUE = "https://www.loire-atlantique.gouv.fr"
LA_SECTION = (
    f"{LOIRE_ATLANTIQUE}/Publications/Recueil-des-actes-administratifs-RAA-en-Loire-Atlantique"
)
LA_FILES = f"{LOIRE_ATLANTIQUE}/contenu/telechargement"
HAUTES_ALPES_2024 = (
    "https://www.hautes-alpes.gouv.fr/Publications/Recueil-des-actes-administratifs/Annee-2024"
)


def site_with_new_bulletin(
    tmp_path: Path,
    family: str,
    *,
    list_file: str,
    before: str,
    card: str,
    model_detail: str,
    detail_url: str,
    changes: dict[str, str],
) -> Path:
    """A copy of a fixture site where a bulletin was published since: its card inserted in
    ``list_file`` before the first ``before``, and its detail page made from ``model_detail``
    with ``changes`` applied."""
    site = tmp_path / family
    shutil.copytree(SITES / family, site)
    listing = site / list_file
    text = listing.read_text(encoding="utf-8")
    assert before in text
    listing.write_text(text.replace(before, card + before, 1), encoding="utf-8")
    detail = (site / model_detail).read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in detail, old
        detail = detail.replace(old, new)
    (site / "new-detail.html").write_text(detail, encoding="utf-8")
    with (site / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(f'\n[[page]]\nurl = "{detail_url}"\nfile = "new-detail.html"\n')
    return site


def card(href: str, title: str, published: str) -> str:
    return (
        '<div class="fr-card fr-card--horizontal"><div class="fr-card__body">'
        f'<h2 class="fr-card__title"><a class="fr-card__link" href="{href}">{title}</a></h2>'
        f'<p class="fr-card__detail">Publié le {published}</p></div></div>\n'
    )


def test_d_second_crawl_reads_the_first_list_page_only():
    first, first_fetcher = crawl("44", "d", D(2024, 6, 1))
    refs, fetcher = crawl("44", "d", D(2024, 6, 1), earlier=Earlier(first, D(2024, 6, 1)))

    assert len(first_fetcher.requests) == 7  # 2 list pages, 5 detail pages
    # Page 1 shows three bulletins whose detail pages gave documents: nothing new, stop there.
    assert fetcher.requested_urls == [LA_SECTION]
    assert refs == []


def test_d_second_crawl_finds_a_new_bulletin_with_three_requests(tmp_path: Path):
    first, _ = crawl("44", "d", D(2024, 6, 1))
    site = site_with_new_bulletin(
        tmp_path,
        "d",
        list_file="list-p1.html",
        before='<div class="fr-card fr-card--horizontal fr-card--sm',
        card=card(
            "/Publications/Recueil-des-actes-administratifs-RAA-en-Loire-Atlantique/RAA-n-200",
            "Recueil des actes administratifs n°200",
            "05/11/2024",
        ),
        model_detail="detail-raa-n-185.html",
        detail_url=f"{LA_SECTION}/RAA-n-200",
        changes={
            "n°185 du 16 octobre 2024": "n°200 du 5 novembre 2024",
            "16/10/2024": "05/11/2024",
            "818500/618500/file/RAA-n-185.pdf": "820000/620000/file/RAA-n-200.pdf",
            "818501/618501/file/RAA-n-185-annexe.pdf": "820001/620001/file/RAA-n-200-annexe.pdf",
        },
    )
    refs, fetcher = crawl(
        "44", "d", D(2024, 6, 1), site=site, earlier=Earlier(first, D(2024, 6, 1))
    )

    assert found(refs) == expect(
        (f"{LA_FILES}/820000/620000/file/RAA-n-200.pdf", D(2024, 11, 5)),
        (f"{LA_FILES}/820001/620001/file/RAA-n-200-annexe.pdf", D(2024, 11, 5)),
    )
    assert {r.found_on for r in refs} == {f"{LA_SECTION}/RAA-n-200"}
    # Page 1 holds a new item, so page 2 is read too; it is all known: the walk ends there.
    assert fetcher.requested_urls == [
        LA_SECTION,
        f"{LA_SECTION}/(offset)/3",
        f"{LA_SECTION}/RAA-n-200",
    ]


def test_d_crawl_reaching_further_back_than_the_earlier_ones_walks_the_older_pages():
    first, _ = crawl("44", "d", D(2024, 9, 1))
    refs, fetcher = crawl("44", "d", D(2024, 6, 1), earlier=Earlier(first, D(2024, 9, 1)))

    assert {r.url.rsplit("/", 1)[-1] for r in refs} == {
        "RAA-n-160.pdf",
        "RAA-n-140.pdf",
        "Recueil-special-n-31.pdf",
    }
    # The detail pages of 185 and special 45 gave documents already: not asked again.
    assert sorted(fetcher.requested_urls) == sorted(
        [LA_SECTION, f"{LA_SECTION}/(offset)/3"]
        + [f"{LA_SECTION}/{name}" for name in ("RAA-n-160", "RAA-n-140", "Recueil-special-n-31")]
    )


def test_d_earlier_crawl_that_did_not_finish_only_spares_detail_pages():
    first, _ = crawl("44", "d", D(2024, 6, 1))
    refs, fetcher = crawl("44", "d", D(2024, 6, 1), earlier=Earlier(first, None))

    assert refs == []
    assert fetcher.requested_urls == [LA_SECTION, f"{LA_SECTION}/(offset)/3"]


def test_d_incremental_false_walks_everything_again():
    spec = load_file(REPO / "prefectures" / "44.toml")
    spec = AdapterSpec.model_validate({**spec.model_dump(), "dsfr": {"incremental": False}})
    first, first_fetcher = crawl("44", "d", D(2024, 6, 1), spec=spec)
    refs, fetcher = crawl("44", "d", D(2024, 6, 1), spec, earlier=Earlier(first, D(2024, 6, 1)))

    assert found(refs) == found(first)
    assert fetcher.requested_urls == first_fetcher.requested_urls


def test_c_oldest_first_second_crawl_does_not_walk_back_from_a_known_last_page():
    first, first_fetcher = crawl("05", "c", D(2024, 6, 1))
    refs, fetcher = crawl("05", "c", D(2024, 6, 1), earlier=Earlier(first, D(2024, 6, 1)))

    assert len(first_fetcher.requests) == 8
    assert refs == []
    assert fetcher.requested_urls == [
        "https://www.hautes-alpes.gouv.fr/Publications/Recueil-des-actes-administratifs",
        HAUTES_ALPES_2024,
        f"{HAUTES_ALPES_2024}/(offset)/6",
    ]


def test_c_oldest_first_new_bulletin_on_the_last_page(tmp_path: Path):
    first, _ = crawl("05", "c", D(2024, 6, 1))
    detail_url = f"{HAUTES_ALPES_2024}/Recueil-des-actes-administratifs-n-05-2024-054"
    site = site_with_new_bulletin(
        tmp_path,
        "c",
        list_file="annee-2024-p3.html",
        before='<nav role="navigation" class="fr-pagination"',
        card=card(
            "/Publications/Recueil-des-actes-administratifs/Annee-2024/"
            "Recueil-des-actes-administratifs-n-05-2024-054",
            "Recueil des actes administratifs n°05-2024-054",
            "09/12/2024",
        ),
        model_detail="detail-053.html",
        detail_url=detail_url,
        changes={
            "600053/440053/file/RAA_05-2024-053.pdf": "600054/440054/file/RAA_05-2024-054.pdf"
        },
    )
    refs, fetcher = crawl(
        "05", "c", D(2024, 6, 1), site=site, earlier=Earlier(first, D(2024, 6, 1))
    )

    files = "https://www.hautes-alpes.gouv.fr/contenu/telechargement"
    assert found(refs) == expect(
        (f"{files}/600054/440054/file/RAA_05-2024-054.pdf", D(2024, 12, 9))
    )
    # The last page has a new item: one page back, all known, the walk stops (no detail pages
    # of page 2 requested).
    assert fetcher.requested_urls == [
        "https://www.hautes-alpes.gouv.fr/Publications/Recueil-des-actes-administratifs",
        HAUTES_ALPES_2024,
        f"{HAUTES_ALPES_2024}/(offset)/6",
        f"{HAUTES_ALPES_2024}/(offset)/3",
        detail_url,
    ]


def test_dims_second_crawl_stops_at_a_page_of_known_acts():
    first, first_fetcher = crawl("57", "dims", D(2024, 6, 1))
    refs, fetcher = crawl("57", "dims", D(2024, 6, 1), earlier=Earlier(first, D(2024, 6, 1)))

    acts = f"{MOSELLE}/index.php?op=raa&do=raa-acte"
    assert first_fetcher.requested_urls == [f"{MOSELLE}/raa.html", acts, f"{acts}&page=2"]
    # The first page's acts, all known, are given again; the second page is not asked for.
    assert found(refs) == found([r for r in first if r.found_on == acts])
    assert fetcher.requested_urls == [f"{MOSELLE}/raa.html", acts]


def test_police_second_crawl_stops_at_a_page_of_known_orders():
    start = f"{PREFECTURE_DE_POLICE}/actualites-et-presse/arretes/accueil-arretes"
    first, first_fetcher = crawl("PP", "police", D(2024, 6, 1))
    refs, fetcher = crawl("PP", "police", D(2024, 6, 1), earlier=Earlier(first, D(2024, 6, 1)))

    assert first_fetcher.requested_urls == [start, f"{start}?page=1"]
    assert found(refs) == found([r for r in first if r.found_on == start])
    assert fetcher.requested_urls == [start]
