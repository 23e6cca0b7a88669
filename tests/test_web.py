"""The web page, JSON API and Atom feeds on databases filled with generated hits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import uvicorn
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import create_engine

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.config import Settings
from attrap.store.db import Database
from attrap.store.models import Act, CrawlRun, Document, Hit
from attrap.store.queries import HIT_CSV_FIELDS, HitFilter, count_by_department, count_hits
from attrap.store.samples import add_sample_hits
from attrap.web.app import create_app
from attrap.web.france_map import department_names
from attrap.web.text import category_colour, highlight

TODAY = dt.date(2024, 12, 31)
HOSTILE_TITLE = "Arrêté <script>alert('x')</script> <img src=x onerror=alert(1)> aéronefs"
DRONE_TITLE = "Arrêté autorisant des caméras installées sur des aéronefs au Vélodrome"
NOW = dt.datetime(2024, 12, 31, 12, tzinfo=dt.UTC)


def add_hit(
    database: Database,
    *,
    code: str,
    category: str,
    title: str,
    snippet: str,
    terms: list[str],
    url: str,
) -> int:
    with database.session() as session:
        document = Document(
            administration_code=code,
            url=url,
            title="RAA spécial",
            published_on=TODAY,
            status="matched",
        )
        act = Act(
            document=document,
            number=f"{code}-2024-12-30-00001",
            title=title,
            signed_on=TODAY - dt.timedelta(days=1),
            page_start=7,
            page_end=8,
        )
        hit = Hit(
            act=act,
            document=document,
            category=category,
            score=0.97,
            terms=terms,
            snippet=snippet,
            page=7,
            first_seen_at=NOW,
            rules_version="test",
        )
        session.add(hit)
        session.flush()
        return hit.id


def fill(database: Database) -> dict[str, int]:
    """Every administration, 300 generated hits over two years, two hand-written hits and a
    crawl history."""
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        add_sample_hits(session, 300, seed=3, today=TODAY - dt.timedelta(days=2))
        session.add_all(
            [
                CrawlRun(
                    administration_code="13",
                    started_at=NOW - dt.timedelta(hours=3),
                    finished_at=NOW - dt.timedelta(hours=2),
                    found=120,
                    new=2,
                ),
                CrawlRun(
                    administration_code="13",
                    started_at=NOW - dt.timedelta(hours=1),
                    finished_at=NOW - dt.timedelta(minutes=59),
                    error="HTTP 503 sur la page des recueils",
                ),
            ]
        )
    drone = add_hit(
        database,
        code="13",
        category="drone",
        title=DRONE_TITLE,
        snippet="… au moyen de caméras installées sur des aéronefs (article L. 242-5) …",
        terms=["caméras installées sur des aéronefs", "L. 242-5"],
        url="https://www.bouches-du-rhone.gouv.fr/raa-special.pdf",
    )
    hostile = add_hit(
        database,
        code="2A",
        category="vsa",
        title=HOSTILE_TITLE,
        snippet="<b>gras</b> & traitements algorithmiques",
        terms=["traitements algorithmiques"],
        url="https://www.corse-du-sud.gouv.fr/raa.pdf",
    )
    return {"drone": drone, "hostile": hostile}


@pytest.fixture
def filled(database: Database) -> dict[str, int]:
    return fill(database)


@pytest.fixture
def client(database: Database, filled: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(database)) as test_client:
        yield test_client


def test_api_filters_shape_and_pagination(client: TestClient, database: Database):
    response = client.get("/api/hits", params={"department": "13", "category": "drone"})
    assert response.status_code == 200
    hits = response.json()
    with database.session() as session:
        expected = count_hits(session, HitFilter(department="13", category="drone"))
    assert int(response.headers["X-Total-Count"]) == expected == len(hits) > 1
    assert {h["department"] for h in hits} == {"13"}
    assert {h["category"] for h in hits} == {"drone"}
    first = hits[0]
    assert first["act"]["title"] == DRONE_TITLE
    assert set(first) == {
        "id",
        "category",
        "score",
        "administration",
        "department",
        "act",
        "document",
        "page",
        "link",
        "terms",
        "snippet",
        "first_seen_at",
        "facts",
    }
    assert first["link"] == "https://www.bouches-du-rhone.gouv.fr/raa-special.pdf#page=7"
    two = client.get("/api/hits", params={"limit": 2}).json()
    second = client.get("/api/hits", params={"limit": 1, "offset": 1}).json()
    assert [h["id"] for h in second] == [two[1]["id"]]
    since = client.get("/api/hits", params={"since": "2024-12-30"}).json()
    assert {h["act"]["title"] for h in since} == {DRONE_TITLE, HOSTILE_TITLE}


def test_api_rejects_bad_parameters(client: TestClient):
    assert client.get("/api/hits", params={"since": "hier"}).status_code == 422
    assert client.get("/api/hits", params={"limit": 0}).status_code == 422


def test_api_csv(client: TestClient):
    response = client.get("/api/hits", params={"category": "vsa", "format": "csv", "limit": 500})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == HIT_CSV_FIELDS
    assert {r["category"] for r in rows} == {"vsa"}
    total = int(client.get("/api/hits", params={"category": "vsa"}).headers["X-Total-Count"])
    assert len(rows) == total
    assert HOSTILE_TITLE in {r["act_title"] for r in rows}


def test_openapi_documents_the_filters(client: TestClient):
    schema = client.get("/api/openapi.json").json()
    parameters = {p["name"] for p in schema["paths"]["/api/hits"]["get"]["parameters"]}
    assert parameters == {
        "department",
        "category",
        "since",
        "until",
        "query",
        "active_on",
        "late",
        "limit",
        "offset",
        "format",
    }
    assert "/feeds/hits.atom" in schema["paths"]
    assert "HitOut" in schema["components"]["schemas"]


def test_atom_feed_is_valid_and_filtered(client: TestClient, filled: dict[str, int]):
    response = client.get("/feeds/hits.atom", params={"department": "13", "category": "drone"})
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.id.endswith("/feeds/hits.atom?department=13&category=drone")
    assert feed.feed.updated_parsed[:3] == (2024, 12, 31)
    assert "Drones" in feed.feed.title and "Bouches-du-Rhône" in feed.feed.title
    assert len(feed.entries) > 1
    first = feed.entries[0]
    assert first.id == f"tag:attrap,2024:hit:{filled['drone']}"
    assert first.link.endswith("raa-special.pdf#page=7")
    assert first.updated_parsed and first.title.startswith("[Drones] 13")
    assert all("#page=" in entry.link for entry in feed.entries)
    other = feedparser.parse(client.get("/feeds/hits.atom", params={"category": "vsa"}).content)
    assert other.feed.id != feed.feed.id
    assert {e.tags[0].term for e in other.entries} == {"vsa"}


def test_healthz(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    # Nothing listens on port 1: the check must say so instead of crashing.
    unreachable = Database(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with TestClient(create_app(unreachable)) as broken:
        response = broken.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "erreur"


def test_untrusted_text_is_shown_as_text(client: TestClient):
    page = client.get("/departements/2A", params={"query": "aeronefs"})
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>gras" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; <mark>traitements algorithmiques</mark>" in html
    # The query word is found without its accent and highlighted in the title.
    assert "<mark>aéronefs</mark>" in html


def test_department_page(client: TestClient, database: Database):
    page = client.get("/departements/13")
    assert page.status_code == 200
    html = page.text
    with database.session() as session:
        total = count_hits(session, HitFilter(department="13"))
    assert f"<strong>{total}</strong> détections" in html
    assert 'href="https://www.bouches-du-rhone.gouv.fr/raa-special.pdf#page=7"' in html
    assert "<mark>caméras installées sur des aéronefs</mark>" in html
    # Crawl health of the département's prefecture: last success and the latest failure.
    assert "31/12/2024 10:00 UTC" in html
    assert "échec : HTTP 503 sur la page des recueils" in html
    assert client.get("/departements/2a").status_code == 200
    missing = client.get("/departements/999")
    assert missing.status_code == 404 and "<h1>Département inconnu</h1>" in missing.text
    assert "<h1>Page introuvable</h1>" in client.get("/nulle-part").text
    assert client.get("/api/rien").json() == {"detail": "Not Found"}


def test_pagination_and_category_page(client: TestClient, database: Database):
    with database.session() as session:
        total = count_hits(session, HitFilter(category="videoprotection"))
    pages = -(-total // 20)
    assert pages > 1
    first = client.get("/categories/videoprotection").text
    assert f"page 1 sur {pages}" in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_link is not None
    second = client.get(next_link.group(1).replace("&amp;", "&")).text
    assert f"page 2 sur {pages}" in second
    first_ids = set(re.findall(r"acte n° ([\w-]+)", first))
    second_ids = set(re.findall(r"acte n° ([\w-]+)", second))
    assert first_ids and second_ids and not first_ids & second_ids
    assert client.get("/categories/inconnue").status_code == 404
    # Label and colour come from rules.toml, like the notifications' (test_matching).
    assert "<h1>Vidéoprotection" in first and 'class="hit cat-videoprotection"' in first
    css = client.get("/categories.css").text
    assert ".hit.cat-videoprotection { border-left-color: #fb6a4a; }" in css
    assert client.get("/categories/brouillage").status_code == 200


def test_search_page_filters_and_exports(client: TestClient):
    html = client.get(
        "/recherche", params={"query": "Vélodrome", "department": "", "since": "mauvaise"}
    ).text
    assert "<strong>1</strong> détection" in html
    assert "Date ignorée" in html
    assert "/api/hits?query=V%C3%A9lodrome&amp;format=csv" in html
    assert "/feeds/hits.atom?query=V%C3%A9lodrome" in html


def test_home_map_has_every_department(client: TestClient, database: Database):
    html = client.get("/", params={"since": "2023-01-01"}).text
    codes = set(re.findall(r'class="dept" data-code="(\w+)"', html))
    assert codes == set(department_names())
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= codes
    assert len(codes) == 101
    with database.session() as session:
        counts = count_by_department(session, HitFilter(since=dt.date(2023, 1, 1)))
    name = department_names()["13"]
    assert f"<title>{name} (13) : {counts['13']} détections</title>" in html
    assert 'href="/departements/13?since=2023-01-01"' in html


def test_health_page(client: TestClient):
    html = client.get("/sante").text
    assert "Préfecture des Bouches-du-Rhône" in html
    assert "HTTP 503" in html


def test_highlight_marks_words_safely():
    marked = highlight(
        "Les <drones> à l'hippodrome, Drône", terms=["L. 242-5"], words=["drone", "<x>"]
    )
    assert str(marked) == "Les &lt;<mark>drones</mark>&gt; à l&#39;hippodrome, <mark>Drône</mark>"
    assert str(highlight("art. L.  242-5", terms=["L. 242-5"])) == "art. <mark>L.  242-5</mark>"


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``attrap serve``'s application under uvicorn on a free port, over a filled SQLite file."""
    from attrap.store.db import open_database

    database = open_database(f"sqlite:///{tmp_path / 'attrap.db'}")
    fill(database)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(database), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    database.engine.dispose()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_in_a_real_browser(served: str):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # The CSP allows no inline script or style: anything refused shows up in the console.
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{served}/?since=2023-01-01")
        page.screenshot(path=ARTIFACTS / "home.png")
        page.locator('a.dept[data-code="13"]').click()
        expect(page).to_have_url(re.compile(r"/departements/13\?since=2023-01-01$"))
        expect(page.locator("h1")).to_have_text("Bouches-du-Rhône (13)")
        page.select_option('select[name="category"]', "drone")
        page.get_by_role("button", name="Afficher").click()
        expect(page).to_have_url(re.compile(r"category=drone"))
        first = page.locator("article.hit").first
        expect(first.locator("h3")).to_have_text(DRONE_TITLE)
        expect(first.locator("a", has_text="PDF, page 7")).to_have_attribute(
            "href", "https://www.bouches-du-rhone.gouv.fr/raa-special.pdf#page=7"
        )
        # The category's colour reaches the card through /categories.css.
        border = first.evaluate("e => getComputedStyle(e).borderLeftColor")
        red, green, blue = bytes.fromhex(category_colour("drone").removeprefix("#"))
        assert border == f"rgb({red}, {green}, {blue})", border
        categories = page.locator("article.hit .badge").all_inner_texts()
        assert categories and set(categories) == {"Drones"}
        page.screenshot(path=ARTIFACTS / "department-13-drone.png", full_page=True)
        # The map is usable from the keyboard: a département link takes the focus.
        page.goto(f"{served}/")
        page.locator('a.dept[data-code="2B"]').focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/departements/2B"))
        browser.close()
    assert not refused, refused
