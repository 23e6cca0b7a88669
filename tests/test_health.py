"""Health that notices silence: a saved prefecture site served on 127.0.0.1 is redesigned under
``attrap run``, which raises one maintainer alert (a real webhook) and clears it when the site
comes back; the rules behind each state, on crafted crawl histories; the learned crawl rhythm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from attrap.adapters.fixtures import load_manifest
from attrap.cli import app
from attrap.config import HealthSettings, ScheduleSettings, Settings
from attrap.health import State, check, health_table, usual_gap_days
from attrap.scheduling.rhythm import learn_rhythm
from attrap.store.db import Database
from attrap.store.models import Administration, CrawlRun, Document, HealthAlert, HealthIncident
from local_server import LocalServer, html, serve_site, write_run_config
from notify_peers import WebhookReceiver

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "a"
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2024, 9, 16, 10, 0, tzinfo=dt.UTC)  # a Monday
REDESIGNED = html(
    "<html><body><main><h1>Préfecture d'Indre-et-Loire</h1>"
    "<p>Notre site fait peau neuve : retrouvez bientôt nos publications.</p></main></body></html>"
)

runner = CliRunner()


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with LocalServer().running() as server:
        serve_site(server, SITE)
        yield server


def start_path() -> str:
    return urlsplit(load_manifest(SITE)[0].url).path


def write_config(tmp_path: Path, database_url: str, site: LocalServer, hook: str) -> Path:
    config = write_run_config(
        tmp_path,
        database_url,
        f"""[health]
