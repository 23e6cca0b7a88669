"""Schema, migrations and constraints, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from attrap.adapters.registry import AdapterSpec, sync_administrations
from attrap.store.db import Database, open_database
from attrap.store.models import (
    Act,
    Administration,
    Base,
    Document,
    DocumentStatus,
    Hit,
    Notification,
    described_by_models,
)
from attrap.store.queries import HitFilter, count_hits, hit_to_json, search_hits

CONTRACT_TABLES = {
    "administrations",
    "documents",
    "pages",
    "acts",
    "hits",
    "notifications",
    "crawl_runs",
}


def test_migrations_match_models(database: Database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": described_by_models}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert set(inspect(connection).get_table_names()) >= CONTRACT_TABLES


def test_upgrade_is_idempotent(database_url: str):
    open_database(database_url).engine.dispose()
    again = open_database(database_url)
    with again.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
    again.engine.dispose()


def add_hit(database: Database, *, url: str = "https://x.gouv.fr/a.pdf") -> int:
    with database.session() as session:
        session.merge(
            Administration(
                code="13",
                name="Préfecture des Bouches-du-Rhône",
                kind="departement",
                department="13",
                timezone="Europe/Paris",
                engine="dsfr",
                enabled=True,
            )
        )
        document = Document(
            administration_code="13",
            url=url,
            title="RAA n°13-2024-123",
            published_on=dt.date(2024, 7, 12),
            sha256="ab" * 32,
            status="matched",
        )
        act = Act(
            document=document,
            number="13-2024-07-10-00003",
            title="Arrêté <script>x</script>",
            signed_on=dt.date(2024, 7, 10),
            page_start=4,
            page_end=6,
        )
        hit = Hit(
            act=act,
            document=document,
            category="drone",
            score=0.98,
            terms=["L. 242-5"],
            snippet="… aéronefs …",
            page=4,
            rules_version="1",
        )
        session.add_all([document, act, hit])
        session.flush()
        return hit.id


def test_one_hit_per_act_and_category(database: Database):
    hit_id = add_hit(database)
    with pytest.raises(IntegrityError), database.session() as session:
        first = session.get(Hit, hit_id)
        assert first is not None
        session.add(
            Hit(
                act_id=first.act_id,
                document_id=first.document_id,
                category="drone",
                score=0.5,
                terms=[],
                snippet="",
                page=4,
                rules_version="1",
            )
        )


def test_one_notification_per_hit_and_channel(database: Database):
    hit_id = add_hit(database)
    with database.session() as session:
        session.add(Notification(hit_id=hit_id, channel="mastodon"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Notification(hit_id=hit_id, channel="mastodon"))


def test_document_url_is_unique(database: Database):
    add_hit(database)
    with pytest.raises(IntegrityError):
        add_hit(database)


def test_document_status_is_one_of_the_known(database: Database):
    hit_id = add_hit(database)
    with pytest.raises(IntegrityError), database.session() as session:
        hit = session.get(Hit, hit_id)
        assert hit is not None
        session.get_one(Document, hit.document_id).status = "fetchd"  # type: ignore[assignment]
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Document(administration_code="13", url="https://x.gouv.fr/b", status="new"))
    with database.session() as session:
        session.add(
            Document(
                administration_code="13", url="https://x.gouv.fr/c", status=DocumentStatus.FETCHED
            )
        )


def test_hit_json_shape_and_filters(database: Database):
    hit_id = add_hit(database)
    with database.session() as session:
        [hit] = search_hits(session, HitFilter(department="13", category="drone"))
        data = hit_to_json(hit)
        assert data["id"] == hit_id
        assert data["department"] == "13"
        assert data["act"] == {
            "number": "13-2024-07-10-00003",
            "title": "Arrêté <script>x</script>",
            "signed_on": "2024-07-10",
            "page_start": 4,
            "page_end": 6,
        }
        assert data["link"] == "https://x.gouv.fr/a.pdf#page=4"
        assert data["first_seen_at"].endswith("Z")
        assert count_hits(session, HitFilter(department="14")) == 0
        assert count_hits(session, HitFilter(since=dt.date(2024, 7, 11))) == 0
        assert count_hits(session, HitFilter(until=dt.date(2024, 7, 10))) == 1
        assert count_hits(session, HitFilter(query="AÉRONEFS".lower())) == 1


def test_datetimes_come_back_in_utc(database: Database):
    hit_id = add_hit(database)
    with database.session() as session:
        hit = session.get(Hit, hit_id)
        assert hit is not None
        assert hit.first_seen_at.tzinfo == dt.UTC


def test_processes_starting_together_sync_the_administrations_once(database: Database):
    # Two workers start at once: the second one's insert waits on the first's uncommitted row,
    # then must update it rather than fail on the primary key.
    if database.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's case (SQLite serialises them)")
    specs = [
        AdapterSpec(
            code="13",
            name="Bouches-du-Rhône",
            kind="departement",
            engine="dsfr",
            start_urls=["https://www.bouches-du-rhone.gouv.fr/raa"],
        ),
    ]
    renamed = [specs[0].model_copy(update={"name": "Préfecture des Bouches-du-Rhône"})]
    first = database.sessions()
    sync_administrations(first, specs)
    first.flush()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with database.session() as session:
                sync_administrations(session, renamed)
        except BaseException as exc:  # the assertion below names it
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive()  # waiting on the first transaction's row
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert errors == []
    with database.session() as session:
        rows = session.scalars(select(Administration)).all()
    assert [(row.code, row.name) for row in rows] == [("13", "Préfecture des Bouches-du-Rhône")]
