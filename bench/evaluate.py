"""Matching quality: precision and recall per category on bulletins built from labelled acts.

The labelled acts (corpus/dev format) are shuffled and grouped into bulletins (cover, sommaire,
several acts), built born-digital and scanned by ``bench.bulletins``, then run through the whole
document path (extract → segment → match) exactly as ``attrap scan`` does. A hit counts for the
labelled act whose pages hold the hit's page; a hit on the cover or the sommaire, or a second hit
of one category on one act, is a false positive.

    python -m bench.evaluate [--corpus DIR] [--kinds born-digital,scanned] [--acts-per-bulletin 4]
    python -m bench.evaluate --templates [--kinds born-digital,scanned]

``--templates`` evaluates the fixture bulletins of every template of real RAA (``bench.templates``)
instead: per template, acts found against expected, exact page ranges, numbers and titles, and
act-level precision and recall per category (every category, bans and jamming included).

Categories that the labels do not use (e.g. ``drone-interdiction``, the bans on civilian drones,
which the corpus labels "none") cannot be scored against them: their hits are listed apart.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from attrap.config import Settings
from attrap.documents.extract import extract_document
from attrap.documents.segment import segment, segment_explained
from attrap.matching.matcher import Matcher
from bench.bulletins import Bulletin, CorpusAct, build_bulletin, load_corpus
from bench.templates import TEMPLATES, build, corpus_acts

KINDS = ("born-digital", "scanned")
# The categories of LEGAL.md that the labels speak about, even when no act of the set has them.
LABELLED_CATEGORIES = {
    "drone",
    "vsa",
    "videoprotection",
    "cameras-individuelles",
    "perimetre-protection",
}


@dataclass
class CategoryScore:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None


@dataclass
class Evaluation:
    kind: str
    bulletins: int = 0
    pages: int = 0
    ocr_pages: int = 0
    acts: int = 0
    acts_segmented_exactly: int = 0
    seconds: float = 0.0
    scores: dict[str, CategoryScore] = field(default_factory=dict)
    # (act, category) of labelled-category hits on acts labelled "none".
    negative_hits: list[tuple[str, str]] = field(default_factory=list)
    # (act or "outside acts", category) of hits in categories the labels do not use.
    other_hits: list[tuple[str, str]] = field(default_factory=list)
    # (act, category) of what was missed or wrongly found, to read when a score drops.
    mistakes: list[str] = field(default_factory=list)


def group(acts: Sequence[CorpusAct], per_bulletin: int, seed: int) -> list[list[CorpusAct]]:
    shuffled = list(acts)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i : i + per_bulletin] for i in range(0, len(shuffled), per_bulletin)]


def evaluate(
    acts: Sequence[CorpusAct],
    kind: str,
    settings: Settings,
    workdir: Path,
    *,
    per_bulletin: int = 4,
    scan_dpi: int = 200,
    seed: int = 0,
) -> Evaluation:
    """Build the bulletins of one kind, run the document path on them, and score the hits."""
    matcher = Matcher.from_settings(settings)
    labelled = LABELLED_CATEGORIES | {c for act in acts for c in act.categories}
    evaluation = Evaluation(kind=kind, scores={c: CategoryScore() for c in sorted(labelled)})
    for index, chosen in enumerate(group(acts, per_bulletin, seed)):
        bulletin = build_bulletin(
            chosen,
            workdir / f"{kind}-{index:02d}.pdf",
            scanned=kind == "scanned",
            number=f"{chosen[0].department}-2024-{100 + index}",
            scan_dpi=scan_dpi,
            seed=seed + index,
        )
        started = time.perf_counter()
        extraction = extract_document(bulletin.path, settings)
        segments = segment(extraction.pages)
        found = [(hit.category, hit.page) for act in segments for hit in matcher.match(act)]
        evaluation.seconds += time.perf_counter() - started
        evaluation.bulletins += 1
        evaluation.pages += len(extraction.pages)
        evaluation.ocr_pages += extraction.ocr_pages
        evaluation.acts += len(bulletin.acts)
        segmented = {(s.page_start, s.page_end) for s in segments}
        evaluation.acts_segmented_exactly += sum(
            (a.page_start, a.page_end) in segmented for a in bulletin.acts
        )
        _score(evaluation, bulletin, found, labelled)
    return evaluation


def _score(
    evaluation: Evaluation, bulletin: Bulletin, found: list[tuple[str, int]], labelled: set[str]
) -> None:
    per_act: Counter[tuple[str, str]] = Counter()
    for category, page in found:
        act = bulletin.act_on_page(page)
        source = act.source if act else f"page {page} (outside acts)"
        if category not in labelled:
            evaluation.other_hits.append((source, category))
            continue
        per_act[(source, category)] += 1
        score = evaluation.scores[category]
        if act is not None and category in act.categories and per_act[(source, category)] == 1:
            score.true_positives += 1
            continue
        score.false_positives += 1
        evaluation.mistakes.append(f"{bulletin.path.name}: {category} wrongly on {source}")
        if act is not None and not act.categories:
            evaluation.negative_hits.append((source, category))
    for act in bulletin.acts:
        for category in act.categories:
            if per_act[(act.source, category)] == 0:
                evaluation.scores[category].false_negatives += 1
                evaluation.mistakes.append(
                    f"{bulletin.path.name}: {category} missed on {act.source}"
                )


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def report(evaluations: Sequence[Evaluation]) -> str:
    lines = []
    for e in evaluations:
        lines.append(
            f"## {e.kind}: {e.bulletins} bulletins, {e.pages} pages ({e.ocr_pages} OCR), "
            f"{e.acts} labelled acts, {e.acts_segmented_exactly}/{e.acts} segmented exactly, "
            f"extract+segment+match {e.seconds:.1f} s"
        )
        lines.append(f"{'category':<24}{'TP':>4}{'FP':>4}{'FN':>4}{'precision':>11}{'recall':>8}")
        for category, s in e.scores.items():
            lines.append(
                f"{category:<24}{s.true_positives:>4}{s.false_positives:>4}"
                f"{s.false_negatives:>4}{_ratio(s.precision):>11}{_ratio(s.recall):>8}"
            )
        lines.append(f"hits on negatives: {len(e.negative_hits)} {e.negative_hits or ''}".rstrip())
        if e.other_hits:
            others = ", ".join(f"{c} on {a}" for a, c in e.other_hits)
            lines.append(f"hits in unlabelled categories: {others}")
        lines.extend(f"  {m}" for m in e.mistakes)
        lines.append("")
    return "\n".join(lines)


@dataclass
class TemplateEvaluation:
    """One template bulletin of one kind, against its truth."""

    template: str
    kind: str
    pages: int = 0
    acts_expected: int = 0
    acts_found: int = 0
    exact_pages: int = 0  # expected acts found with exactly their page range…
    exact_numbers: int = 0  # …and their number
    exact_titles: int = 0  # …and their title as published
    set_aside_right: bool = False  # exactly the cover and sommaire pages set aside
    seconds: float = 0.0
    scores: dict[str, CategoryScore] = field(default_factory=dict)
    mistakes: list[str] = field(default_factory=list)


def evaluate_template(
    name: str, kind: str, settings: Settings, matcher: Matcher, workdir: Path
) -> TemplateEvaluation:
    template = TEMPLATES[name]()
    built = build(template, workdir / f"{name}-{kind}.pdf", scanned=kind == "scanned")
    started = time.perf_counter()
    segmentation = segment_explained(extract_document(built.path, settings).pages)
    acts = segmentation.acts
    found = [(act, hit) for act in acts for hit in matcher.match(act)]
    result = TemplateEvaluation(name, kind, seconds=time.perf_counter() - started)
    result.pages = len(template.pages)
    result.acts_expected, result.acts_found = len(template.acts), len(acts)
    result.set_aside_right = tuple(s.page for s in segmentation.set_aside) == template.set_aside
    by_range = {(a.page_start, a.page_end): a for a in acts}
    for expected in template.acts:
        act = by_range.get((expected.page_start, expected.page_end))
        if act is None:
            result.mistakes.append(f"{name}/{kind}: act p. {expected.page_start} not found")
            continue
        result.exact_pages += 1
        result.exact_numbers += act.number == expected.number
        result.exact_titles += act.title == expected.title
        if act.title != expected.title:
            result.mistakes.append(f"{name}/{kind}: title {act.title!r}")
    categories = set(matcher.categories)
    result.scores = {c: CategoryScore() for c in sorted(categories)}
    counted: Counter[tuple[int, str]] = Counter()
    for _act, hit in found:
        owner = next(
            (i for i, e in enumerate(template.acts) if e.page_start <= hit.page <= e.page_end),
            None,
        )
        key = (owner if owner is not None else -hit.page, hit.category)
        counted[key] += 1
        expected_here = owner is not None and hit.category in template.acts[owner].categories
        if expected_here and counted[key] == 1:
            result.scores[hit.category].true_positives += 1
        else:
            result.scores[hit.category].false_positives += 1
            result.mistakes.append(f"{name}/{kind}: {hit.category} wrongly on p. {hit.page}")
    for i, expected in enumerate(template.acts):
        for category in expected.categories:
            if counted[(i, category)] == 0:
                result.scores[category].false_negatives += 1
                result.mistakes.append(f"{name}/{kind}: {category} missed p. {expected.page_start}")
    return result


def evaluate_templates(
    kinds: Sequence[str], settings: Settings, workdir: Path
) -> list[TemplateEvaluation]:
    matcher = Matcher.from_settings(settings)
    return [
        evaluate_template(name, kind, settings, matcher, workdir)
        for kind in kinds
        for name in TEMPLATES
    ]


def _sum_scores(rows: Sequence[TemplateEvaluation]) -> dict[str, CategoryScore]:
    total: dict[str, CategoryScore] = {}
    for row in rows:
        for category, score in row.scores.items():
            into = total.setdefault(category, CategoryScore())
            into.true_positives += score.true_positives
            into.false_positives += score.false_positives
            into.false_negatives += score.false_negatives
    return total


def templates_report(rows: Sequence[TemplateEvaluation]) -> str:
    """Markdown tables: segmentation per template, then precision and recall per category."""
    lines = [
        "| template | kind | pages | acts found / expected | exact pages | exact numbers "
        "| exact titles | cover+sommaire set aside | drone P / R | all categories P / R | s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for row in rows:
        drone = row.scores.get("drone", CategoryScore())
        every = _sum_scores([row])
        all_tp = sum(s.true_positives for s in every.values())
        all_fp = sum(s.false_positives for s in every.values())
        all_fn = sum(s.false_negatives for s in every.values())
        whole = CategoryScore(all_tp, all_fp, all_fn)
        lines.append(
            f"| {row.template} | {row.kind} | {row.pages} | {row.acts_found} / {row.acts_expected} "
            f"| {row.exact_pages} | {row.exact_numbers} | {row.exact_titles} "
            f"| {'yes' if row.set_aside_right else 'NO'} "
            f"| {_ratio(drone.precision)} / {_ratio(drone.recall)} "
            f"| {_ratio(whole.precision)} / {_ratio(whole.recall)} | {row.seconds:.1f} |"
        )
    lines += [
        "",
        "| category | kind | TP | FP | FN | precision | recall |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in dict.fromkeys(row.kind for row in rows):
        for category, s in _sum_scores([r for r in rows if r.kind == kind]).items():
            lines.append(
                f"| {category} | {kind} | {s.true_positives} | {s.false_positives} "
                f"| {s.false_negatives} | {_ratio(s.precision)} | {_ratio(s.recall)} |"
            )
    mistakes = [m for row in rows for m in row.mistakes]
    lines += ["", *(f"- {m}" for m in mistakes)] if mistakes else []
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="folder of labelled acts")
    parser.add_argument("--kinds", default=",".join(KINDS), help="born-digital,scanned")
    parser.add_argument("--acts-per-bulletin", type=int, default=4)
    parser.add_argument("--scan-dpi", type=int, default=200, help="resolution of the scans")
    parser.add_argument("--seed", type=int, default=0, help="shuffles acts into bulletins")
    parser.add_argument(
        "--templates", action="store_true", help="the fixture bulletin of every real template"
    )
    parser.add_argument(
        "--template-acts",
        action="store_true",
        help="the templates' acts, laid out in this script's bulletins instead of their own",
    )
    arguments = parser.parse_args(argv)
    settings = Settings()
    if arguments.templates:
        kinds = arguments.kinds.split(",")
        if unknown := set(kinds) - set(KINDS):
            parser.error(f"unknown kinds {sorted(unknown)}; use {', '.join(KINDS)}")
        with tempfile.TemporaryDirectory(prefix="attrap-evaluate-") as scratch:
            rows = evaluate_templates(kinds, settings, Path(scratch))
        print(f"{len(TEMPLATES)} templates, rules {Matcher.from_settings(settings).version}\n")
        print(templates_report(rows))
        return
    acts = corpus_acts() if arguments.template_acts else load_corpus(arguments.corpus)
    evaluations = []
    with tempfile.TemporaryDirectory(prefix="attrap-evaluate-") as scratch:
        for kind in arguments.kinds.split(","):
            if kind not in KINDS:
                parser.error(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
            evaluations.append(
                evaluate(
                    acts,
                    kind,
                    settings,
                    Path(scratch),
                    per_bulletin=arguments.acts_per_bulletin,
                    scan_dpi=arguments.scan_dpi,
                    seed=arguments.seed,
                )
            )
    print(f"{len(acts)} labelled acts, rules {Matcher.from_settings(settings).version}\n")
    print(report(evaluations))


if __name__ == "__main__":
    main()
