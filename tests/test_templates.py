"""Every template of real bulletins (bench/templates.py), born-digital and scanned: exactly its
acts (numbers, page ranges, titles as published, no footer), exactly its hits, and the cover and
sommaire set aside."""

from __future__ import annotations

from pathlib import Path

import pytest
from rapidfuzz import fuzz

from attrap.config import Settings
from attrap.documents.extract import extract_document
from attrap.documents.segment import Segmentation, segment_explained
from attrap.matching.matcher import Matcher
from attrap.matching.normalise import fold
from bench.templates import TEMPLATES, BuiltTemplate, build

# OCR reads a title a little differently (« l□enregistrement » becomes « ITJenregistrement »):
# scanned titles are compared folded, at this similarity.
SCANNED_TITLE_SIMILARITY = 90


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_settings(Settings())


def run(built: BuiltTemplate, settings: Settings) -> Segmentation:
    extraction = extract_document(built.path, settings)
    assert extraction.ocr_pages == len(built.scanned_pages)
    return segment_explained(extraction.pages)


def check(built: BuiltTemplate, segmentation: Segmentation, matcher: Matcher) -> None:
    template = built.template
    acts = segmentation.acts
    assert [s.page for s in segmentation.set_aside] == list(template.set_aside)
    assert [(a.number, a.page_start, a.page_end) for a in acts] == [
        (e.number, e.page_start, e.page_end) for e in template.acts
    ]
    for act, expected in zip(acts, template.acts, strict=True):
        if built.scanned:
            similarity = fuzz.ratio(fold(act.title), fold(expected.title))
            assert similarity >= SCANNED_TITLE_SIMILARITY, (act.title, expected.title)
        else:
            assert act.title == expected.title
        hits = matcher.match(act)
        assert sorted(h.category for h in hits) == sorted(expected.categories), act.title
        # The footer (act id, title, page number) is no part of the act's text.
        assert not any(footer_line(page.text, act.number) for page in act.pages), act.number
        assert all(act.page_start <= h.page <= act.page_end for h in hits)


def footer_line(text: str, number: str | None) -> bool:
    """A line of the text carrying the act id between dashes, as footers do."""
    return number is not None and any(f"- {number} -" in line for line in text.splitlines())


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_born_digital_template(name: str, tmp_path: Path, matcher: Matcher):
    built = build(TEMPLATES[name](), tmp_path / f"{name}.pdf")
    check(built, run(built, Settings()), matcher)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_scanned_template(name: str, tmp_path: Path, matcher: Matcher):
    built = build(TEMPLATES[name](), tmp_path / f"{name}.pdf", scanned=True)
    check(built, run(built, Settings()), matcher)


def test_scanned_acts_inside_a_born_digital_bulletin(tmp_path: Path, matcher: Matcher):
    """Signed paper acts scanned into a born-digital bulletin: separators and sommaire have a
    text layer, the acts' own pages are OCR'd."""
    built = build(TEMPLATES["etat"](), tmp_path / "etat.pdf", scanned=[4, 6, 7, 9, 11])
    check(built, run(built, Settings()), matcher)


def test_reasons_for_setting_pages_aside(tmp_path: Path):
    reasons = {}
    for name in ("etat", "herault", "bas-rhin", "prefecture-de-police"):
        built = build(TEMPLATES[name](), tmp_path / f"{name}.pdf")
        reasons[name] = [s.reason for s in run(built, Settings()).set_aside]
    assert reasons == {
        "etat": ["couverture (« recueil », aucun texte d'acte)", "sommaire (titre « Sommaire »)"],
        "herault": [
            "couverture (« recueil », aucun texte d'acte)",
            "sommaire (2 titres d'actes sans texte d'acte)",
        ],
        "bas-rhin": [
            "couverture (« recueil », aucun texte d'acte)",
            "sommaire (titre « S O M M A I R E »)",
        ],
        "prefecture-de-police": [
            "couverture (« recueil », aucun texte d'acte)",
            "sommaire (tableau des arrêtés et de leurs pages)",
        ],
    }


def test_a_separator_page_and_the_acts_own_heading_are_one_act(tmp_path: Path):
    """The State template's drone order: separator « 20250922 AP drone SGO », then its own
    heading « Arrêté n°2025-00629 »: one act, numbered by the bulletin's act id."""
    built = build(TEMPLATES["etat"](), tmp_path / "etat.pdf")
    acts = run(built, Settings()).acts
    drone = next(a for a in acts if a.number == "13-2025-09-11-00004")
    assert (drone.page_start, drone.page_end) == (5, 7)
    assert drone.found_by == (
        "page séparatrice (n° 13-2025-09-11-00004), numéro propre de l'acte : 2025-00629"
    )
    assert "Arrêté n°2025-00629" in drone.pages[1].text
    assert "{signataire}" in drone.pages[0].text  # text stays, the title drops the placeholder
