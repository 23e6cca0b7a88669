"""Facts extraction quality: per-field exact-match accuracy on the labelled field corpus.

Each act of ``bench/corpus/facts/<set>/`` (format: ``bench/corpus/facts/README.md``) is read by
``attrap.facts.extract_facts`` with the context its administration gives (time zone and territory
from ``prefectures/<code>.toml``, the labelled signature and publication dates), and every field
is compared with its label. A field is right only when it equals the label exactly: every period's
start and end to the second with its offset, the set of communes' INSEE codes, the operator's
short name, the maximum number of cameras, the set of purposes, the occasion (case and spaces
aside). « null » labels count: a value where the act gives none is an error.

    python -m bench.facts_accuracy [--set dev --set holdout --set holdout2] [--show-errors]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attrap.facts import Facts, act_context, extract_facts
from attrap.matching.normalise import fold
from bench.bulletins import CorpusAct

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "corpus" / "facts"
PREFECTURES = ROOT.parent / "prefectures"
SETS = ("dev", "holdout", "holdout2")


@dataclass(frozen=True)
class LabelledAct:
    name: str
    category: str
    administration: str
    signed_on: dt.date | None
    published_on: dt.date | None
    expected: dict[str, Any]
    text: str


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def load_set(folder: Path) -> list[LabelledAct]:
    acts = []
    for path in sorted(folder.glob("*.txt")):
        header, text = path.read_text(encoding="utf-8").split("\n---\n", 1)
        meta = tomllib.loads(header)
        acts.append(
            LabelledAct(
                name=path.stem,
                category=meta["category"],
                administration=str(meta["administration"]),
                signed_on=_date(meta.get("signed_on")),
                published_on=_date(meta.get("published_on")),
                expected=meta["expected"],
                text=text,
            )
        )
    return acts


def extract(act: LabelledAct) -> Facts:
    adapter = tomllib.loads((PREFECTURES / f"{act.administration}.toml").read_text("utf-8"))
    kind = adapter.get("kind", "departement")
    context = act_context(
        administration_code=adapter["code"],
        department=adapter.get("department", adapter["code"] if kind == "departement" else None),
        kind=kind,
        timezone=adapter.get("timezone", "Europe/Paris"),
        signed_on=act.signed_on,
        published_on=act.published_on,
    )
    return extract_facts(act.text, context)


# Each field: what the extractor found and what the label says, in comparable form.
def _periods(facts: Facts) -> list[tuple[str, str | None]]:
    return [(p.start.isoformat(), p.end.isoformat() if p.end else None) for p in facts.periods]


def _expected_periods(expected: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(start, end or None) for start, end in expected["periods"]]


FIELDS: dict[str, tuple[Callable[[Facts], Any], Callable[[dict[str, Any]], Any]]] = {
    "periods": (_periods, _expected_periods),
    "period starts": (
        lambda f: [start for start, _ in _periods(f)],
        lambda e: [start for start, _ in _expected_periods(e)],
    ),
    "period ends": (
        lambda f: [end for _, end in _periods(f)],
        lambda e: [end for _, end in _expected_periods(e)],
    ),
    "communes": (
        lambda f: sorted(c.insee or "?" + fold(c.name) for c in f.communes),
        lambda e: sorted(
            code if not code.startswith("?") else "?" + fold(code[1:]) for code in e["communes"]
        ),
    ),
    "operator": (
        lambda f: f.operator.name if f.operator else None,
        lambda e: e["operator"] or None,
    ),
    "max_cameras": (lambda f: f.max_cameras, lambda e: e["max_cameras"] or None),
    "purposes": (lambda f: sorted(f.purposes), lambda e: sorted(e["purposes"])),
    "event": (
        lambda f: fold(f.event) if f.event else None,
        lambda e: fold(e["event"]) if e["event"] else None,
    ),
}
TARGETS = {"periods": 0.95, "communes": 0.9, "max_cameras": 0.95}


@dataclass
class SetScore:
    acts: int
    right: dict[str, int]
    errors: list[tuple[str, str, Any, Any]]
    seconds: float

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.acts if self.acts else 0.0


def score(acts: Sequence[LabelledAct]) -> SetScore:
    right = dict.fromkeys(FIELDS, 0)
    errors: list[tuple[str, str, Any, Any]] = []
    started = time.perf_counter()
    results = [(act, extract(act)) for act in acts]
    seconds = time.perf_counter() - started
    for act, facts in results:
        for name, (found_of, expected_of) in FIELDS.items():
            found, expected = found_of(facts), expected_of(act.expected)
            if found == expected:
                right[name] += 1
            else:
                errors.append((act.name, name, found, expected))
    return SetScore(len(acts), right, errors, seconds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", choices=SETS, dest="sets")
    parser.add_argument("--show-errors", action="store_true")
    arguments = parser.parse_args(argv)
    sets = arguments.sets or list(SETS)
    scores = {name: score(load_set(CORPUS / name)) for name in sets}
    columns = "".join(f"{f'{name} ({s.acts})':>16}" for name, s in scores.items())
    print(f"{'field':<14}{columns}{'target':>10}")
    for field_name in FIELDS:
        row = f"{field_name:<14}" + "".join(
            f"{s.accuracy(field_name):>16.3f}" for s in scores.values()
        )
        target = TARGETS.get(field_name)
        print(row + (f"{'≥ ' + format(target, '.2f'):>10}" if target else ""))
    for name, s in scores.items():
        print(f"{name}: {s.acts} acts read in {s.seconds * 1000:.0f} ms")
    if arguments.show_errors:
        for name, s in scores.items():
            for act, field_name, found, expected in s.errors:
                print(f"[{name}] {act} · {field_name}")
                print(f"    found:    {found}\n    expected: {expected}")


if __name__ == "__main__":
    main()


def as_corpus_act(act: LabelledAct) -> CorpusAct:
    """The act in the matching corpus's shape, for ``bench.bulletins`` to lay out in a PDF."""
    return CorpusAct(act.name, (act.category,), act.administration, "", act.text.strip())
