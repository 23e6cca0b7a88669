"""Matching rules: a TOML file of categories, each a list of weighted signals.

The shipped defaults live in ``rules.toml`` next to this module; ``[matching] rules`` in the
configuration names a file that replaces them. An act's score in a category is the sum of the
weights of the signals found in it (each signal counts once), clamped to [0, 1]; the act is a hit
when the score reaches the category's ``min_score``. Negative weights are context rules (« captage »
lowers « périmètre de protection »). A signal found only inside a « Vu … » citation counts
``citation_factor`` of its weight unless it sets ``citations = "full"`` (legal references are
cited precisely there).

Legal references are code-aware: a signal with ``article_of`` matches article numbers and counts
only for articles of that legal text (``[legal_texts]``: how acts name it). « L. 242-1 » of the
Code de la sécurité sociale is not the CSI's drone article. An article whose text cannot be told
counts only beside another positive signal of the category. ``[[exclusions]]`` name what an act
does that makes it no authorisation at all (it delegates signature, it refuses): found outside
citations, the act gets no hit in the listed categories.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attrap.config import Settings, validation_problems

DEFAULT_RULES = "rules.toml"


class RulesError(Exception):
    """Rules that cannot be used; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Terms(_Strict):
    """Phrases (matched after normalisation, fuzzily when long) and regexes on folded text."""

    phrases: list[str] = Field(default_factory=list)
    # Regular expressions on the folded text (lower case, no accents, punctuation → one space).
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"expression régulière invalide {pattern!r} : {exc}") from exc
        return patterns

    @model_validator(mode="after")
    def _not_empty(self) -> _Terms:
        if not self.phrases and not self.patterns:
            raise ValueError("il faut des phrases ou des motifs (phrases, patterns)")
        return self


class LegalText(_Terms):
    """How acts name a code or a law: « code de la sécurité intérieure », « CSI »."""

    # An article cited after a text of another kind is not its article: « L. 242-5 » is a code's,
    # even in « Vu le décret …, pris pour l'application de l'article L. 242-5 ».
    kind: Literal["code", "loi", "decret"]


class Signal(_Terms):
    name: str = ""
    weight: float = Field(ge=-1, le=1)
    citations: Literal["discount", "full"] = "discount"
    fuzzy: bool = True
    # The patterns match article numbers of this legal text (a key of ``legal_texts``).
    article_of: str | None = None


class Exclusion(_Terms):
    """What makes an act no authorisation in these categories, when the act itself says it."""

    name: str = ""
    categories: list[str] = Field(min_length=1)


class Category(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    # How people see the category (``attrap.matching.categories``): a short French name…
    label: str = Field(min_length=1)
    description: str = ""
    # …a hashtag for notifications (derived from the id when empty), a colour for the web page,
    hashtag: str = Field(default="", pattern=r"^(?:#\w+)?$")
    colour: str = Field(default="#52525b", pattern=r"^#[0-9a-fA-F]{6}$")
    # …and whether channels that do not list their categories send its hits.
    notify: bool = False
    min_score: float = Field(gt=0, le=1)
    signals: list[Signal] = Field(min_length=1)


class Rules(_Strict):
    version: str = Field(min_length=1, max_length=32)
    citation_factor: float = Field(default=0.25, ge=0, le=1)
    # Phrases shorter than this (folded, without spaces) match exactly only: fuzzy matching of
    # short words is how « Drôme » becomes « drone ».
    fuzzy_min_length: int = Field(default=24, ge=8)
    fuzzy_threshold: float = Field(default=90, ge=50, le=100)
    snippet_chars: int = Field(default=200, ge=40)
    legal_texts: dict[str, LegalText] = Field(default_factory=dict)
    categories: list[Category] = Field(min_length=1)
    exclusions: list[Exclusion] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _unique_ids(cls, categories: list[Category]) -> list[Category]:
        ids = [c.id for c in categories]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"identifiants de catégorie en double : {', '.join(duplicates)}")
        return categories

    @model_validator(mode="after")
    def _known_references(self) -> Rules:
        ids = {c.id for c in self.categories}
        for exclusion in self.exclusions:
            if unknown := sorted(set(exclusion.categories) - ids):
                raise ValueError(f"exclusion {exclusion.name!r} : catégories inconnues {unknown}")
        for category in self.categories:
            for signal in category.signals:
                if signal.article_of is not None and signal.article_of not in self.legal_texts:
                    raise ValueError(
                        f"{category.id} : article_of {signal.article_of!r} "
                        "n'est pas dans legal_texts"
                    )
        return self


def parse_rules(text: str, origin: str) -> Rules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{origin} : TOML invalide : {exc}") from exc
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{origin} : {validation_problems(exc)}") from exc


def load_rules(settings: Settings) -> Rules:
    """The rules file named in the configuration, else the shipped defaults."""
    if settings.matching.rules:
        path = Path(settings.matching.rules)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RulesError(f"{path} : lecture des règles impossible : {exc.strerror}") from exc
        return parse_rules(text, str(path))
    shipped = resources.files("attrap.matching") / DEFAULT_RULES
    return parse_rules(shipped.read_text(encoding="utf-8"), f"attrap/matching/{DEFAULT_RULES}")
