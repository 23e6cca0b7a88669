"""Facts on the read side, on SQLite and PostgreSQL: JSON, CSV, Atom, iCalendar, the filters
``active_on`` and ``late`` (API and CLI), the notifications (real SMTP, a Mastodon stand-in), and
the pages « En ce moment » and « Délais de publication », in a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import icalendar
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.cli import app as cli
from attrap.config import FactsSettings, Settings
from attrap.documents.pages import PageText
from attrap.documents.segment import ActSegment
from attrap.notify.messages import status_text
from attrap.notify.outbox import dispatch
from attrap.pipeline.facts import FactsReader
from attrap.store.db import Database, open_database
from attrap.store.models import Act, Administration, Document, Hit
from attrap.web.app import create_app
from notify_peers import FakeMastodon, SmtpServer
from test_notify import TOKEN, queue, settings_for
from test_web import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

TODAY = dt.date(2025, 5, 1)
UTC = dt.UTC


def order(place: str, when: str, *, cameras: str = "Deux caméras au plus.") -> str:
    return (
        "Arrêté autorisant la captation d'images au moyen de caméras installées sur des aéronefs\n"
        "Vu le code de la sécurité intérieure ;\n"
        f"Vu la demande du directeur interdépartemental de la police nationale {place[1]} ;\n"
        "ARRÊTE\n"
        f"Article 1 : La captation est autorisée à {place[0]} pour la sécurité des "
        "rassemblements de personnes.\n"
        f"Article 2 : La présente autorisation est délivrée {when}.\n"
        f"Article 3 : {cameras}\n"
        f"Fait à {place[0]}, le 28 avril 2025"
    )


# name → (administration, category, text, published_on, first seen (UTC))
ORDERS = {
    "lyon": (
        "69",
        "drone",
        "Arrêté n° 69-2025-04-30-00012\n"
        + order(
            ("Lyon et à Villeurbanne", "du Rhône"),
            "du 1er mai 2025 à 9 heures au 1er mai 2025 à 22 heures",
            cameras="Le nombre maximal de caméras pouvant procéder simultanément aux traitements "
            "est fixé à 4.",
        ),
        dt.date(2025, 4, 30),
        dt.datetime(2025, 4, 30, 17, tzinfo=UTC),
    ),
    "lille": (
        "59",
        "drone",
        order(("Lille", "du Nord"), "le 4 mai 2025 de 10 h à 18 h"),
        dt.date(2025, 5, 4),
        dt.datetime(2025, 5, 4, 9, tzinfo=UTC),  # an hour after it began
    ),
    "rennes": (
        "35",
        "drone",
        order(("Rennes", "d'Ille-et-Vilaine"), "le 1er mai 2025"),
        dt.date(2025, 5, 2),
        dt.datetime(2025, 5, 2, 8, tzinfo=UTC),
    ),
    "bordeaux": (
        "33",
        "drone",
        order(("Bordeaux", "de la Gironde"), "le 21 juin 2025 de 18h à 3h"),
        dt.date(2025, 6, 1),
        dt.datetime(2025, 6, 1, 9, tzinfo=UTC),
    ),
    "cayenne": (
        "973",
        "vsa",
        order(("Cayenne", "de la Guyane"), "le 3 mai 2025 de 6 h à 22 h"),
        dt.date(2025, 4, 29),
        dt.datetime(2025, 4, 29, 15, tzinfo=UTC),
    ),
}


def fill(database: Database) -> dict[str, int]:
    """Every administration, and one hit per order of ``ORDERS`` with its facts read by the
    pipeline's own reader from the order's text."""
    reader = FactsReader(FactsSettings().categories)
    ids = {}
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        for number, (name, (code, category, text, published, seen)) in enumerate(ORDERS.items()):
            document = Document(
                administration_code=code,
                url=f"https://raa.example.gouv.fr/{code}/raa-{number}.pdf",
                title="RAA spécial",
                published_on=published,
                first_seen_at=seen,
                status="matched",
            )
            document.administration = session.get_one(Administration, code)
            title = next(line for line in text.split("\n") if line.startswith("Arrêté autorisant"))
            act = Act(document=document, number=f"{code}-{number}", title=title,
                      signed_on=dt.date(2025, 4, 28), page_start=3, page_end=4)  # fmt: skip
            hit = Hit(act=act, document=document, category=category, score=0.9, terms=[],
                      snippet="…", page=3, first_seen_at=seen, rules_version="t")  # fmt: skip
            session.add(hit)
            segment = ActSegment(act.number, act.title, act.signed_on, 3, 4,
                                 (PageText(3, text, "text-layer"),))  # fmt: skip
            reader.record(act, segment, document)
            session.flush()
            ids[name] = hit.id
    return ids


@pytest.fixture
def filled(database: Database) -> dict[str, int]:
    return fill(database)


@pytest.fixture
def client(database: Database, filled: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(database, today=lambda: TODAY)) as test_client:
        yield test_client


def ids_of(response_json: list[dict[str, object]], filled: dict[str, int]) -> set[str]:
    names = {hit_id: name for name, hit_id in filled.items()}
    return {names[hit["id"]] for hit in response_json}  # type: ignore[index]


def test_hit_json_carries_the_facts(client: TestClient, filled: dict[str, int]):
    [hit] = [h for h in client.get("/api/hits").json() if h["id"] == filled["lyon"]]
    facts = hit["facts"]
    assert [(p["start"], p["end"]) for p in facts["periods"]] == [
        ("2025-05-01T09:00:00+02:00", "2025-05-01T22:00:00+02:00")
    ]
    assert facts["periods"][0]["evidence"].startswith("Article 2 : La présente autorisation")
    assert facts["communes"] == [
        {"name": "Lyon", "insee": "69123"},
        {"name": "Villeurbanne", "insee": "69266"},
    ]
    assert facts["operator"] == {"name": "DIPN du Rhône", "kind": "police-nationale"}
    assert facts["max_cameras"] == 4
    assert facts["purposes"] == ["securite-rassemblements"]
    assert facts["publication"] == {
        "at": "2025-04-30T17:00:00Z",
        "basis": "first_seen_at",
        "lead_hours": 14.0,
        "late": False,
    }
    assert facts["timezone"] == "Europe/Paris"
    assert set(facts["evidence"]) >= {"communes", "operator", "max_cameras", "purposes"}


def test_active_on_and_late_filters(client: TestClient, filled: dict[str, int]):
    def names(**params: str) -> set[str]:
        response = client.get("/api/hits", params=params)
        assert response.status_code == 200
        assert int(response.headers["X-Total-Count"]) == len(response.json())
        return ids_of(response.json(), filled)

    assert names(active_on="2025-05-01") == {"lyon", "rennes"}
    assert names(active_on="2025-06-22") == {"bordeaux"}  # the night of the 21st ends on the 22nd
    assert names(active_on="2025-06-23") == set()
    assert names(late="true") == {"lille", "rennes"}
    assert names(late="false") == {"lyon", "bordeaux", "cayenne"}
    assert names(late="true", active_on="2025-05-04") == {"lille"}
    assert client.get("/api/hits", params={"active_on": "demain"}).status_code == 422


def test_cli_filters(database: Database, filled: dict[str, int], tmp_path: Path):
    config = tmp_path / "attrap.toml"
    url = database.engine.url.render_as_string(hide_password=False)
    config.write_text(f'[database]\nurl = "{url}"\n[storage]\ndata_dir = "{tmp_path}"\n')
    result = CliRunner().invoke(
        cli, ["hits", "--active-on", "2025-05-01", "--late", "-f", "json", "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert ids_of(json.loads(result.output), filled) == {"rennes"}
    table = CliRunner().invoke(
        cli, ["hits", "--not-late", "-c", str(config)], env={"COLUMNS": "200"}
    )
    assert "DIPN du Rhône · 4 caméras · publié 14 h avant le début" in table.output


def test_csv_and_atom_carry_the_facts(client: TestClient, filled: dict[str, int]):
    response = client.get("/api/hits", params={"format": "csv", "department": "69"})
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["period_start"] == "2025-05-01T09:00:00+02:00"
    assert row["period_end"] == "2025-05-01T22:00:00+02:00"
    assert row["communes"] == "Lyon (69123); Villeurbanne (69266)"
    assert (row["operator"], row["max_cameras"]) == ("DIPN du Rhône", "4")
    assert (row["lead_hours"], row["late"]) == ("14.0", "False")
    feed = feedparser.parse(client.get("/feeds/hits.atom", params={"department": "69"}).text)
    [entry] = feed.entries
    assert "jeudi 1er mai 2025, 9 h–22 h · DIPN du Rhône · 4 caméras" in entry.summary


def test_icalendar_feed_of_periods(client: TestClient, filled: dict[str, int]):
    response = client.get("/feeds/periods.ics", params={"category": "drone"})
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == 4  # the drone orders; Cayenne's is VSA
    lyon = events[f"hit-{filled['lyon']}-period-0@attrap"]
    assert lyon.decoded("dtstart") == dt.datetime(2025, 5, 1, 7, tzinfo=UTC)
    assert str(lyon["dtstart"].params["TZID"]) == "Europe/Paris"
    assert str(lyon["summary"]) == "Drones · Lyon, Villeurbanne"
    assert str(lyon["location"]) == "Lyon, Villeurbanne"
    rennes = events[f"hit-{filled['rennes']}-period-0@attrap"]
    assert (rennes.decoded("dtstart"), rennes.decoded("dtend")) == (TODAY, dt.date(2025, 5, 2))
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Paris"}
    overseas = icalendar.Calendar.from_ical(
        client.get("/feeds/periods.ics", params={"department": "973"}).content
    )
    [cayenne] = overseas.walk("VEVENT")
    assert str(cayenne["dtstart"].params["TZID"]) == "America/Cayenne"
    assert cayenne.decoded("dtstart") == dt.datetime(2025, 5, 3, 9, tzinfo=UTC)


def test_current_and_delays_pages(client: TestClient, filled: dict[str, int]):
    page = client.get("/en-ce-moment").text
    in_force, upcoming = page.split('id="upcoming"')
    assert "Lyon" in in_force and "Rennes" in in_force and "Lille" not in in_force
    assert "Lille" in upcoming and "Cayenne" in upcoming and "Bordeaux" not in page
    assert re.search(r'data-code="69" data-count="1"', page)
    delays = client.get("/delais", params={"since": "2025-01-01"}).text
    assert "Préfecture d&#39;Ille-et-Vilaine" in delays or "Ille-et-Vilaine" in delays
    rows = list(
        csv.DictReader(io.StringIO(client.get("/delais.csv", params={"since": "2025-01-01"}).text))
    )
    by_code = {row["administration"]: row for row in rows}
    assert set(by_code) == {"69", "59", "35", "33", "973"}
    assert by_code["59"]["published_after_start"] == "1"
    assert by_code["69"]["published_under_24h"] == "1"
    assert by_code["33"]["published_24h_or_more"] == "1"
    assert float(by_code["69"]["median_lead_hours"]) == 14.0
    assert rows[0]["share_after_start"] == "1.0"  # the worst record first
    drones_only = client.get("/delais.csv", params={"since": "2025-01-01", "category": "vsa"})
    assert [r["administration"] for r in csv.DictReader(io.StringIO(drones_only.text))] == ["973"]


def test_notifications_say_it_in_one_line(
    database: Database,
    filled: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("ATTRAP_MASTODON_TOKEN", TOKEN)
    mastodon, smtp = FakeMastodon(TOKEN), SmtpServer()
    try:
        settings = settings_for(
            database,
            tmp_path,
            mastodon={"instance": mastodon.url},
            email={"host": "127.0.0.1", "port": smtp.port, "starttls": False,
                   "sender": "veille@example.org", "to": ["alertes@example.org"]},
        )  # fmt: skip
        queue(database, settings, [filled["lyon"]])
        dispatch(database, settings)
        [status] = [r.json()["status"] for r in mastodon.requests if r.path == "/api/v1/statuses"]
        [(_, message)] = smtp.mailbox.messages
    finally:
        mastodon.close()
        smtp.close()
    line = (
        "Drones · Lyon, Villeurbanne · jeudi 1er mai, 9 h–22 h · DIPN du Rhône · 4 caméras · "
        "publié 14 h avant le début"
    )
    assert status.split("\n")[0] == line
    body = message.get_content()
    assert f"En bref : {line}" in body
    assert "Période : jeudi 1er mai 2025, 9 h–22 h" in body
    assert "Communes : Lyon (69123), Villeurbanne (69266)" in body


def test_a_status_without_facts_keeps_its_header(client: TestClient):
    [hit] = client.get("/api/hits", params={"department": "69"}).json()
    hit["facts"] = None
    assert status_text(hit).startswith("Drones — Préfecture du Rhône\n")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    database = open_database(f"sqlite:///{tmp_path / 'attrap.db'}")
    fill(database)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = create_app(database, today=lambda: TODAY)
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
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
def test_current_view_and_delays_chart_in_a_real_browser(served: str):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(served)
        page.get_by_role("link", name="En ce moment").click()
        expect(page.locator("h1")).to_have_text("En ce moment")
        in_force = page.locator("#in-force article.hit")
        expect(in_force).to_have_count(2)
        # Soonest first: Rennes's order covers the whole day, Lyon's begins at 9 h.
        expect(in_force.first.locator(".facts")).to_contain_text("DIPN d'Ille-et-Vilaine")
        lyon = in_force.nth(1)
        expect(lyon.locator(".facts")).to_contain_text("jeudi 1er mai 2025, 9 h–22 h")
        expect(lyon.locator(".facts")).to_contain_text("DIPN du Rhône")
        expect(page.locator("#upcoming article.hit")).to_have_count(2)
        # The map shades the départements with an order in force or imminent.
        shaded = page.locator("a.dept.active").evaluate_all(
            "links => links.map(a => a.dataset.code)"
        )
        assert set(shaded) == {"69", "35", "59", "973"}
        lyon_fill = page.locator('a.dept[data-code="69"] path').get_attribute("fill")
        assert lyon_fill != page.locator('a.dept[data-code="13"] path').get_attribute("fill")
        # The evidence of a fact is one click away.
        evidence = lyon.locator("details.evidence")
        evidence.locator("summary").click()
        expect(evidence).to_contain_text("Article 2 : La présente autorisation est délivrée")
        page.screenshot(path=ARTIFACTS / "en-ce-moment.png", full_page=True)
        # A département on the map narrows the list to it.
        page.locator('a.dept[data-code="59"]').click()
        expect(page).to_have_url(re.compile(r"/en-ce-moment\?department=59$"))
        expect(page.locator("#upcoming article.hit")).to_have_count(1)
        expect(page.locator("#in-force article.hit")).to_have_count(0)

        page.get_by_role("link", name="Délais de publication").click()
        page.fill('input[name="since"]', "2025-01-01")
        page.get_by_role("button", name="Afficher").click()
        chart = page.locator("#delays-chart")
        expect(chart).to_be_visible()
        rows = chart.locator("g.delay-row")
        expect(rows).to_have_count(5)
        # Each bar spans the chart's width, split by the shares of its orders.
        for code, after, short in (("59", 1.0, 0.0), ("69", 0.0, 1.0), ("33", 0.0, 0.0)):
            row = chart.locator(f'g.delay-row[data-code="{code}"]')
            widths = {
                part: row.locator(f"rect.{part}").bounding_box()["width"]  # type: ignore[index]
                for part in ("after-start", "under-a-day", "in-time")
            }
            total = sum(widths.values())
            assert total > 200
            assert widths["after-start"] == pytest.approx(after * total, abs=1)
            assert widths["under-a-day"] == pytest.approx(short * total, abs=1)
        red = chart.locator('g.delay-row[data-code="59"] rect.after-start').evaluate(
            "r => getComputedStyle(r).fill"
        )
        assert red == "rgb(165, 15, 21)"
        page.screenshot(path=ARTIFACTS / "delais.png", full_page=True)
        browser.close()
