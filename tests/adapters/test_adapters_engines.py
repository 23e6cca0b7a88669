"""The engine registry, every shipped adapter file, engine settings, French dates and periods,
and the dsfr engine's guards (no loops, no leaving the site, page budget)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import pytest
from dsfr_markup import card, pdf

from attrap.adapters.base import CrawlContext, DocumentRef
from attrap.adapters.engines import ENGINES, get_engine, validate_spec
from attrap.adapters.engines.common import Period, find_date, find_period
from attrap.adapters.engines.dsfr import names_one_bulletin
from attrap.adapters.fixtures import FixtureFetcher
from attrap.adapters.maintain import CrawlReport, crawl
from attrap.adapters.registry import AdapterError, AdapterSpec, builtin_dir, load_file

D = dt.date


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(AdapterError, match=r"moteur inconnu 'dsrf' \(moteurs connus : dims, dsfr"):
        get_engine("dsrf")


def test_every_shipped_adapter_has_a_valid_engine_and_settings():
    files = sorted(builtin_dir().glob("*.toml"))
    assert len(files) >= 105
    engines = set()
    for path in files:
        spec = load_file(path)
        validate_spec(spec)
        engines.add(spec.engine)
        assert spec.notes is not None
    assert engines == set(ENGINES)


def write_adapter(tmp_path: Path, extra: str) -> AdapterSpec:
    path = tmp_path / "99.toml"
    path.write_text(
        'code = "99"\nname = "Préfecture test"\nkind = "departement"\nengine = "dsfr"\n'
        f'start_urls = ["https://www.test.gouv.fr/Publications/RAA"]\n{extra}',
        encoding="utf-8",
    )
    return load_file(path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[dsfr]\nyear_patern = 'x'\n", r"clé inconnue 'dsfr.year_patern'"),
        ("[dsfr]\nyear_pattern = 'RAA'\n", "il faut un groupe qui capture l'année"),
        ("[dsfr]\nyear_pattern = '(RAA'\n", "expression régulière invalide"),
        ("[dsfr]\nmax_pages = 0\n", r"clé 'dsfr.max_pages' : au moins 1"),
        ("[dsfr]\nlink_selector = 'a[['\n", "sélecteur CSS invalide"),
        ("[dsrf]\nmax_pages = 3\n", r"clé\(s\) inconnue\(s\) : dsrf"),
        ('engine_ = "x"\n', r"clé\(s\) inconnue\(s\) : engine_"),
    ],
)
def test_invalid_settings_name_the_file_and_key(tmp_path: Path, extra: str, message: str):
    spec = write_adapter(tmp_path, extra)
    with pytest.raises(AdapterError, match=message) as error:
        validate_spec(spec)
    assert str(tmp_path / "99.toml") in str(error.value)


def test_unknown_engine_in_a_file_names_the_file(tmp_path: Path):
    spec = write_adapter(tmp_path, "").model_copy(update={"engine": "wordpress"})
    with pytest.raises(AdapterError, match=r"99\.toml : clé 'engine' : moteur inconnu 'wordpress'"):
        validate_spec(spec)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Recueil spécial n°45 du 12 juillet 2024", D(2024, 7, 12)),
        ("RAA du 1er août 2024", D(2024, 8, 1)),
        ("RAA DU 3 AOUT 2024", D(2024, 8, 3)),
        ("PDF - 1,2 Mb - 16/07/2024", D(2024, 7, 16)),
        ("Publié le 16.07.2024", D(2024, 7, 16)),
        ("RAA_2024-07-16.pdf", D(2024, 7, 16)),
        ("raa-12-juillet-2024.pdf", D(2024, 7, 12)),
        ("RAA n°13-2024-123", None),
        ("RAA n°05-2024-045", None),
        ("31/02/2024", None),
    ],
)
def test_find_date(text: str, day: dt.date | None):
    assert find_date(text) == day


@pytest.mark.parametrize(
    ("text", "parent_year", "start", "end"),
    [
        ("RAA 2024", None, D(2024, 1, 1), D(2024, 12, 31)),
        ("Année 2024", None, D(2024, 1, 1), D(2024, 12, 31)),
        ("Recueil des actes administratifs 2024", None, D(2024, 1, 1), D(2024, 12, 31)),
        ("2024", None, D(2024, 1, 1), D(2024, 12, 31)),
        ("Juillet 2024", None, D(2024, 7, 1), D(2024, 7, 31)),
        ("JUILLET", 2024, D(2024, 7, 1), D(2024, 7, 31)),
        ("AOUT-2026", None, D(2026, 8, 1), D(2026, 8, 31)),
        ("Août - Décembre", 2024, D(2024, 8, 1), D(2024, 12, 31)),
        ("Février 2024", 2023, D(2024, 2, 1), D(2024, 2, 29)),
        ("Publié le 16/07/2024", None, D(2024, 7, 16), D(2024, 7, 16)),
    ],
)
def test_find_period(text: str, parent_year: int | None, start: dt.date, end: dt.date):
    assert find_period(text, year=parent_year) == Period(start, end)


@pytest.mark.parametrize("text", ["Archives", "JUILLET", "Recueils à partir du 28 avril 2015"])
def test_titles_without_a_period(text: str):
    assert find_period(text) is None


def test_year_pattern_replaces_the_year_detection():
    pattern = re.compile(r"RAA[- ]*(\d{4})")
    assert find_period("RAA-2024 (publié en 2025)", year_pattern=pattern) == Period.year(2024)


# --- Guards of the dsfr engine, on a small site written here ----------------------------------

HOST = "https://www.test.gouv.fr"
SECTION = f"{HOST}/Publications/RAA"


def write_site(folder: Path, pages: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    manifest = []
    for index, (url, body) in enumerate(pages.items()):
        (folder / f"{index}.html").write_text(f"<html><body><main>{body}</main></body></html>")
        manifest.append(f'[[page]]\nurl = "{url}"\nfile = "{index}.html"\n')
    (folder / "manifest.toml").write_text("\n".join(manifest))


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


def discover(folder: Path, **dsfr: object) -> tuple[CrawlReport, FixtureFetcher]:
    spec = site_spec(**dsfr)
    fetcher = FixtureFetcher(folder)
    return asyncio.run(crawl(spec, fetcher, D(2024, 1, 1))), fetcher


def test_dsfr_never_loops_never_leaves_the_section_and_dedupes(tmp_path: Path):
    write_site(
        tmp_path,
        {
            SECTION: card("RAA 2024", f"{SECTION}/RAA-2024")
            + card("Autres publications", "/Publications/Autres")  # same host, other section
            + card("RAA 2025", "https://www.example.org/RAA-2025")  # another site
            + pdf("a.pdf", "02/02/2024"),
            f"{SECTION}/RAA-2024": card("Retour", SECTION)
            + card("RAA 2024", f"{SECTION}/RAA-2024#haut")
            + card("Détail", f"{SECTION}/RAA-2024/Detail")
            + pdf("a.pdf", "02/02/2024"),
            f"{SECTION}/RAA-2024/Detail": card("RAA 2024", f"{SECTION}/RAA-2024")
            + pdf("b.pdf", "03/03/2024"),
        },
    )
    report, fetcher = discover(tmp_path)
    assert report.error is None
    assert sorted(r.url.rsplit("/", 1)[-1] for r in report.refs) == ["a.pdf", "b.pdf"]
    assert sorted(fetcher.requested_urls) == [
        SECTION,
        f"{SECTION}/RAA-2024",
        f"{SECTION}/RAA-2024/Detail",
    ]


def test_dsfr_page_budget_keeps_what_was_found_then_fails(tmp_path: Path):
    chain = {
        f"{SECTION}{'/p' * n}": card("Suite", f"{SECTION}{'/p' * (n + 1)}")
        + pdf(f"{n}.pdf", "02/02/2024")
        for n in range(6)
    }
    write_site(tmp_path, chain)
    report, fetcher = discover(tmp_path, max_pages=3)
    assert isinstance(report.error, AdapterError)
    assert "parcours arrêté après 3 pages ([dsfr] max_pages = 3)" in str(report.error)
    assert [r.url.rsplit("/", 1)[-1] for r in report.refs] == ["0.pdf", "1.pdf", "2.pdf"]
    assert len(fetcher.requests) == 3


def test_markup_bug_link_outside_a_downloads_group_is_still_a_download(tmp_path: Path):
    # `<a id= class="fr-link fr-link--download">`: an HTML5 parser makes `class="fr-link` the id.
    link = (
        '<p><a id= class="fr-link fr-link--download" '
        'href="/contenu/telechargement/7/8/file/RAA-special">Télécharger RAA spécial '
        '<span class="fr-link__detail">PDF - 1 Mb - 05/05/2024</span></a></p>'
    )
    write_site(tmp_path, {SECTION: link})
    report, _ = discover(tmp_path)
    assert [(r.url, r.title, r.published_on) for r in report.refs] == [
        (f"{HOST}/contenu/telechargement/7/8/file/RAA-special", "RAA spécial", D(2024, 5, 5))
    ]


def test_settings_for_exceptions_follow_undated_and_link_selector(tmp_path: Path):
    write_site(
        tmp_path,
        {
            SECTION: card("Recueils spéciaux", f"{SECTION}/Speciaux")
            + card("RAA 2024", f"{SECTION}/RAA-2024")
            + '<ul class="raa"><li><a href="/fichiers/raa?id=12">RAA du 04/04/2024</a></li></ul>',
            f"{SECTION}/RAA-2024": pdf("c.pdf", "02/02/2024"),
            f"{SECTION}/Speciaux": pdf("s.pdf", "02/02/2024"),
        },
    )
    report, fetcher = discover(tmp_path, follow_undated=False, link_selector="ul.raa a")
    assert sorted((r.url, r.published_on) for r in report.refs) == [
        (f"{HOST}/contenu/telechargement/1/2/file/c.pdf", D(2024, 2, 2)),
        (f"{HOST}/fichiers/raa?id=12", D(2024, 4, 4)),
    ]
    assert f"{SECTION}/Speciaux" not in fetcher.requested_urls


def test_dsfr_skips_known_detail_pages_but_not_a_month_page_dated_by_its_card(tmp_path: Path):
    month, detail = f"{SECTION}/Juillet-2024", f"{SECTION}/RAA-7"
    month_card = (
        '<div class="fr-card"><div class="fr-card__body"><h2 class="fr-card__title">'
        f'<a href="{month}">Juillet 2024</a></h2>'
        '<p class="fr-card__detail">Publié le 01/07/2024</p></div></div>'
    )
    write_site(
        tmp_path,
        {
            SECTION: month_card + card("RAA n°7 du 3 juillet 2024", detail),
            month: pdf("m1.pdf", "02/07/2024"),
            detail: pdf("d7.pdf", "03/07/2024"),
        },
    )
    engine = get_engine("dsfr")

    def run(earlier: list[DocumentRef]) -> tuple[list[DocumentRef], list[str]]:
        urls = {r.url for r in earlier} | {r.found_on for r in earlier if r.found_on}
        fetcher = FixtureFetcher(tmp_path)
        context = CrawlContext(site_spec(), fetcher, D(2024, 1, 1), urls.__contains__, None)

        async def collect() -> list[DocumentRef]:
            return [ref async for ref in engine.discover(context)]

        return asyncio.run(collect()), fetcher.requested_urls

    first, first_requests = run([])
    second, second_requests = run(first)

    assert {(r.url.rsplit("/", 1)[-1], r.found_on) for r in first} == {
        ("m1.pdf", month),
        ("d7.pdf", detail),
    }
    assert sorted(first_requests) == sorted([SECTION, month, detail])
    # The month's page may have gained bulletins since; the bulletin's own page has not.
    assert second_requests == [SECTION, month]
    assert [r.url.rsplit("/", 1)[-1] for r in second] == ["m1.pdf"]


@pytest.mark.parametrize(
    ("title", "one_bulletin"),
    [
        ("Recueil des actes administratifs n°05-2024-051", True),
        ("RAA N° 7 - juillet 2024", True),
        ("Recueil 13-2024-123", True),
        ("Juillet 2024", False),
        ("RAA 2024", False),
        ("Recueils 2023-2024", False),
        ("1er semestre 2024", False),
    ],
)
def test_card_titles_naming_one_bulletin_or_a_collection(title: str, one_bulletin: bool):
    assert names_one_bulletin(title) is one_bulletin
