"""bench/run_all.py: every benchmark is listed, a real one runs, and rewriting BENCHMARKS.md
replaces the generated sections only."""

from __future__ import annotations

from pathlib import Path

from bench.run_all import BENCHMARKS, DOC, HEADING, Benchmark, rewrite, run

REPO = Path(__file__).resolve().parents[1]
# Builders of test bulletins, and run_all itself.
HELPERS = {"__init__.py", "bulletins.py", "templates.py", "run_all.py"}


def test_every_benchmark_script_is_run():
    scripts = {p.name for p in (REPO / "bench").glob("*.py")} - HELPERS
    assert scripts == {b.script.name for b in BENCHMARKS}
    assert all(b.script.is_file() for b in BENCHMARKS)


def test_a_real_benchmark_rewrites_its_section_and_keeps_the_prose(tmp_path: Path):
    prose = "# Benchmarks\n\nHand-written reading of old numbers, | kept | as | is |.\n"
    doc = tmp_path / "BENCHMARKS.md"
    facts = next(b for b in BENCHMARKS if b.name == "facts_accuracy")
    outcome = run(facts)
    assert outcome.status == "ok", outcome.output
    first = rewrite(prose, [outcome])
    assert first.startswith(prose.rstrip())
    assert first.count(HEADING) == 1
    assert "<!-- run_all:facts_accuracy -->" in first and "periods" in first
    doc.write_text(first)

    failing = Benchmark("facts_accuracy", ("-c", "import sys; print('boom'); sys.exit(3)"), 60)
    second = rewrite(doc.read_text(), [run(failing)])
    assert second.startswith(prose.rstrip())
    assert second.count("<!-- run_all:facts_accuracy -->") == 1
    assert "exit 3" in second and "boom" in second
    assert "periods" not in second.split(HEADING)[1]


def test_a_benchmark_needing_a_database_is_skipped_without_one(monkeypatch):
    monkeypatch.delenv("ATTRAP_LOAD_DATABASE_URL", raising=False)
    load = next(b for b in BENCHMARKS if b.name == "load")
    outcome = run(load)
    assert outcome.status.startswith("skipped")
    assert "skipped" in rewrite("# B\n", [outcome])


def test_the_shipped_document_has_the_generated_part_after_the_prose():
    text = DOC.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    if HEADING in text:
        assert text.index(HEADING) > text.index("## Queries")
