"""Facts stored with the acts they describe, on SQLite and PostgreSQL: processing a real PDF
(born-digital and scanned through tesseract), publication lead time, reprocessing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from attrap.config import FactsSettings, Settings, StorageSettings
from attrap.pipeline import process_document, reprocess
from attrap.store.db import Database, open_database
from attrap.store.models import Act, ActFacts, ActPeriod, Administration, Document
from bench.bulletins import Bulletin, build_bulletin
from bench.facts_accuracy import CORPUS, as_corpus_act, load_set
from test_processing import add_document

# Two Lyon orders: the example (one period) and the Fête des Lumières (four evenings).
LYON_ACTS = ("01-drone-lyon-1er-mai", "h12-lyon-lumieres-minuit")


def labelled(name: str) -> dict[str, object]:
    folder = CORPUS / ("holdout" if name.startswith("h") else "dev")
    (act,) = [a for a in load_set(folder) if a.name == name]
    return act.expected


@pytest.fixture(scope="module")
def lyon_bulletin(tmp_path_factory: pytest.TempPathFactory) -> Bulletin:
    acts = [
        as_corpus_act(a)
        for folder in ("dev", "holdout")
        for a in load_set(CORPUS / folder)
        if a.name in LYON_ACTS
    ]
    out = tmp_path_factory.mktemp("facts") / "raa-69.pdf"
    return build_bulletin(acts, out, department="69", published_on=dt.date(2025, 4, 30))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(storage=StorageSettings(data_dir=tmp_path / "data"))


def stored_facts(database: Database) -> dict[str, tuple[ActFacts, list[ActPeriod]]]:
    with database.session() as session:
        rows = session.scalars(select(Act).where(Act.facts.has()).order_by(Act.page_start))
        return {act.title: (act.facts, list(act.periods)) for act in rows if act.facts}


def publish(database: Database, document_id: int, published_on: dt.date, seen: dt.datetime):
    with database.session() as session:
        document = session.get_one(Document, document_id)
        document.published_on = published_on
        document.first_seen_at = seen


def test_facts_are_stored_with_lead_time_and_periods(
    database: Database, settings: Settings, lyon_bulletin: Bulletin
):
    document_id = add_document(database, settings, lyon_bulletin.path, code="69")
    # Seen on 30 April at 19:00 in Lyon: 14 hours before the 1 May order begins at 9:00.
    publish(
        database, document_id, dt.date(2025, 4, 30), dt.datetime(2025, 4, 30, 17, tzinfo=dt.UTC)
    )
    assert process_document(database, settings, document_id)

    facts = stored_facts(database)
    assert len(facts) == 2
    (may, may_periods), (lights, light_periods) = facts.values()
    expected = labelled("01-drone-lyon-1er-mai")
    assert [[p["start"], p["end"]] for p in may.data["periods"]] == expected["periods"]
    assert [c["insee"] for c in may.data["communes"]] == expected["communes"]
    assert may.data["operator"] == {"name": "DIPN du Rhône", "kind": "police-nationale"}
    assert may.data["max_cameras"] == 4
    assert "Article 2" in may.data["evidence"]["max_cameras"]
    assert may.first_start == dt.datetime(2025, 5, 1, 7, tzinfo=dt.UTC)
    assert may.published_at == dt.datetime(2025, 4, 30, 17, tzinfo=dt.UTC)
    assert may.publication_basis == "first_seen_at"
    assert (may.lead_seconds, may.late) == (14 * 3600, False)
    assert [(p.first_day, p.last_day) for p in may_periods] == [(dt.date(2025, 5, 1),) * 2]
    # Evenings ending at midnight touch one day each.
    assert [(p.first_day, p.last_day) for p in light_periods] == [
        (dt.date(2025, 12, day), dt.date(2025, 12, day)) for day in (5, 6, 7, 8)
    ]
    assert lights.late is False and lights.lead_seconds is not None


def test_an_order_read_after_it_began_is_late(
    database: Database, settings: Settings, lyon_bulletin: Bulletin
):
    document_id = add_document(database, settings, lyon_bulletin.path, code="69")
    publish(database, document_id, dt.date(2025, 5, 1), dt.datetime(2025, 5, 1, 10, tzinfo=dt.UTC))
    process_document(database, settings, document_id)
    may = next(iter(stored_facts(database).values()))[0]
    assert may.late is True
    assert may.lead_seconds == -3 * 3600  # seen at 12:00 in Lyon, began at 9:00


def test_reprocess_recomputes_facts_and_drops_those_of_acts_without_such_hits(
    database: Database, settings: Settings, lyon_bulletin: Bulletin
):
    document_id = add_document(database, settings, lyon_bulletin.path, code="69")
    process_document(database, settings, document_id)
    with database.session() as session:
        for row in session.scalars(select(ActFacts)):
            row.version, row.data = "0", {"periods": []}
        period_ids = set(session.scalars(select(ActPeriod.id)))

    reprocess(database, settings)

    facts = stored_facts(database)
    assert {row.version for row, _ in facts.values()} == {"1"}
    assert all(row.data["periods"] for row, _ in facts.values())
    with database.session() as session:
        assert set(session.scalars(select(ActPeriod.id))) == period_ids  # unchanged rows kept

    only_vsa = Settings(storage=settings.storage, facts=FactsSettings(categories=["vsa"]))
    reprocess(database, only_vsa)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ActFacts)) == 0
        assert session.scalar(select(func.count()).select_from(ActPeriod)) == 0


def test_facts_of_a_scanned_bulletin_read_through_tesseract(tmp_path: Path, settings: Settings):
    # OCR is the slow part and the same on both backends: SQLite only.
    settings.storage.data_dir.mkdir(parents=True)
    database = open_database(settings.database.url)
    # Préfecture de police orders: a period in the title only, arrondissements, Saint-Denis (93).
    wanted = ("08-vsa-gares-titre", "26-drone-pp-arrondissements", "27-drone-pp-stade-de-france")
    acts = [a for a in load_set(CORPUS / "dev") if a.name in wanted]
    out = tmp_path / "raa-pp.pdf"
    bulletin = build_bulletin([as_corpus_act(a) for a in acts], out, department="75", scanned=True)
    document_id = add_document(database, settings, bulletin.path, code="PP")
    with database.session() as session:
        session.merge(
            Administration(
                code="PP", name="Préfecture de police", kind="police", department="75",
                timezone="Europe/Paris", engine="police", enabled=True,
            )
        )  # fmt: skip
    process_document(database, settings, document_id)

    with database.session() as session:
        assert {p.source for p in session.get_one(Document, document_id).pages} == {"ocr"}
        found = [a.facts.data for a in session.scalars(select(Act).order_by(Act.page_start))
                 if a.facts]  # fmt: skip
    assert len(found) == len(acts)
    for act, data in zip(acts, found, strict=True):
        assert [[p["start"], p["end"]] for p in data["periods"]] == act.expected["periods"]
        assert [c["insee"] for c in data["communes"]] == act.expected["communes"]
        assert data["max_cameras"] == (act.expected["max_cameras"] or None)
