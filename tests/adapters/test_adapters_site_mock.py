"""The respx routes built from a fixture manifest behave like the sites over real httpx, and an
engine crawls them through an httpx client (cookies and redirects included)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import respx
from site_mock import fixture_routes

from attrap.adapters.maintain import crawl
from attrap.adapters.registry import load_file
from attrap.config import Settings
from attrap.http import HttpClient
from local_server import FakeResolver

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
MOSELLE = "https://mc.moselle.gouv.fr"


def test_routes_answer_get_post_redirects_and_404():
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as router:
            fixture_routes(router, SITES / "e")
            async with httpx.AsyncClient(follow_redirects=True) as client:
                old = "https://www.seine-et-marne.gouv.fr/Publications/RECUEILS-DES-ACTES-ADMINISTRATIFS-RAA"
                response = await client.get(old)
                assert response.status_code == 200
                assert str(response.url) == "https://www.seine-et-marne.gouv.fr/Publications/RAA"
                assert response.text == (SITES / "e" / "77-root.html").read_text("utf-8")

                page = "https://www.ille-et-vilaine.gouv.fr/Publications/Recueil-des-actes-administratifs"
                posted = await client.post(page, data={"Archives-des-RAA-liste-docs": "52140"})
                assert "RAA n°35-2024-230" in posted.text
                assert "RAA n°35-2025-041" in (await client.get(page)).text

                missing = await client.get(page + "/nope")
                assert missing.status_code == 404

    asyncio.run(scenario())


def test_session_cookie_travels_like_on_the_real_site():
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as router:
            fixture_routes(router, SITES / "dims")
            acts = f"{MOSELLE}/index.php?op=raa&do=raa-acte"
            async with httpx.AsyncClient() as client:
                assert "Bienvenue sur le portail" in (await client.get(acts)).text
                opened = await client.get(f"{MOSELLE}/raa.html")
                assert opened.cookies["DIMSPHPSESSID"] == "jmcfjg2uscuqas3lookvd1cp7p"
                assert "CAB/DS/PSI n°222" in (await client.get(acts)).text

    asyncio.run(scenario())


def test_an_engine_crawls_the_routes_through_the_project_http_client():
    settings = Settings.model_validate({"crawl": {"min_delay_s": 0}})

    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as router:
            fixture_routes(router, SITES / "dims")
            async with HttpClient(settings, resolver=FakeResolver()) as client:
                spec = load_file(REPO / "prefectures" / "57.toml")
                report = await crawl(spec, client, dt.date(2024, 6, 1))
        assert report.error is None
        assert [r.published_on for r in report.refs] == [
            dt.date(2024, 8, 5),
            dt.date(2024, 8, 1),
            dt.date(2024, 7, 19),
            dt.date(2024, 6, 14),
        ]

    asyncio.run(scenario())
