"""Processing stored documents (extract → segment → match → store) and reprocessing them, on
SQLite and PostgreSQL, with real PDFs built by bench.bulletins."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrap.cli import app
from attrap.config import MatchingSettings, Settings, StorageSettings, load_settings
from attrap.pipeline import process_document, reprocess
from attrap.pipeline.document import ActPlace, pair_acts
from attrap.store.db import Database, open_database
from attrap.store.models import Act, Administration, Document, Hit, Page
from attrap.store.pdfs import PdfStore
from bench.bulletins import Bulletin, build_bulletin, load_corpus
from bench.templates import TEMPLATES
from bench.templates import build as build_template

runner = CliRunner()

RULES_V2 = """
version = "test-2"
[[categories]]
id = "drone"
label = "Drones"
min_score = 0.5
[[categories.signals]]
weight = 1.0
phrases = ["caméras installées sur des aéronefs"]

[[categories]]
id = "eau"
label = "Captages d'eau"
min_score = 0.5
[[categories.signals]]
weight = 1.0
phrases = ["captage"]
"""


@pytest.fixture(scope="module")
def bulletin(tmp_path_factory: pytest.TempPathFactory) -> Bulletin:
    """Drone (01), VSA (03) and water abstraction (09) acts behind a cover and a sommaire."""
    acts = {act.name[:2]: act for act in load_corpus()}
    out = tmp_path_factory.mktemp("bulletins") / "raa.pdf"
    return build_bulletin([acts["01"], acts["03"], acts["09"]], out)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(storage=StorageSettings(data_dir=tmp_path / "data"))


def add_document(
    database: Database, settings: Settings, pdf: Path, *, code: str = "13", url: str = ""
) -> int:
    """A downloaded document, as the crawl stage leaves it."""
    content = pdf.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    assert PdfStore.of(settings).put(content) == sha256
    with database.session() as session:
        session.merge(
            Administration(
                code=code, name=f"Préfecture {code}", kind="departement", department=code,
                timezone="Europe/Paris", engine="dsfr", enabled=True,
            )
        )  # fmt: skip
        document = Document(
            administration_code=code,
            url=url or f"https://www.example.gouv.fr/{code}/{sha256[:8]}.pdf",
            title="RAA spécial",
            sha256=sha256,
            size=len(content),
            status="fetched",
        )
        session.add(document)
        session.flush()
        return document.id


def snapshot(database: Database) -> dict[str, object]:
    with database.session() as session:
        return {
            "acts": [
                (a.id, a.number, a.page_start, a.page_end, a.signed_on, a.title)
                for a in session.scalars(select(Act).order_by(Act.id))
            ],
            "hits": [
                (h.id, h.act_id, h.category, h.first_seen_at, h.page, h.rules_version)
                for h in session.scalars(select(Hit).order_by(Hit.id))
            ],
            "pages": session.scalar(select(func.count()).select_from(Page)),
        }


def test_process_document_stores_pages_acts_and_hits(
    database: Database, settings: Settings, bulletin: Bulletin
):
    document_id = add_document(database, settings, bulletin.path)

    new_hit_ids = process_document(database, settings, document_id)

    with database.session() as session:
        document = session.get_one(Document, document_id)
        assert (document.status, document.error) == ("matched", None)
        assert document.page_count == bulletin.page_count
        assert [p.number for p in document.pages] == list(range(1, bulletin.page_count + 1))
        assert {p.source for p in document.pages} == {"text-layer"}
        acts = [(a.number, a.page_start, a.page_end) for a in document.acts]
        assert acts == [(a.number, a.page_start, a.page_end) for a in bulletin.acts]
        hits = session.scalars(select(Hit).order_by(Hit.id)).all()
        assert sorted(h.id for h in hits) == sorted(new_hit_ids)
        by_category = {h.category: h for h in hits}
        assert set(by_category) == {"drone", "vsa"}
        drone_act, vsa_act = bulletin.acts[0], bulletin.acts[1]
        drone = by_category["drone"]
        assert drone.act.number == drone_act.number
        assert drone_act.page_start <= drone.page <= drone_act.page_end
        assert drone.act.signed_on.isoformat() == "2024-07-10"
        assert "caméras installées sur des aéronefs" in drone.terms
        assert "aéronefs" in drone.snippet
        assert drone.rules_version and drone.first_seen_at is not None
        assert by_category["vsa"].act.number == vsa_act.number


def test_processing_twice_changes_nothing(
    database: Database, settings: Settings, bulletin: Bulletin
):
    document_id = add_document(database, settings, bulletin.path)
    assert process_document(database, settings, document_id)
    before = snapshot(database)

    assert process_document(database, settings, document_id) == []

    assert snapshot(database) == before


def test_a_broken_document_is_recorded_as_failed(
    database: Database, settings: Settings, bulletin: Bulletin, tmp_path: Path
):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"<html>Service indisponible</html>")
    broken_id = add_document(database, settings, broken)
    missing_id = add_document(database, settings, bulletin.path)
    for stored in PdfStore.of(settings).directory.glob("*.pdf"):
        if stored.read_bytes() != broken.read_bytes():
            stored.unlink()

    assert process_document(database, settings, broken_id) == []
    assert process_document(database, settings, missing_id) == []
    assert process_document(database, settings, 999_999) == []  # no such document

    with database.session() as session:
        broken_document = session.get_one(Document, broken_id)
        assert broken_document.status == "failed"
        assert "pas un fichier PDF" in (broken_document.error or "")
        missing = session.get_one(Document, missing_id)
        assert missing.status == "failed"
        assert "impossible d'ouvrir le fichier" in (missing.error or "")
        assert session.scalar(select(func.count()).select_from(Act)) == 0


def test_reprocess_keeps_hits_that_still_match(
    database: Database, settings: Settings, bulletin: Bulletin, tmp_path: Path
):
    document_id = add_document(database, settings, bulletin.path)
    other_id = add_document(database, settings, bulletin.path, code="56")
    process_document(database, settings, document_id)
    process_document(database, settings, other_id)
    with database.session() as session:
        drone_before = session.scalars(
            select(Hit).where(Hit.document_id == document_id, Hit.category == "drone")
        ).one()
        drone_before_id, seen_before = drone_before.id, drone_before.first_seen_at
    # The PDF is gone: reprocessing works on stored text only.
    shutil.rmtree(PdfStore.of(settings).directory)
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES_V2, encoding="utf-8")
    changed = settings.model_copy(update={"matching": MatchingSettings(rules=str(rules))})

    summary = reprocess(database, changed, ["13"])

    assert (summary.documents, summary.failed) == (1, 0)
    assert (summary.kept_hits, summary.removed_hits, len(summary.new_hit_ids)) == (1, 1, 1)
    with database.session() as session:
        hits = {
            h.category: h
            for h in session.scalars(select(Hit).where(Hit.document_id == document_id))
        }
        assert set(hits) == {"drone", "eau"}
        assert (hits["drone"].id, hits["drone"].first_seen_at) == (drone_before_id, seen_before)
        assert hits["drone"].rules_version == "test-2"
        assert summary.new_hit_ids == [hits["eau"].id]
        untouched = session.scalars(select(Hit).where(Hit.document_id == other_id)).all()
        assert {h.category for h in untouched} == {"drone", "vsa"}

    # Every administration: the first document is unchanged, the other one now changes too.
    again = reprocess(database, changed, None)
    assert (again.documents, again.kept_hits, again.removed_hits) == (2, 3, 1)
    assert len(again.new_hit_ids) == 1


def hit_identities(database: Database) -> dict[str, tuple[int, object]]:
    with database.session() as session:
        return {h.category: (h.id, h.first_seen_at) for h in session.scalars(select(Hit))}


def test_reprocess_keeps_hits_of_acts_whose_pages_moved(
    database: Database, settings: Settings, bulletin: Bulletin
):
    document_id = add_document(database, settings, bulletin.path)
    process_document(database, settings, document_id)
    before = hit_identities(database)
    drone_act, vsa_act = bulletin.acts[0], bulletin.acts[1]
    # What an older segmentation stored: the drone act started on the sommaire page before it,
    # and the VSA act's local number was not read and its pages ran one further.
    with database.session() as session:
        acts = {a.number: a for a in session.scalars(select(Act))}
        acts[drone_act.number].page_start -= 1
        acts[vsa_act.number].number = None
        acts[vsa_act.number].page_end += 1

    summary = reprocess(database, settings, None)

    assert (summary.kept_hits, summary.removed_hits, summary.new_hit_ids) == (2, 0, [])
    assert hit_identities(database) == before
    with database.session() as session:
        acts = [(a.number, a.page_start, a.page_end) for a in session.scalars(select(Act))]
        assert sorted(acts) == sorted((a.number, a.page_start, a.page_end) for a in bulletin.acts)


def test_reprocess_keeps_the_hit_of_an_act_a_new_segmentation_merged(
    database: Database, settings: Settings, tmp_path: Path
):
    """Older segmentations made the State template's separator page one act and the act's own
    heading (« Arrêté n°2025-00629 ») another, which held the drone hit. Re-segmented, they are
    one act numbered by the bulletin's act id: the hit is kept, not notified again."""
    built = build_template(TEMPLATES["etat"](), tmp_path / "etat.pdf")
    document_id = add_document(database, settings, built.path)
    process_document(database, settings, document_id)
    before = hit_identities(database)
    with database.session() as session:
        merged = session.scalars(select(Act).where(Act.number == "13-2025-09-11-00004")).one()
        own = Act(
            document_id=document_id,
            number="2025-00629",
            page_start=6,
            page_end=7,
            title="Arrêté autorisant la captation",
        )
        session.add(own)
        merged.page_end = 5
        own.hits.extend(merged.hits)
        merged.hits.clear()

    summary = reprocess(database, settings, None)

    assert (summary.new_hit_ids, summary.removed_hits) == ([], 0)
    assert hit_identities(database) == before
    with database.session() as session:
        drone = session.scalars(select(Hit).where(Hit.category == "drone")).one()
        assert (drone.act.number, drone.act.page_start, drone.act.page_end) == (
            "13-2025-09-11-00004",
            5,
            7,
        )
        assert session.scalar(select(func.count()).select_from(Act)) == 4


