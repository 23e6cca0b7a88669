"""Full-text search (migration 0005) on SQLite FTS5 and PostgreSQL tsvector, and `attrap hits`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from sqlalchemy import delete, select, text
from typer.testing import CliRunner

from attrap.adapters.registry import load_adapters, sync_administrations
from attrap.cli import app
from attrap.config import Settings
from attrap.store.db import Database, alembic_config, open_database, upgrade
from attrap.store.models import Act, Hit
from attrap.store.queries import HitFilter, count_hits, search_hits
from attrap.store.samples import add_sample_hits


def filled(database: Database, count: int = 120) -> None:
    with database.session() as session:
        sync_administrations(session, load_adapters(Settings()))
        add_sample_hits(session, count, seed=11, today=dt.date(2024, 12, 31))


def matches(database: Database, query: str, **criteria: str) -> int:
    with database.session() as session:
        return count_hits(session, HitFilter(query=query, **criteria))  # type: ignore[arg-type]


def test_words_anywhere_folding_case_and_accents(database: Database):
    filled(database)
    with database.session() as session:
        drones = count_hits(session, HitFilter(category="drone"))
        perimeters = count_hits(session, HitFilter(category="perimetre-protection"))
    assert drones > 0 and perimeters > 0
    # "aéronefs" is in every drone snippet and title, in no other category's.
    assert matches(database, "aéronefs") == drones
    assert matches(database, "AERONEFS") == drones
    # One word from the title (the event), one from the snippet: both needed, anywhere.
    with database.session() as session:
        texts = [f"{h.act.title} {h.snippet}" for h in search_hits(session, HitFilter(limit=999))]
    expected = sum("festival" in t and "sécurité" in t for t in texts)
    assert 0 < expected < sum("festival" in t for t in texts)
    assert matches(database, "securite festival") == expected
    assert matches(database, "aéronefs introuvablemot") == 0


def test_query_syntax_characters_are_plain_words(database: Database):
    filled(database, 20)
    for hostile in ['"drone', "aéronefs OR *", "NEAR(a b)", "title:x", "'; DROP TABLE hits; --"]:
        with database.session() as session:
            search_hits(session, HitFilter(query=hostile))
    assert matches(database, "***") == matches(database, "")


def test_index_follows_title_changes_and_deletions(database: Database):
    filled(database, 10)
    with database.session() as session:
        act = session.scalars(select(Act).order_by(Act.id)).first()
        assert act is not None
        act.title = "Arrêté relatif au zeppelin municipal"
        act_id = act.id
    assert matches(database, "zeppelin") == 1
    with database.session() as session:
        session.execute(delete(Hit).where(Hit.act_id == act_id))
    assert matches(database, "zeppelin") == 0
    if database.engine.dialect.name == "sqlite":
        with database.engine.connect() as connection:
            indexed = connection.scalar(text("SELECT count(*) FROM hits_fts"))
            stored = connection.scalar(text("SELECT count(*) FROM hits"))
        assert indexed == stored == 9


def test_existing_hits_are_indexed_by_the_migration(database_url: str):
    """Hits stored before 0005 are searchable after it."""
    # Filled through the models, which describe the newest schema, then taken back to the
    # schema just before full-text search.
    database = open_database(database_url)
    filled(database, 15)
    with database.engine.begin() as connection:
        config = alembic_config(database.engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0005-1")
    upgrade(database.engine)
    with database.session() as session:
        total = count_hits(session, HitFilter())
    assert total == 15
    assert matches(database, "arrêté") == 15
    database.engine.dispose()


def test_cli_hits_with_filters(config_file: Path):
    settings_url = f"sqlite:///{config_file.parent / 'attrap.db'}"
    database = open_database(settings_url)
    filled(database, 60)
    database.engine.dispose()
    options = ["--department", "13", "--query", "Marseille", "-f", "json"]
    result = CliRunner().invoke(app, ["hits", *options, "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found and {h["department"] for h in found} == {"13"}
    assert all("Marseille" in h["act"]["title"] + h["snippet"] for h in found)
    result = CliRunner().invoke(
        app,
        ["hits", "--category", "vsa", "--since", "2024-06-01", "-f", "csv", "-c", str(config_file)],
    )
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert rows and all(",vsa," in row for row in rows)