late_min_days = 100000  # the saved pages are old: this test is about the layout
[adapters.overrides."37"]
start_urls = ["{site.url(start_path())}"]
[notify.webhook]
url = "{hook}"
categories = []       # maintainers only: no hit goes there
maintainers = true
""",
    )
    return config


def alerts(webhook: WebhookReceiver) -> list[dict[str, str]]:
    return [r.json() for r in webhook.posts() if r.headers.get("x-attrap-event") == "alert"]


def test_a_redesigned_site_raises_one_alert_and_clears_it_when_it_comes_back(
    site: LocalServer, tmp_path: Path, database_url: str, webhook: WebhookReceiver
):
    config = write_config(tmp_path, database_url, site, f"{webhook.url}/hook")

    def run() -> None:
        result = runner.invoke(app, ["run", "37", "-c", str(config)])
        assert result.exit_code == 0, result.output

    def status() -> str:
        result = runner.invoke(app, ["status", "-c", str(config)], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        return next(line for line in result.output.splitlines() if "│ 37 " in line)

    run()
    assert "ok" in status()
    assert alerts(webhook) == []

    original = site.routes[start_path()]
    site.route(start_path(), REDESIGNED)
    run()
    run()  # still redesigned: the incident is open already, no second alert
    assert "muet" in status()
    [opened] = alerts(webhook)
    assert opened["event"] == "opened" and opened["kind"] == "silent"
    assert opened["administration"] == "37"
    assert opened["subject"].startswith("Alerte — Préfecture d'Indre-et-Loire")
    assert "ne montre plus aucun bulletin" in opened["text"]

    site.routes[start_path()] = original
    run()
    assert "ok" in status()
    [_, resolved] = alerts(webhook)
    assert resolved["event"] == "resolved" and resolved["kind"] == "silent"
    assert resolved["subject"].startswith("Rétabli — ")
    # One message per event, each with its own stable delivery id.
    assert len(webhook.deliveries) == 2


# -- the rules, on crafted histories -------------------------------------------------------------


def settings_with_maintainer_hook() -> Settings:
    return Settings.model_validate(
        {"notify": {"webhook": {"url": "http://127.0.0.1:9/hook", "maintainers": True}}}
    )


@pytest.fixture
def history(database: Database) -> Database:
    with database.session() as session:
        session.add(
            Administration(
                code="13",
                name="Préfecture des Bouches-du-Rhône",
                kind="departement",
                department="13",
                engine="dsfr",
            )
        )
    return database


def add_run(database: Database, minutes_ago: int, **fields: object) -> None:
    started = NOW - dt.timedelta(minutes=minutes_ago)
    with database.session() as session:
        session.add(
            CrawlRun(
                administration_code="13",
                started_at=started,
                finished_at=started + dt.timedelta(seconds=30),
                **{"listed": 3, "start_status": 200, **fields},
            )
        )


def add_documents(database: Database, days: list[dt.date]) -> None:
    with database.session() as session:
        for number, day in enumerate(days):
            session.add(
                Document(
                    administration_code="13",
                    url=f"https://example.test/raa-{number}.pdf",
                    published_on=day,
                    first_seen_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC),
                    status="matched",
                )
            )


def incidents(database: Database) -> list[tuple[str, bool, int]]:
    with database.session() as session:
        return [
            (i.kind, i.resolved_at is None, len(i.alerts))
            for i in session.query(HealthIncident).order_by(HealthIncident.id)
        ]


def test_failing_after_n_runs_in_a_row_and_interruptions_do_not_count(history: Database):
    settings = settings_with_maintainer_hook()
    add_run(history, 50, error="HTTP 500 Internal Server Error")
    add_run(history, 40, error="HTTP 500 Internal Server Error")
    add_run(history, 35, error="interrupted")
    assert check(history, settings, "13", now=NOW) == []
    add_run(history, 30, error="HTTP 500 Internal Server Error")
    assert check(history, settings, "13", now=NOW) == [("failing", "opened")]
    assert check(history, settings, "13", now=NOW) == []  # one alert per incident
    add_run(history, 20)
    assert check(history, settings, "13", now=NOW) == [("failing", "resolved")]
    assert incidents(history) == [("failing", False, 2)]
    with history.session() as session:
        assert {a.event for a in session.query(HealthAlert)} == {"opened", "resolved"}


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"start_status": 404, "error": "HTTP 404 Not Found"}, "n'existe plus (HTTP 404)"),
        ({"start_redirect": "https://www.example.test/accueil"}, "redirige vers"),
    ],
)
def test_a_start_page_gone_or_sent_elsewhere_fails_at_once(
    history: Database, fields: dict[str, object], detail: str
):
    add_run(history, 10, **fields)
    assert check(history, settings_with_maintainer_hook(), "13", start_url="https://x/raa") == [
        ("moved", "opened")
    ]
    with history.session() as session:
        [row] = health_table(session)
        assert row.state is State.FAILING
        assert detail in row.problems[0]


def test_late_when_silent_far_longer_than_its_usual_gap(history: Database):
    settings = Settings()
    # Weekly bulletins until mid-July, then nothing: 9 weeks against a usual week.
    add_documents(history, [dt.date(2024, 5, 6) + dt.timedelta(weeks=n) for n in range(11)])
    add_run(history, 10)
    assert check(history, settings, "13", now=NOW) == [("late", "opened")]
    with history.session() as session:
        [row] = health_table(session)
    assert row.state is State.LATE
    assert "d'habitude un au moins tous les 7 jours" in row.problems[0]
    assert row.documents == 11


def test_usual_gap_is_the_90th_percentile_of_the_gaps():
    days = [dt.date(2024, 7, 1) + dt.timedelta(days=d) for d in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)]
    assert usual_gap_days(days) == pytest.approx(3.0)
    assert usual_gap_days(days[:2]) is None
    assert HealthSettings().late_min_days == 7


# -- rhythm ---------------------------------------------------------------------------------------


def test_rhythm_office_hours_by_default_plus_learned_friday_evenings():
    schedule = ScheduleSettings()
    friday_evening = [
        dt.datetime(2024, 7, day, 18, 30, tzinfo=PARIS) for day in (5, 12, 19, 26)
    ]  # Fridays 18:30 local
    tuesday_morning = [dt.datetime(2024, 7, day, 9, 0, tzinfo=PARIS) for day in (2, 9, 16, 23)]
    rhythm = learn_rhythm(friday_evening + tuesday_morning, schedule, PARIS)
    assert rhythm.busy(dt.datetime(2024, 8, 6, 11, 0, tzinfo=PARIS))  # office hours
    assert rhythm.busy(dt.datetime(2024, 8, 2, 19, 45, tzinfo=PARIS))  # learned, ±1 h
    assert not rhythm.busy(dt.datetime(2024, 8, 3, 19, 45, tzinfo=PARIS))  # a Saturday
    assert not learn_rhythm([], schedule, PARIS).busy(dt.datetime(2024, 8, 2, 20, 0, tzinfo=PARIS))

    busy = dt.datetime(2024, 8, 6, 11, 0, tzinfo=PARIS)
    assert rhythm.next_crawl(busy, schedule) - busy == dt.timedelta(minutes=10)
    quiet = dt.datetime(2024, 8, 3, 3, 0, tzinfo=PARIS)
    assert rhythm.next_crawl(quiet, schedule) - quiet == dt.timedelta(minutes=60)
    # A quiet wait ends when the busy hours begin.
    before_office = dt.datetime(2024, 8, 5, 7, 30, tzinfo=PARIS)
    assert rhythm.next_crawl(before_office, schedule) == dt.datetime(2024, 8, 5, 8, 0, tzinfo=PARIS)