def test_reprocess_tells_apart_another_act_on_the_same_pages(
    database: Database, settings: Settings, bulletin: Bulletin
):
    document_id = add_document(database, settings, bulletin.path)
    process_document(database, settings, document_id)
    before = hit_identities(database)
    with database.session() as session:
        vsa = session.scalars(select(Act).where(Act.number == bulletin.acts[1].number)).one()
        vsa.number = None
        vsa.title = "Arrêté portant autorisation de pêche scientifique dans l'étang de Berre"

    summary = reprocess(database, settings, None)

    assert (summary.kept_hits, summary.removed_hits, len(summary.new_hit_ids)) == (1, 1, 1)
    after = hit_identities(database)
    assert after["drone"] == before["drone"]
    assert after["vsa"][0] != before["vsa"][0]


def place(number: str | None, pages: tuple[int, int], title: str = "Arrêté") -> ActPlace:
    return ActPlace(number, pages[0], pages[1], title)


def test_pair_acts_by_number_wherever_their_pages_are():
    stored = [place("13-2024-07-10-00003", (3, 4)), place("2024/DDSP/12", (5, 6))]
    found = [place("2024/DDSP/12", (4, 7)), place("13-2024-07-10-00003", (2, 3))]
    assert pair_acts(stored, found) == {0: 1, 1: 0}
    # Different numbers are different acts, even on the same pages under the same title.
    assert pair_acts([place("2024-1", (3, 4))], [place("2024-2", (3, 4))]) == {}
    # Two stored acts sharing a number: the one whose pages overlap.
    twins = [place("2024-1", (3, 3)), place("2024-1", (8, 9))]
    assert pair_acts(twins, [place("2024-1", (9, 10))]) == {0: 1}


