"""FixtureFetcher: answers from a manifest, keeps cookies, records requests, and names the URL
it cannot answer."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

from attrap.adapters.fixtures import (
    FixtureError,
    FixtureFetcher,
    FixtureRequest,
    is_recording,
    page_file,
    toml_value,
)

MANIFEST = """
[[page]]
url = "https://www.test.gouv.fr/RAA"
file = "root.html"
final_url = "https://www.test.gouv.fr/RAA/"
set_cookie = "SESSION=abc"

[[page]]
url = "https://www.test.gouv.fr/RAA/"
file = "archive.html"
method = "POST"
data = { "annee" = "2024" }

[[page]]
url = "https://www.test.gouv.fr/liste?page=1"
file = "list.html"
requires_cookie = "SESSION"
without_cookie = "home.html"
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    for name in ("root", "archive", "list", "home"):
        (tmp_path / f"{name}.html").write_text(f"<p>{name}</p>", encoding="utf-8")
    return tmp_path


def test_answers_get_post_redirects_and_cookies(site: Path):
    fetcher = FixtureFetcher(site)

    async def scenario() -> None:
        listing = await fetcher.fetch_html("https://www.test.gouv.fr/liste?page=1")
        assert listing.text == "<p>home</p>"  # no session yet
        root = await fetcher.fetch_html("https://www.test.gouv.fr/RAA#haut")
        assert (root.url, root.text) == ("https://www.test.gouv.fr/RAA/", "<p>root</p>")
        posted = await fetcher.fetch_html(
            "https://www.test.gouv.fr/RAA/", method="post", data={"annee": "2024"}
        )
        assert posted.text == "<p>archive</p>"
        listing = await fetcher.fetch_html("https://www.test.gouv.fr/liste?page=1")
        assert listing.text == "<p>list</p>"

    asyncio.run(scenario())
    assert fetcher.requests[2] == FixtureRequest(
        "POST", "https://www.test.gouv.fr/RAA/", {"annee": "2024"}
    )


def test_unknown_request_names_the_url(site: Path):
    fetcher = FixtureFetcher(site)
    with pytest.raises(
        FixtureError, match=r"aucune page enregistrée pour POST https://www.test.gouv.fr/RAA/ avec"
    ) as error:
        asyncio.run(
            fetcher.fetch_html(
                "https://www.test.gouv.fr/RAA/", method="POST", data={"annee": "2023"}
            )
        )
    assert error.value.url == "https://www.test.gouv.fr/RAA/"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('[[page]]\nurl = "https://x.fr/"\nfile = "missing.html"\n', "fichier missing.html absent"),
        (
            '[[page]]\nurl = "https://x.fr/"\nfile = "root.html"\nmethode = "GET"\n',
            "manifeste invalide",
        ),
        (
            '[[page]]\nurl = "https://x.fr/"\nfile = "root.html"\nrequires_cookie = "A"\n',
            "go together",
        ),
        ("[[page]\n", "manifeste invalide"),
        ('[[bulletin]]\nurl = "https://x.fr/a.pdf"\ntitle = "A"\n', "need a \\[recording\\]"),
        (
            '[recording]\ncode = "13"\nengine = "dsfr"\nstart_urls = ["https://x.fr/"]\n',
            "not_before",
        ),
    ],
)
def test_bad_manifests_are_reported_with_their_path(site: Path, manifest: str, message: str):
    (site / "manifest.toml").write_text(manifest, encoding="utf-8")
    with pytest.raises(FixtureError, match=message) as error:
        FixtureFetcher(site)
    assert str(site / "manifest.toml") in str(error.value)


def test_every_fixture_folder_loads():
    sites = Path(__file__).resolve().parents[2] / "fixtures" / "sites"
    folders = sorted(p.name for p in sites.iterdir() if p.is_dir())
    families = [f for f in folders if not is_recording(sites / f)]
    assert families == ["a", "b", "c", "d", "dims", "e", "f", "g", "h", "i", "police", "regions"]
    assert len(folders) > len(families)  # and the recordings (tests/adapters/record_sites.py)
    for folder in folders:
        assert FixtureFetcher(sites / folder).pages


def test_a_recording_is_a_manifest_with_a_recording_table(tmp_path: Path):
    assert not is_recording(tmp_path)
    (tmp_path / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    assert not is_recording(tmp_path)
    (tmp_path / "manifest.toml").write_text(
        '[recording]\ncode = "13"\nengine = "dsfr"\nnot_before = 2024-01-01\n'
        'start_urls = ["https://x.fr/"]\n' + MANIFEST,
        encoding="utf-8",
    )
    assert is_recording(tmp_path)


def test_recorded_file_names_are_stable_readable_and_distinct():
    name = page_file("GET", "https://www.x.gouv.fr/Publications/RAA/Année-2024", {})
    assert name == page_file("GET", "http://www.x.gouv.fr:8080/Publications/RAA/Année-2024", {})
    assert name.startswith("raa-annee-2024-") and name.endswith(".html")
    names = {
        name,
        page_file("GET", "https://www.x.gouv.fr/Publications/RAA/Année-2024?page=2", {}),
        page_file("POST", "https://www.x.gouv.fr/Publications/RAA/Année-2024", {"a": "1"}),
        page_file("POST", "https://www.x.gouv.fr/Publications/RAA/Année-2024", {"a": "2"}),
        page_file("GET", "https://www.y.gouv.fr/Publications/RAA/Année-2024", {}),
    }
    assert len(names) == 5
    assert page_file("GET", "https://www.x.gouv.fr/", {}).startswith("index-")


@pytest.mark.parametrize(
    "value", ['quote " and \\ backslash', "tab\tnew\nline", "del \x7f bell \x07", "é ° «»"]
)
def test_toml_strings_round_trip(value: str):
    assert tomllib.loads(f"v = {toml_value(value)}\n")["v"] == value
