"""The matching-quality targets, measured by bench.evaluate on the labelled development corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from attrap.config import Settings
from bench.bulletins import CorpusAct, load_corpus
from bench.evaluate import Evaluation, evaluate, evaluate_templates, templates_report
from bench.templates import TEMPLATES


@pytest.fixture(scope="module")
def corpus() -> list[CorpusAct]:
    return load_corpus()


def assert_no_labelled_hit_on_negatives(evaluation: Evaluation) -> None:
    assert evaluation.negative_hits == []
    # Bans on civilian drones land in their own category, never in « drone ».
    assert {category for _, category in evaluation.other_hits} <= {"drone-interdiction"}


def test_born_digital_targets(corpus: list[CorpusAct], tmp_path: Path):
    evaluation = evaluate(corpus, "born-digital", Settings(), tmp_path, per_bulletin=4)

    assert evaluation.acts == len(corpus)
    for category in ("drone", "vsa"):
        score = evaluation.scores[category]
        assert score.recall == 1.0, evaluation.mistakes
        assert score.precision is not None and score.precision >= 0.95, evaluation.mistakes
    for category, score in evaluation.scores.items():
        assert score.recall in (None, 1.0), (category, evaluation.mistakes)
    assert_no_labelled_hit_on_negatives(evaluation)


def test_scanned_targets(corpus: list[CorpusAct], tmp_path: Path):
    """Drone and VSA orders and the drone-ban trap, scanned at a low resolution (for speed)."""
    chosen = [act for act in corpus if act.name[:2] in {"01", "03", "04", "08"}]
    settings = Settings.model_validate({"ocr": {"dpi": 200}})

    evaluation = evaluate(chosen, "scanned", settings, tmp_path, per_bulletin=4, scan_dpi=150)

    assert evaluation.ocr_pages == evaluation.pages
    for category in ("drone", "vsa"):
        recall = evaluation.scores[category].recall
        assert recall is not None and recall >= 0.95, evaluation.mistakes
    assert_no_labelled_hit_on_negatives(evaluation)


def bench_corpus(name: str) -> list[CorpusAct]:
    return load_corpus(Path(__file__).resolve().parent.parent / "bench" / "corpus" / name)


def test_varied_wordings_born_digital(tmp_path: Path):
    """The held-out set of other wordings and harder negatives (bench/corpus/varied)."""
    varied = bench_corpus("varied")

    evaluation = evaluate(varied, "born-digital", Settings(), tmp_path, per_bulletin=4)

    assert evaluation.acts_segmented_exactly == evaluation.acts == len(varied)
    for category, score in evaluation.scores.items():
        assert score.recall in (None, 1.0), (category, evaluation.mistakes)
        assert score.precision in (None, 1.0), (category, evaluation.mistakes)
    assert_no_labelled_hit_on_negatives(evaluation)


def test_adversarial_born_digital(tmp_path: Path):
    """Other codes' articles numbered like the CSI's, delegations, refusals, surnames, sommaires,
    and unusual positive wordings (bench/corpus/adversarial)."""
    adversarial = bench_corpus("adversarial")

    evaluation = evaluate(adversarial, "born-digital", Settings(), tmp_path, per_bulletin=4)

    assert evaluation.acts == len(adversarial)
    for category, score in evaluation.scores.items():
        assert score.recall in (None, 1.0), (category, evaluation.mistakes)
        assert score.precision in (None, 1.0), (category, evaluation.mistakes)
    assert_no_labelled_hit_on_negatives(evaluation)


def test_templates_evaluation_born_digital(tmp_path: Path):
    """bench.evaluate --templates: every template segmented exactly, every hit right."""
    rows = evaluate_templates(["born-digital"], Settings(), tmp_path)

    assert [row.template for row in rows] == list(TEMPLATES)
    for row in rows:
        assert row.set_aside_right, row.template
        assert row.acts_found == row.exact_pages == row.exact_numbers == row.exact_titles, row
        assert row.acts_found == row.acts_expected, row
        assert row.mistakes == []
    report = templates_report(rows)
    assert "| etat | born-digital | 11 | 4 / 4 | 4 | 4 | 4 | yes | 1.000 / 1.000 |" in report
    assert "| brouillage | born-digital | 1 | 0 | 0 | 1.000 | 1.000 |" in report