def test_pair_acts_without_number_by_pages_and_title():
    drone = "Arrêté autorisant la captation d'images au moyen de caméras aéroportées"
    water = "Arrêté portant déclaration d'utilité publique du captage du Pré de la Dame"
    stored = [place(None, (5, 5), water), place(None, (5, 6), drone)]
    # Re-segmented: both now start on page 4, the drone title gained its continuation line.
    found = [place(None, (4, 6), drone + " par la DDSP du Nord"), place(None, (4, 5), water)]
    assert pair_acts(stored, found) == {0: 1, 1: 0}
    # A number read this time only: still pages and title.
    assert pair_acts(stored, [place("2024-9", (5, 7), drone)]) == {0: 1}
    # No shared page, or another title: another act.
    assert pair_acts(stored, [place(None, (7, 8), drone)]) == {}
    assert pair_acts(stored, [place(None, (5, 6), "Arrêté portant fermeture d'un débit")]) == {}
    # Without titles at all, the pages decide.
    assert pair_acts([place(None, (3, 4), "")], [place(None, (4, 4), "")]) == {0: 0}


def test_reprocess_command(bulletin: Bulletin, config_file: Path):
    settings = load_settings(config_file)
    database = open_database(settings.database.url)
    process_document(database, settings, add_document(database, settings, bulletin.path))
    database.engine.dispose()

    neither = runner.invoke(app, ["reprocess", "-c", str(config_file)])
    assert neither.exit_code == 2
    result = runner.invoke(app, ["reprocess", "--all", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if re.search(r"\d", line)]
    # Documents, failures, acts, hits kept, new, removed.
    assert [int(n) for n in re.findall(r"\d+", rows[-1])] == [1, 0, 3, 2, 0, 0]
